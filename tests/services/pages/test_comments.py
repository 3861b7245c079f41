"""The discussion as each viewer sees it: hidden and deleted comments never carry their text,
waiting ones only for their writer and staff."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from proeftuin.db import Database, transact, utcnow
from proeftuin.models import Comment, Phase, Plan
from proeftuin.services.pages import comments as pages
from proeftuin.services.pages.comments import CommentInput
from proeftuin.services.pages.declare import perform_now
from tests.factories import make_plan, make_resident, make_round, make_staff


def _world(db: Database) -> dict[str, object]:
    def build(session):  # type: ignore[no-untyped-def]
        round_ = make_round(session, phase=Phase.INDIENEN, costs=(), comments_premoderated=True)
        writer = make_resident(session, None, "Bram")
        writer.verified_at = utcnow()
        plan = make_plan(session, round_, f"p{round_.slug[-6:]}")
        staff = make_staff(session, area_ids=[round_.area_id])
        return {"slug": round_.slug, "plan": plan.public_id, "writer": writer.id, "staff": staff}

    return transact(db, build)


def test_each_viewer_sees_what_is_theirs_to_see(db: Database) -> None:
    world = _world(db)
    now = utcnow()
    post = {"secret_key": "s", "ip_key": "ip", "now": now, "base_url": ""}
    waiting = perform_now(
        db,
        pages.post,
        world["plan"],
        world["writer"],
        CommentInput("Eerst kijken", "tegen"),
        **post,
    )
    mine = perform_now(db, pages.discussion, world["plan"], world["writer"], now)
    assert [c.body for c in mine.arguments_against] == ["Eerst kijken"]
    assert perform_now(db, pages.discussion, world["plan"], None, now).empty
    staff = perform_now(
        db, pages.staff_discussion, world["staff"], world["slug"], world["plan"], now
    )
    assert staff.arguments_against[0].body == "Eerst kijken"
    perform_now(
        db,
        pages.decide,
        world["staff"],
        world["slug"],
        world["plan"],
        str(waiting),
        "verbergen",
        "Niet over dit plan.",
    )
    for view in (
        perform_now(db, pages.discussion, world["plan"], world["writer"], now),
        perform_now(db, pages.discussion, world["plan"], None, now),
        perform_now(db, pages.staff_discussion, world["staff"], world["slug"], world["plan"], now),
    ):
        (shown,) = view.arguments_against
        assert (shown.body, shown.hidden_reason) == ("", "Niet over dit plan.")
    export = perform_now(db, pages.discussion_csv, world["staff"], world["slug"], world["plan"])
    assert b"Eerst kijken" not in export.content and b"Niet over dit plan." in export.content


def test_the_edit_window_shows_in_the_view(db: Database) -> None:
    world = _world(db)
    now = utcnow()
    post = {"secret_key": "s", "ip_key": "ip", "now": now, "base_url": ""}
    perform_now(db, pages.post, world["plan"], world["writer"], CommentInput("Hallo"), **post)
    (fresh,) = perform_now(db, pages.discussion, world["plan"], world["writer"], now).conversation
    assert fresh.can_edit and fresh.can_delete
    later = now + dt.timedelta(minutes=16)
    (old,) = perform_now(db, pages.discussion, world["plan"], world["writer"], later).conversation
    assert not old.can_edit and old.can_delete
    assert transact(db, lambda s: s.scalar(select(Plan.id))) is not None
    assert transact(db, lambda s: s.scalar(select(Comment.id))) is not None
