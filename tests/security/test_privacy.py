"""Privacy. What the app logs and audits holds no code, address, cookie or
ballot; and ``proeftuin purge`` removes personal data after the retention period while the
anonymous ballots and the results stay exactly as they were.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from proeftuin.cli import main
from proeftuin.config import Settings
from proeftuin.db import Database, read, transact
from proeftuin.models import (
    AuditEvent,
    Ballot,
    BallotChoice,
    OutboxMail,
    Plan,
    RateLimit,
    Resident,
    Result,
    Round,
    StaffSession,
    StaffUser,
    Support,
    UsedToken,
    VotingCode,
)
from proeftuin.services import codes as code_service
from proeftuin.services import retention
from proeftuin.web.app import SESSION_COOKIE, create_app
from tests.security.conftest import (
    MODERATOR_EMAIL,
    PASSWORD,
    RESIDENT_EMAIL,
    Client,
    World,
    ballot_plans,
    build_world,
    changed_tables,
    form_on,
    row_counts,
    session_of,
    snapshot,
    vote,
)

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
CODE = re.compile(r"\b[0-9A-Z]{4}-?[0-9A-Z]{4}-?[0-9A-Z]{4}\b")
TOKEN = re.compile(rb"[A-Za-z0-9_-]{43}")  # this visit's CSRF token, on every page


# --- the flow, with everything the app says recorded ------------------------------------------


@pytest.fixture
def logged_world(settings: Settings, db: Database) -> Iterator[World]:
    """The world, served with the access log on (one JSON line per request on stdout)."""
    logged = dataclasses.replace(settings, access_log=True)
    built = build_world(create_app(logged, db), db, logged)
    yield built
    for client in built.clients:
        client.__exit__(None, None, None)


@dataclasses.dataclass
class Flow:
    codes: list[str]  # every letter code that was typed or shown
    receipts: list[str]
    secrets: set[str]  # passwords, TOTP secrets, sign-in links: shown once, never kept
    clients: list[Client]


def sign_in_by_mail(world: World, client: Client, email: str) -> None:
    """The real way: the form, the mail in the outbox, the link in it."""
    client.get("/inloggen")
    assert client.submit("/inloggen", {"email": email, "next": "/profiel"}).status_code == 200

    def last_mail(session: Session) -> str:
        mail = session.scalar(
            select(OutboxMail).where(OutboxMail.recipient == email).order_by(OutboxMail.id.desc())
        )
        assert mail is not None
        return mail.body

    link = re.search(r"https?://\S+", read(world.db, last_mail))
    assert link is not None
    token = link.group(0).split("token=", 1)[1]
    client.get("/inloggen/link", params={"token": token})
    assert client.submit("/inloggen/link", {"token": token}).status_code == 303


def run_flow(world: World) -> Flow:
    """Sign-ins (right and wrong), a plan and support, online votes and a changed vote, wrong
    codes, new codes and their CSV, a revoked code, a paper ballot, every moderation decision
    (with an address and a code typed into the reasons), staff management, closing, counting,
    sign-off, publication, the audit export, signing out."""
    voting = world.voting_slug
    plans = ballot_plans(world.db, voting)
    typed = list(world.codes[:4])
    flow = Flow(codes=typed, receipts=[], secrets={PASSWORD}, clients=[])

    newcomer = world.client("anonymous")
    sign_in_by_mail(world, newcomer, "nieuwe.bewoner@example.nl")
    newcomer.submit("/profiel", {"display_name": "Nieuwe Bewoner", "postcode": "9411 AB"})
    resident = world.client("anonymous")
    sign_in_by_mail(world, resident, RESIDENT_EMAIL)
    proposal = resident.submit(
        f"/rondes/{world.proposal_slug}/plannen/nieuw",
        {
            "title": "Speelplek achter de school",
            "summary": "Een plek om te spelen.",
            "body": "Bel mij: fatima.dekker@example.nl",
            "estimated_cost": "2500",
            "location": "School",
            "theme": "spelen",
        },
    )
    assert proposal.status_code == 303, proposal.text
    own_plan = proposal.headers["location"].rsplit("/", 1)[1]
    newcomer.submit(f"/plannen/{own_plan}/steun", {"steun": "1"})

    voter = world.client("anonymous")
    flow.receipts.append(vote(voter, typed[0], {plans[0]: 1}))
    flow.receipts.append(vote(voter, typed[0], {plans[1]: 1, plans[2]: 1}))  # changed
    flow.receipts.append(vote(world.client("anonymous"), typed[1], {plans[3]: 1}))
    stranger = world.client("anonymous")
    for wrong in ("AAAA-BBBB-CCCC", "ZZZZ-ZZZZ-ZZZZ"):
        stranger.submit("/stem", {"code": wrong})
        flow.codes.append(wrong)

    wrong_staff = world.client("anonymous")
    wrong_staff.get("/beheer/inloggen")
    wrong_staff.submit("/beheer/inloggen", {"email": MODERATOR_EMAIL, "password": "niet goed"})
    moderator = world.client("moderator")
    totp = moderator.get("/beheer/tweestapsverificatie").text
    flow.secrets |= {"".join(m.split()) for m in re.findall(r"<code>([A-Z2-7 ]{16,})</code>", totp)}
    letters = moderator.submit(f"/beheer/rondes/{voting}/codes", {"count": "2"})
    shown = CODE.findall(letters.text)
    flow.codes += shown
    assert (
        moderator.submit(f"/beheer/rondes/{voting}/codes/csv", {"codes": " ".join(shown)})
        .headers["content-type"]
        .startswith("text/csv")
    )
    revoked = moderator.submit(f"/beheer/rondes/{voting}/codes/intrekken", {"code": typed[3]})
    assert revoked.status_code == 303, revoked.text
    paper = moderator.get(f"/beheer/rondes/{voting}/papier")
    fields = form_on(paper, f"/beheer/rondes/{voting}/papier")
    fields |= {"code": typed[2], f"keuze.{plans[4]}": "1", f"keuze.{plans[0]}": "1"}
    assert moderator.submit(f"/beheer/rondes/{voting}/papier", fields).status_code == 303

    review = f"/beheer/rondes/{world.proposal_slug}/plannen"
    leak = f"Mail {RESIDENT_EMAIL} of bel; code {typed[1]} werkt niet"
    decisions = [
        (own_plan, "aanpassen", {"reason": leak}),
        (world.resident_plan, "accepteren", {"official_cost": "1500", "cost_explanation": leak}),
        (own_plan, "verbergen", {"reason": leak}),
        (own_plan, "zichtbaar", {}),
        (own_plan, "afwijzen", {"public_reason": leak}),
    ]
    for public_id, action, form in decisions:
        response = moderator.submit(f"{review}/{public_id}/{action}", form)
        assert response.status_code == 303, (action, response.text)

    admin = world.client("admin")
    invited = admin.submit(
        "/beheer/medewerkers",
        {"email": "nieuw.lid@gemeente.example", "name": "Nieuw Lid", "role": "moderator"},
    )
    flow.secrets |= set(re.findall(r"<code[^>]*>([^<]{8,})</code>", invited.text))
    reset = admin.submit(f"/beheer/medewerkers/{world.target_id}/wachtwoord")
    flow.secrets |= set(re.findall(r"<code[^>]*>([^<]{8,})</code>", reset.text))
    assert admin.submit(f"/beheer/rondes/{voting}/fase", {"naar": "gesloten"}).status_code == 303
    result = f"/beheer/rondes/{voting}/uitslag"
    assert admin.submit(f"{result}/tellen").status_code == 303
    sign_off = {"confirmed": "1", "decision": f"Besluit; vragen aan {MODERATOR_EMAIL}"}
    assert admin.submit(f"{result}/vaststellen", sign_off).status_code == 303
    assert admin.submit(f"{result}/publiceren").status_code == 303
    assert admin.submit("/beheer/logboek/export").status_code == 200
    for client, path in ((moderator, "/beheer/uitloggen"), (resident, "/uitloggen")):
        assert client.submit(path).status_code == 303
    flow.clients = [newcomer, resident, voter, stranger, wrong_staff, moderator, admin]
    return flow


def forbidden_in_logs(world: World, flow: Flow) -> set[str]:
    """Everything that must not appear in a log line or an audit event."""

    def addresses(session: Session) -> list[str]:
        return [
            *session.scalars(select(Resident.email)),
            *session.scalars(select(StaffUser.email)),
            *session.scalars(select(OutboxMail.recipient)),
        ]

    found = set(read(world.db, addresses)) | flow.secrets | set(flow.receipts)
    for code in flow.codes:
        plain = code_service.normalise(code) or code
        found |= {plain, code_service.display(plain), code_service.display(plain).lower()}
    for client in flow.clients:
        for response in client.responses:
            for header in response.headers.get_list("set-cookie"):
                value = header.partition("=")[2].split(";", 1)[0]
                if len(value) > 20:
                    found.add(value)
                    found |= {str(v) for v in session_of(value).values() if len(str(v)) > 20}
    return {f for f in found if f}


def test_logs_and_the_audit_log_hold_no_personal_data(
    logged_world: World, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Everything our code logs (``proeftuin.*`` down to DEBUG, any library from WARNING up),
    the access log on stdout and every audit event, after the whole flow."""
    world = logged_world
    caplog.set_level(logging.WARNING)
    caplog.set_level(logging.DEBUG, logger="proeftuin")
    flow = run_flow(world)
    logs = [
        record.getMessage() + (record.exc_text or "") + str(getattr(record, "__dict__", ""))
        for record in caplog.records
    ]
    access = [line for line in capsys.readouterr().out.splitlines() if '"access"' in line]
    assert len(access) > 50, "the access log was written"
    assert caplog.records, "the flow logged something (a refused code, a failed sign-in)"

    def events(session: Session) -> list[str]:
        rows = session.execute(
            select(
                AuditEvent.action,
                AuditEvent.target_type,
                AuditEvent.target_id,
                AuditEvent.details,
            )
        ).all()
        return [json.dumps([*row], ensure_ascii=False) for row in rows]

    audit = read(world.db, events)
    assert len(audit) >= 10
    blanked = " ".join(audit)
    assert "[e-mailadres]" in blanked and "[code]" in blanked, "the typed leaks were blanked"
    forbidden = forbidden_in_logs(world, flow)
    assert len(forbidden) > 20
    for where, lines in (("log", logs), ("access log", access), ("audit log", audit)):
        for line in lines:
            for secret in forbidden:
                assert secret not in line, f"{where} holds {secret!r}: {line[:300]}"
            assert not EMAIL.search(line), f"{where} holds an e-mail address: {line[:300]}"
            assert "keuze." not in line, f"{where} holds a ballot: {line[:300]}"
    assert_no_ballot_in_audit(world)
    assert_rate_limits_hold_no_raw_keys(world)


def assert_no_ballot_in_audit(world: World) -> None:
    """No audit event names the plans on a ballot, a receipt or a voter key."""

    def check(session: Session) -> None:
        plan_ids = {str(p) for p in session.scalars(select(Plan.public_id))}
        keys = set(session.scalars(select(Ballot.voter_key)))
        for action, details in session.execute(select(AuditEvent.action, AuditEvent.details)):
            data = json.loads(details)
            words = set(re.findall(r"[\w-]+", details))
            assert not words & keys, action
            if action.startswith(("paper", "vote", "ballot")):
                assert not words & plan_ids, f"{action} names plans: {data}"
                assert not any(isinstance(v, list) for v in data.values()), (action, data)

    read(world.db, check)


def assert_rate_limits_hold_no_raw_keys(world: World) -> None:
    keys = read(world.db, lambda s: list(s.scalars(select(RateLimit.key))))
    assert keys
    for key in keys:
        assert re.fullmatch(r"[0-9a-f]{64}", key), key


# --- purge ------------------------------------------------------------------------------------

LATER = dt.timedelta(days=retention.RETENTION.days + 1)


def ballots_and_results(session: Session) -> str:
    """Everything a recount or a check of the published result rests on."""
    parts = [
        sorted(
            session.execute(
                select(Ballot.id, Ballot.round_id, Ballot.receipt, Ballot.channel, Ballot.cast_on)
            ).all()
        ),
        sorted(
            session.execute(
                select(BallotChoice.ballot_id, BallotChoice.plan_id, BallotChoice.points)
            ).all()
        ),
        sorted(session.execute(select(*Result.__table__.columns)).all()),
        sorted(session.execute(select(Plan.id, Plan.title, Plan.author_name)).all()),
        sorted(session.execute(select(Support.plan_id, Support.resident_id)).all()),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def public_record(world: World) -> dict[str, bytes]:
    """The published pages and files of every published round, as served."""
    with Client(world.app) as client:
        slugs = read(
            world.db,
            lambda s: list(s.scalars(select(Round.slug).where(Round.phase == "gepubliceerd"))),
        )
        found = {}
        for slug in slugs:
            base = f"/rondes/{slug}/uitslag"
            for path in (
                base,
                f"{base}/uitleg",
                f"{base}/stembonnen",
                f"{base}/stemmen.pb",
                f"{base}/plannen.csv",
                f"{base}/uitslag.json",
                f"{base}/stembonnen.txt",
                f"/api/v1/rounds/{slug}/results",
            ):
                response = client.get(path)
                assert response.status_code == 200, path
                found[path] = TOKEN.sub(b"", response.content)
        return found


def in_progress(world: World) -> str:
    """The rounds still running: their codes and ballots (with their voter keys)."""

    def take(session: Session) -> str:
        running = select(Round.id).where(Round.phase.not_in(["gepubliceerd"]))
        return repr(
            [
                sorted(
                    session.execute(
                        select(VotingCode.id, VotingCode.code_hash, VotingCode.status).where(
                            VotingCode.round_id.in_(running)
                        )
                    ).all()
                ),
                sorted(
                    session.execute(
                        select(Ballot.id, Ballot.voter_key).where(Ballot.round_id.in_(running))
                    ).all()
                ),
            ]
        )

    return read(world.db, take)


@dataclasses.dataclass
class Residents:
    busy: int  # author of a plan in the round that is open for plans
    finished: int  # only ever supported a plan of a published round
    dormant: int  # signed in once, long ago, did nothing
    recent: int  # signed up shortly before the purge


def add_people(world: World, now: dt.datetime) -> Residents:
    """Residents of every kind, mail, links, sessions and counters, some old and some new, as
    they would be ``LATER`` than today."""
    old, new = now - LATER, now - dt.timedelta(hours=1)

    def build(session: Session) -> Residents:
        published = session.scalar(
            select(Plan.id)
            .join(Round, Round.id == Plan.round_id)
            .where(Round.slug == world.published_slug)
        )
        made = []
        for email, created in (
            ("afgerond@example.nl", old),
            ("slapend@example.nl", old),
            ("recent@example.nl", new),
        ):
            resident = Resident(email=email, display_name=email[:6], created_at=created)
            session.add(resident)
            session.flush()
            made.append(resident.id)
        session.add(Support(plan_id=published, resident_id=made[0]))
        session.add_all(
            [
                OutboxMail(recipient="oud@example.nl", subject="x", body="x", created_at=old),
                OutboxMail(recipient="nieuw@example.nl", subject="x", body="x", created_at=new),
                UsedToken(token_hash="a" * 64, expires_at=old),
                UsedToken(token_hash="b" * 64, expires_at=now + dt.timedelta(minutes=5)),
                RateLimit(bucket="code_ip", key="c" * 64, window_start=old, count=3),
                RateLimit(bucket="code_ip", key="d" * 64, window_start=new, count=1),
            ]
        )
        admin = session.get(StaffUser, world.admin_id)
        assert admin is not None
        session.add(
            StaffSession(
                token_hash="e" * 64,
                staff_id=admin.id,
                session_version=admin.session_version,
                created_at=new,
                last_seen_at=new,
            )
        )
        busy = session.scalar(select(Resident.id).where(Resident.email == RESIDENT_EMAIL))
        assert busy is not None
        return Residents(busy=busy, finished=made[0], dormant=made[1], recent=made[2])

    # The world's own rows were made "now": age them, as if LATER had passed.
    def age(session: Session) -> None:
        for table, column in (
            (Resident, Resident.created_at),
            (OutboxMail, OutboxMail.created_at),
        ):
            session.execute(update(table).values({column: old}))
        session.execute(update(StaffSession).values(created_at=old, last_seen_at=old))

    transact(world.db, age)
    return transact(world.db, build)


def test_purge_after_the_retention_period(world: World) -> None:
    voter = world.client("anonymous")
    vote(voter, world.codes[0], {ballot_plans(world.db, world.voting_slug)[0]: 1})
    now = read(world.db, lambda s: s.scalar(select(func.max(Result.published_at)))) + LATER
    people = add_people(world, now)
    before_counts = row_counts(world.db)
    before_record, before_ballots = public_record(world), read(world.db, ballots_and_results)
    before_running = in_progress(world)

    def finished_keys(session: Session) -> set[str]:
        finished = retention.finished_round_ids(session, now, retention.RETENTION)
        return set(session.scalars(select(Ballot.voter_key).where(Ballot.round_id.in_(finished))))

    old_keys = read(world.db, finished_keys)
    purged = transact(world.db, retention.purge, now)

    after = row_counts(world.db)
    assert set(purged.rounds) == {world.published_slug, "gebiedsbudget-zuid-2026"}
    assert purged.codes == before_counts["voting_code"] - after["voting_code"] > 1_000
    assert purged.ballot_keys == len(old_keys) > 1_000
    assert purged.residents == 2, "the finished and the dormant resident"
    assert (purged.staff_sessions, purged.used_tokens, purged.outbox) == (
        before_counts["staff_session"] - 1,
        1,
        before_counts["outbox_mail"] - 1,
    )
    assert purged.rate_limits >= 1
    for table in ("ballot", "ballot_choice", "result", "plan", "support", "resident", "round"):
        assert after[table] == before_counts[table], table
    assert read(world.db, ballots_and_results) == before_ballots, "ballots and results unchanged"
    assert public_record(world) == before_record, "the published pages and files unchanged"
    assert in_progress(world) == before_running, "running rounds untouched"
    new_keys = read(world.db, finished_keys)
    assert not new_keys & old_keys, "no ballot of a finished round keeps its voter key"

    def residents(session: Session) -> dict[int, tuple[str, str, str]]:
        return {
            r.id: (r.email, r.display_name, r.postcode) for r in session.scalars(select(Resident))
        }

    left = read(world.db, residents)
    assert left[people.busy][0] == RESIDENT_EMAIL
    assert left[people.recent][0] == "recent@example.nl"
    for wiped in (people.finished, people.dormant):
        assert left[wiped] == (f"gewist-{wiped}", "", ""), left[wiped]
    emails = " ".join(email for email, _, _ in left.values())
    assert "afgerond@" not in emails and "slapend@" not in emails

    event = read(
        world.db,
        lambda s: s.scalar(
            select(AuditEvent.details).where(AuditEvent.action == "retention.purge")
        ),
    )
    assert event is not None and not EMAIL.search(event)
    assert json.loads(event)["ballot_keys"] == purged.ballot_keys

    state = snapshot(world.db)
    again = transact(world.db, retention.purge, now)
    assert again.total == 0 and again.rounds == ()
    assert not changed_tables(state, snapshot(world.db)), "a second run changes nothing"


def test_purge_waits_while_residents_can_vote_by_mail(world: World) -> None:
    """Wiping an account while a round takes votes by e-mail would let its owner vote again
    with a new account: residents wait, the rest is purged."""
    transact(
        world.db,
        lambda s: s.execute(
            update(Round).where(Round.slug == world.voting_slug).values(eligibility="email")
        ),
    )
    now = read(world.db, lambda s: s.scalar(select(func.max(Result.published_at)))) + LATER
    add_people(world, now)
    purged = transact(world.db, retention.purge, now)
    assert purged.residents == 0
    assert purged.codes > 0


def test_nothing_is_purged_before_the_retention_period(world: World) -> None:
    now = read(world.db, lambda s: s.scalar(select(func.max(Result.published_at))))
    counts, record = row_counts(world.db), public_record(world)
    purged = transact(world.db, retention.purge, now + dt.timedelta(days=1))
    assert purged.rounds == () and purged.codes == 0 and purged.ballot_keys == 0
    assert purged.residents == 0
    assert row_counts(world.db)["voting_code"] == counts["voting_code"]
    assert public_record(world) == record


def test_proeftuin_purge_on_the_command_line(world: World, tmp_path: Path) -> None:
    env = {
        "PROEFTUIN_DATABASE_URL": world.settings.database_url,
        "PROEFTUIN_SECRET_KEY": world.settings.secret_key,
        "PROEFTUIN_CODE_PEPPER": world.settings.code_pepper,
        "PROEFTUIN_INSTANCE_PATH": str(tmp_path / "instance"),
        "PROEFTUIN_ENV": "development",
        "PROEFTUIN_JOBS_INTERVAL": "0",
        "PROEFTUIN_ACCESS_LOG": "0",
    }
    state, counts = snapshot(world.db), row_counts(world.db)
    runner = CliRunner()
    dry = runner.invoke(main, ["purge", "--retention-days", "0", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "Would remove" in dry.output and world.published_slug in dry.output
    assert not changed_tables(state, snapshot(world.db)), "a dry run changes nothing"

    default = runner.invoke(main, ["purge"], env=env)
    assert default.exit_code == 0, default.output
    assert "retention 90 days" in default.output
    assert row_counts(world.db)["voting_code"] == counts["voting_code"], "too early for codes"

    real = runner.invoke(main, ["purge", "--retention-days", "0"], env=env)
    assert real.exit_code == 0, real.output
    assert "Removed" in real.output
    after = row_counts(world.db)
    assert after["voting_code"] < counts["voting_code"]
    assert after["ballot"] == counts["ballot"] and after["result"] == counts["result"]
    assert SESSION_COOKIE not in real.output
