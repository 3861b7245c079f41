"""Atom feeds (RFC 4287) of the updates on funded plans, per round and per area, built with
feedgen. Links are full URLs on the public address (``base_url``), as in mails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from feedgen.feed import FeedGenerator

from proeftuin.services.execution import Update

ATOM_TYPE = "application/atom+xml; charset=utf-8"


def atom(
    *,
    feed_url: str,
    page_url: str,
    title: str,
    author: str,
    updates: Sequence[Update],
    plan_url: str,  # with "{public_id}" in it
    empty_since: dt.datetime,
) -> bytes:
    """The feed: newest update first. ``empty_since`` is the feed's updated time when it has no
    entries yet (Atom requires one)."""
    feed = FeedGenerator()
    feed.id(feed_url)
    feed.title(title)
    feed.author({"name": author})
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.link(href=feed_url, rel="self", type="application/atom+xml")
    feed.language("nl")
    feed.updated(max((u.created_at for u in updates), default=empty_since))
    for update in reversed(updates):  # feedgen puts each new entry first
        entry = feed.add_entry()
        link = plan_url.format(public_id=update.public_id)
        entry.id(f"{link}#bericht-{update.id}")
        entry.title(f"{update.title} ({update.posted_on.isoformat()})")
        entry.link(href=link, rel="alternate", type="text/html")
        entry.content(update.body, type="text")
        entry.published(update.created_at)
        entry.updated(update.created_at)
    return bytes(feed.atom_str(pretty=True))
