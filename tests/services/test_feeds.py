"""The Atom feeds of updates: valid Atom, newest first, plain text escaped."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree

from proeftuin.services import feeds
from proeftuin.services.execution import Update

ATOM = "{http://www.w3.org/2005/Atom}"
T = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)


def test_a_feed_lists_updates_newest_first_with_links_to_the_plans() -> None:
    updates = [
        Update(2, "p2", "Bankjes", dt.date(2027, 3, 2), "Klaar <b>nu</b> & open", T),
        Update(1, "p1", "Speeltuin", dt.date(2027, 2, 1), "Begonnen", T - dt.timedelta(days=29)),
    ]
    content = feeds.atom(
        feed_url="https://x.nl/rondes/r/uitvoering.atom",
        page_url="https://x.nl/rondes/r/uitvoering",
        title="Ronde",
        author="Gemeente",
        updates=updates,
        plan_url="https://x.nl/plannen/{public_id}",
        empty_since=T,
    )
    root = ElementTree.fromstring(content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}content") for e in entries] == ["Klaar <b>nu</b> & open", "Begonnen"]
    assert entries[0].find(f"{ATOM}link").get("href") == "https://x.nl/plannen/p2"  # type: ignore[union-attr]
    self_link = [k for k in root.findall(f"{ATOM}link") if k.get("rel") == "self"]
    assert self_link[0].get("href") == "https://x.nl/rondes/r/uitvoering.atom"


def test_an_empty_feed_is_still_valid_atom() -> None:
    content = feeds.atom(
        feed_url="https://x.nl/f",
        page_url="https://x.nl/",
        title="Ronde",
        author="Gemeente",
        updates=[],
        plan_url="https://x.nl/plannen/{public_id}",
        empty_since=T,
    )
    root = ElementTree.fromstring(content)
    assert root.findtext(f"{ATOM}updated", "").startswith("2027-03-01T12:00:00")
