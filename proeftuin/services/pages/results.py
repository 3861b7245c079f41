"""A round's result: the public pages and downloads once it is published, and for staff counting,
signing off (the proces-verbaal) and publishing.

``services.results`` counts and decides who may; ``services.open_data`` makes the published files.
The pages here only forward to them, and gather what one page shows into one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from proeftuin.services import open_data, results
from proeftuin.services.explain_nl import money as money
from proeftuin.services.explain_nl import number as number
from proeftuin.services.explain_nl import percent as percent
from proeftuin.services.explain_nl import render as render
from proeftuin.services.explain_nl import render_all as render_all
from proeftuin.services.open_data import Download as Download
from proeftuin.services.pages import declare
from proeftuin.services.permissions import Actor
from proeftuin.services.results import ResultView as ResultView
from proeftuin.services.results import StaffResult as StaffResult

TRACKERS_SHOWN = 1_000  # more than this: the check form and the download only


@dataclass(frozen=True)
class TrackersPage:
    """The published trackers, and whether the one a voter typed was counted."""

    view: ResultView
    typed: str
    found: bool | None  # None: nothing typed, or what was typed cannot be a tracker
    valid: bool  # nothing typed, or something that can be a tracker
    trackers: tuple[str, ...]  # empty when there are more than TRACKERS_SHOWN


# -- public pages ---------------------------------------------------------------------------------


@declare.read
def public_result(session: Session, slug: str) -> ResultView:
    """The published result; ``NotFound`` until it is published."""
    return results.public_view(session, slug)


@declare.read
def trackers_page(session: Session, slug: str, typed: str) -> TrackersPage:
    view = results.public_view(session, slug)
    found = open_data.receipt_counted(session, slug, typed) if typed else None
    trackers: tuple[str, ...] = ()
    if view.turnout.ballots <= TRACKERS_SHOWN:
        listing = open_data.trackers_file(session, slug)
        trackers = tuple(listing.content.decode("ascii").split())
    return TrackersPage(
        view=view,
        typed=typed,
        found=found,
        valid=not typed or open_data.normalise_receipt(typed) is not None,
        trackers=trackers,
    )


@declare.read
def pabulib_file(session: Session, slug: str) -> Download:
    return open_data.pabulib_file(session, slug)


@declare.read
def plans_csv(session: Session, slug: str) -> Download:
    return open_data.plans_csv(session, slug)


@declare.read
def result_json(session: Session, slug: str) -> Download:
    return open_data.result_json(session, slug)


@declare.read
def trackers_file(session: Session, slug: str) -> Download:
    return open_data.trackers_file(session, slug)


# -- staff pages ----------------------------------------------------------------------------------


@declare.read
def staff_result(session: Session, actor: Actor, slug: str) -> StaffResult:
    """What a moderator of the round's area sees of its result: nothing before close."""
    return results.staff_view(session, actor, slug)


@declare.read
def proces_verbaal(session: Session, actor: Actor, slug: str) -> StaffResult:
    """The record of the count; ``NotFound`` before the round is counted."""
    return results.proces_verbaal(session, actor, slug)


@declare.write
def count(session: Session, actor: Actor, slug: str, now: dt.datetime) -> None:
    results.count(session, actor, slug, now)


@declare.write
def sign_off(
    session: Session, actor: Actor, slug: str, *, confirmed: bool, decision: str, now: dt.datetime
) -> None:
    results.sign_off(session, actor, slug, confirmed=confirmed, decision=decision, now=now)


@declare.write
def publish(session: Session, actor: Actor, slug: str, now: dt.datetime) -> None:
    results.publish(session, actor, slug, now)
