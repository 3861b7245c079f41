from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from proeftuin.db import Database, read, transact, utcnow
from proeftuin.errors import Invalid, NotAllowed, NotFound, PhaseClosed
from proeftuin.models import (
    AuditEvent,
    Comment,
    CommentReport,
    OutboxMail,
    Phase,
    Plan,
    PlanStatus,
    Round,
)
from proeftuin.services import comments, lookup, moderation, retention
from proeftuin.services.comments import CommentInput, TooManyComments
from proeftuin.services.permissions import Actor
from tests.factories import make_plan, make_resident, make_round, make_staff

SECRET = "geheim"
NOW = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)


def _setup(db: Database, phase: Phase = Phase.INDIENEN, **settings: object) -> dict[str, object]:
    def build(session):  # type: ignore[no-untyped-def]
        round_ = make_round(session, phase=phase, costs=(), **settings)
        round_.area.council_name = "Wijkraad Noord"
        author = make_resident(session, f"auteur-{round_.slug}@example.nl", "Anna")
        reader = make_resident(session, None, "Bram")
        for resident in (author, reader):
            resident.verified_at = utcnow()
        plan = make_plan(session, round_, f"bank{round_.slug[-6:]}", author=author)
        staff = make_staff(session, area_ids=[round_.area_id])
        return {
            "plan": plan.public_id,
            "round": round_.id,
            "author": author.id,
            "reader": reader.id,
            "staff": staff,
        }

    return transact(db, build)


def _post(
    db,
    world,
    who="reader",
    data=CommentInput("Komt er ook een bankje bij de bushalte?", "vraag"),
    ip="ip-1",
    now=NOW,
):  # type: ignore[no-untyped-def]
    def run(session):  # type: ignore[no-untyped-def]
        plan = lookup.public_plan(session, world["plan"])
        made = comments.post_as_resident(
            session, plan, world[who], data, secret_key=SECRET, ip_key=ip, now=now,
            base_url="https://begroting.example",
        )  # fmt: skip
        return made.id

    return transact(db, run)


def _plan(session, world):  # type: ignore[no-untyped-def]
    return lookup.public_plan(session, world["plan"])


def test_a_question_is_shown_and_its_author_is_told(db: Database) -> None:
    world = _setup(db)
    comment_id = _post(db, world)
    stored = read(db, lambda s: s.get(Comment, comment_id))
    assert (stored.status, stored.kind, stored.role, stored.author_name) == (
        "zichtbaar", "vraag", "bewoner", "Bram",
    )  # fmt: skip
    mails = read(db, lambda s: list(s.scalars(select(OutboxMail))))
    assert [m.recipient for m in mails] == [f"auteur-ronde-{world['plan'][4:]}@example.nl"]
    assert "bushalte" in mails[0].body and f"/plannen/{world['plan']}#reacties" in mails[0].body


def test_the_author_answers_as_indiener_and_staff_as_the_council(db: Database) -> None:
    world = _setup(db)
    question = _post(db, world)
    answer = _post(db, world, "author", CommentInput("Ja, daar ook.", "voor", str(question)))
    staff: Actor = world["staff"]  # type: ignore[assignment]
    made = transact(
        db,
        lambda s: (
            comments.post_as_staff(
                s, staff, _plan(s, world), CommentInput("De gemeente kijkt mee.", "", str(question))
            ).id
        ),
    )
    rows = read(
        db, lambda s: {c.id: (c.role, c.kind, c.parent_id) for c in s.scalars(select(Comment))}
    )
    assert rows[answer] == ("indiener", "reactie", question)  # a reply is never an argument
    assert rows[made] == ("wijkraad", "reactie", question)
    sided = transact(
        db,
        lambda s: (
            comments.post_as_staff(s, staff, _plan(s, world), CommentInput("Mooi!", "voor")).kind
        ),
    )
    assert sided == "reactie"  # staff take no side
    assert read(
        db, lambda s: s.scalar(select(AuditEvent.action).where(AuditEvent.target_id == made))
    )


def test_one_level_of_replies_only(db: Database) -> None:
    world = _setup(db)
    question = _post(db, world)
    answer = _post(db, world, "author", CommentInput("Ja.", "", str(question)))
    with pytest.raises(Invalid):
        _post(db, world, "reader", CommentInput("En verder?", "", str(answer)))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (CommentInput("   "), "tekst"),
        (CommentInput("x" * 2_001), "tekst"),
        (CommentInput("Goed plan", "anders"), "soort"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(
    db: Database, data: CommentInput, field: str
) -> None:
    world = _setup(db)
    with pytest.raises(Invalid) as refused:
        _post(db, world, data=data)
    assert refused.value.field == field
    assert read(db, lambda s: s.scalar(select(Comment.id))) is None


def test_a_reply_to_another_plans_comment_is_not_found(db: Database) -> None:
    world = _setup(db)
    other = _setup(db)
    theirs = _post(db, other)
    with pytest.raises(NotFound):
        _post(db, world, data=CommentInput("Hallo", "", str(theirs)))


@pytest.mark.parametrize(
    ("phase", "settings", "is_open"),
    [
        (Phase.INDIENEN, {}, True),
        (Phase.BEOORDELEN, {}, True),
        (Phase.STEMMEN, {}, True),
        (Phase.GESLOTEN, {}, False),
        (Phase.GEPUBLICEERD, {}, False),
        (Phase.INDIENEN, {"comments_off": True}, False),
    ],
)
def test_comments_are_open_in_the_phases_the_round_allows(
    db: Database, phase: Phase, settings: dict[str, object], is_open: bool
) -> None:
    world = _setup(db, phase, **settings)
    if phase in (Phase.STEMMEN, Phase.GESLOTEN, Phase.GEPUBLICEERD):
        on_ballot = {"status": PlanStatus.OP_STEMBILJET.value, "official_cost": 1000}
        transact(db, lambda s: s.execute(update(Plan).values(**on_ballot)))
    if is_open:
        assert _post(db, world)
    else:
        with pytest.raises(PhaseClosed):
            _post(db, world)


def test_edit_within_15_minutes_and_delete(db: Database) -> None:
    world = _setup(db)
    comment_id = _post(db, world)
    later = NOW + dt.timedelta(minutes=10)
    transact(
        db,
        lambda s: comments.edit(
            s, _plan(s, world), str(comment_id), world["reader"], "Nieuw", later
        ),
    )
    stored = read(db, lambda s: s.get(Comment, comment_id))
    assert stored.body == "Nieuw" and stored.edited_at is not None
    with pytest.raises(NotAllowed):
        transact(
            db,
            lambda s: comments.edit(
                s, _plan(s, world), str(comment_id), world["author"], "x", later
            ),
        )
    too_late = NOW + dt.timedelta(minutes=16)
    with pytest.raises(PhaseClosed):
        transact(
            db,
            lambda s: comments.edit(
                s, _plan(s, world), str(comment_id), world["reader"], "x", too_late
            ),
        )
    transact(db, lambda s: comments.delete(s, _plan(s, world), str(comment_id), world["reader"]))
    stored = read(db, lambda s: s.get(Comment, comment_id))
    assert (stored.status, stored.body) == ("verwijderd", "")


def test_a_flood_from_one_account_or_address_is_limited(db: Database) -> None:
    world = _setup(db)
    for n in range(comments.PER_MINUTE.max_failures):
        _post(db, world, data=CommentInput(f"Reactie {n}"), ip=f"ip-{n}")
    with pytest.raises(TooManyComments) as refused:
        _post(db, world, data=CommentInput("Nog een"), ip="ip-nieuw")
    assert "veel reacties kort na elkaar" in str(refused.value)
    # The account may go on a few minutes later.
    _post(db, world, data=CommentInput("Later"), now=NOW + dt.timedelta(minutes=3))
    # One address is limited whoever posts from it.
    address = comments.PER_ADDRESS_MINUTE
    for n in range(address.max_failures):
        key = comments.ratelimit.hash_key(SECRET, f"r{n}")  # other accounts
        transact(db, comments._count_against_limits, key, "gedeeld", NOW + dt.timedelta(hours=1))
    with pytest.raises(TooManyComments):
        _post(db, world, "author", CommentInput("Van hetzelfde adres"), ip="gedeeld",
              now=NOW + dt.timedelta(hours=1))  # fmt: skip


def test_report_queue_hide_and_the_count_per_round(db: Database) -> None:
    world = _setup(db)
    comment_id = _post(db, world, data=CommentInput("Scheldwoorden"))
    transact(
        db,
        lambda s: comments.report(
            s, _plan(s, world), str(comment_id), world["author"], "Dit is kwetsend."
        ),
    )
    transact(
        db,
        lambda s: comments.report(
            s, _plan(s, world), str(comment_id), world["author"], "Nog eens."
        ),
    )
    assert read(db, lambda s: comments.reported_per_round(s, [world["round"]])) == {
        world["round"]: 1
    }
    work = read(db, lambda s: moderation.round_work(s, [world["round"]]))
    assert work[world["round"]].reported_comments == 1  # the staff dashboard's count
    with pytest.raises(Invalid):
        transact(
            db, lambda s: comments.report(s, _plan(s, world), str(comment_id), world["reader"], "x")
        )
    round_ = read(db, lambda s: s.get(Round, world["round"]))
    queued = read(db, lambda s: [(i.comment.id, i.reports) for i in comments.queue(s, round_)])
    assert queued == [(comment_id, ("Dit is kwetsend.",))]
    staff: Actor = world["staff"]  # type: ignore[assignment]
    with pytest.raises(Invalid):
        transact(
            db,
            lambda s: comments.decide(s, staff, _plan(s, world), str(comment_id), "verbergen", ""),
        )
    transact(
        db,
        lambda s: comments.decide(
            s, staff, _plan(s, world), str(comment_id), "verbergen", "Kwetsend taalgebruik."
        ),
    )
    stored = read(db, lambda s: s.get(Comment, comment_id))
    assert (stored.status, stored.hidden_reason) == ("verborgen", "Kwetsend taalgebruik.")
    assert read(db, lambda s: comments.reported_per_round(s, [world["round"]])) == {}
    work = read(db, lambda s: moderation.round_work(s, [world["round"]]))
    assert work[world["round"]].reported_comments == 0
    assert read(db, lambda s: comments.queue(s, round_)) == []
    actions = read(db, lambda s: list(s.scalars(select(AuditEvent.action))))
    assert "comment.verbergen" in actions


def test_pre_moderation_and_one_pinned_answer(db: Database) -> None:
    world = _setup(db, comments_premoderated=True)
    question = _post(db, world)
    assert read(db, lambda s: s.get(Comment, question).status) == "wacht"
    assert read(db, lambda s: comments.visible_counts(s, [1, 2, 3])) == {}
    staff: Actor = world["staff"]  # type: ignore[assignment]
    round_ = read(db, lambda s: s.get(Round, world["round"]))
    with pytest.raises(Invalid):  # waiting: approve or hide it, nothing else
        transact(db, lambda s: comments.decide(s, staff, _plan(s, world), str(question), "in_orde"))
    assert [i.comment.id for i in read(db, lambda s: comments.queue(s, round_))] == [question]
    transact(db, lambda s: comments.decide(s, staff, _plan(s, world), str(question), "goedkeuren"))
    first = _post(db, world, "author", CommentInput("Ja.", "", str(question)))
    second = _post(db, world, "author", CommentInput("Ook.", "", str(question)))
    for comment_id in (first, second):
        transact(
            db,
            lambda s, c=comment_id: comments.decide(
                s, staff, _plan(s, world), str(c), "goedkeuren"
            ),
        )
        transact(
            db,
            lambda s, c=comment_id: comments.decide(
                s, staff, _plan(s, world), str(c), "vastzetten"
            ),
        )
    pinned = read(db, lambda s: list(s.scalars(select(Comment.id).where(Comment.pinned))))
    assert pinned == [second]
    with pytest.raises(Invalid):
        transact(
            db, lambda s: comments.decide(s, staff, _plan(s, world), str(question), "vastzetten")
        )


def test_staff_of_another_area_cannot_reach_the_plan(db: Database) -> None:
    world = _setup(db)
    outsider = transact(db, lambda s: make_staff(s, area_ids=[]))
    with pytest.raises(NotAllowed):
        read(db, lambda s: lookup.staff_plan(s, outsider, world["plan"]))


def test_the_retention_purge_unlinks_comments_from_residents(db: Database) -> None:
    world = _setup(db)
    comment_id = _post(db, world)
    transact(
        db,
        lambda s: comments.report(
            s, _plan(s, world), str(comment_id), world["author"], "Niet netjes."
        ),
    )
    assert transact(db, comments.unlink_residents, [world["round"]]) == 1
    stored = read(db, lambda s: s.get(Comment, comment_id))
    assert stored.resident_id is None and stored.author_name == "Bram"
    assert read(db, lambda s: s.scalar(select(CommentReport.resident_id))) is None
    assert retention.Purged.__dataclass_fields__["comments"]
