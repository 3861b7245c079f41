"""``proeftuin tick`` and ``proeftuin codes generate``, on both databases."""

from __future__ import annotations

import datetime as dt
import re
import stat
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.cli import main
from proeftuin.db import connect, read, transact
from proeftuin.models import Area, AuditEvent, Phase, Plan, PlanStatus, Role, Round, VotingCode
from proeftuin.services import accounts, codes

PEPPER = "cli-pepper-" + "z" * 32
CODE_ROW = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
PAST = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "PROEFTUIN_DATABASE_URL": database_url,
        "PROEFTUIN_INSTANCE_PATH": str(tmp_path / "instance"),
        "PROEFTUIN_ENV": "development",
        "PROEFTUIN_CODE_PEPPER": PEPPER,
    }


def _seed(database_url: str, *admins: str) -> None:
    database = connect(database_url)

    def build(session: Session) -> None:
        area = Area(slug="noord", name="Noord", kind="wijk")
        session.add(area)
        session.flush()
        due = Round(
            area_id=area.id,
            slug="noord-indienen",
            title="Noord indienen",
            budget=10_000,
            phase=Phase.INDIENEN.value,
            review_starts_at=PAST,
            tie_break_seed="seed",
        )
        stuck = Round(
            area_id=area.id,
            slug="noord-beoordelen",
            title="Noord beoordelen",
            budget=10_000,
            phase=Phase.BEOORDELEN.value,
            voting_starts_at=PAST,
            tie_break_seed="seed",
        )
        session.add_all([due, stuck])
        session.flush()
        session.add(
            Plan(
                round_id=stuck.id,
                public_id="wacht1",
                title="Wacht nog",
                estimated_cost=1_000,
                status=PlanStatus.INGEDIEND.value,
            )
        )
        for email in admins:
            accounts.create_staff(session, email, "Beheerder", "correct horse battery", Role.ADMIN)

    transact(database, build)
    database.dispose()


def test_tick_moves_due_rounds_and_reports_refusals(database_url: str, tmp_path: Path) -> None:
    _seed(database_url)
    runner = CliRunner()
    result = runner.invoke(main, ["tick"], env=_env(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "noord-indienen: indienen -> beoordelen" in lines
    refused = [line for line in lines if line.startswith("noord-beoordelen: beoordelen -> stemmen")]
    assert refused == [
        "noord-beoordelen: beoordelen -> stemmen refused: Beoordeel eerst alle plannen. "
        "Nog 1 plannen wachten op een besluit."
    ]
    database = connect(database_url)
    phases = dict(read(database, lambda s: s.execute(select(Round.slug, Round.phase)).all()))
    automatic = read(database, lambda s: s.scalars(select(AuditEvent.actor_id)).all())
    database.dispose()
    assert phases == {"noord-indienen": "beoordelen", "noord-beoordelen": "beoordelen"}
    assert automatic == [None]  # the system, not a person

    again = runner.invoke(main, ["tick"], env=_env(database_url, tmp_path))
    assert "noord-indienen" not in again.output  # nothing more to do for it


def test_tick_says_when_nothing_is_due(database_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["tick"], env=_env(database_url, tmp_path))
    assert result.exit_code == 0
    assert result.output == "No round is due for a next phase.\n"


def test_codes_generate_writes_one_code_per_row_and_stores_only_hashes(
    database_url: str, tmp_path: Path
) -> None:
    _seed(database_url, "admin@gemeente.nl")
    out = tmp_path / "codes.csv"
    result = CliRunner().invoke(
        main,
        ["codes", "generate", "noord-indienen", "-n", "25", "--csv", str(out)],
        env=_env(database_url, tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "25 codes for noord-indienen written to" in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = out.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "code"
    assert len(rows) == 26 and len(set(rows[1:])) == 25
    assert all(CODE_ROW.fullmatch(row) for row in rows[1:])

    database = connect(database_url)
    stored = read(database, lambda s: set(s.scalars(select(VotingCode.code_hash))))
    event = read(database, lambda s: s.scalar(select(AuditEvent)))
    database.dispose()
    assert stored == {codes.code_hash(PEPPER, codes.normalise(r) or "") for r in rows[1:]}
    assert event is not None and event.action == "codes.generate" and event.actor_id is not None
    for row in rows[1:]:
        assert row not in event.details and row.replace("-", "") not in event.details


def test_codes_generate_asks_which_admin_when_there_are_several(
    database_url: str, tmp_path: Path
) -> None:
    _seed(database_url, "ada@gemeente.nl", "bob@gemeente.nl")
    env = _env(database_url, tmp_path)
    runner = CliRunner()
    out = tmp_path / "codes.csv"
    args = ["codes", "generate", "noord-indienen", "-n", "2", "--csv", str(out)]
    several = runner.invoke(main, args, env=env)
    assert several.exit_code == 2
    assert "Er zijn meer beheerders. Kies er een met --as-admin." in several.output
    assert not out.exists()
    unknown = runner.invoke(main, [*args, "--as-admin", "nobody@gemeente.nl"], env=env)
    assert unknown.exit_code == 2
    assert "Er is geen actieve beheerder met dit e-mailadres." in unknown.output
    chosen = runner.invoke(main, [*args, "--as-admin", "Bob@Gemeente.nl"], env=env)
    assert chosen.exit_code == 0, chosen.output
    assert len(out.read_text().splitlines()) == 3


def test_codes_generate_refuses_without_admin_unknown_round_or_existing_file(
    database_url: str, tmp_path: Path
) -> None:
    _seed(database_url)
    env = _env(database_url, tmp_path)
    runner = CliRunner()
    out = tmp_path / "codes.csv"
    no_admin = runner.invoke(
        main, ["codes", "generate", "noord-indienen", "-n", "2", "--csv", str(out)], env=env
    )
    assert no_admin.exit_code == 2
    assert "Er is geen beheerder." in no_admin.output
    assert not out.exists()

    database = connect(database_url)
    transact(
        database,
        accounts.create_staff,
        "admin@gemeente.nl",
        "Beheerder",
        "correct horse battery",
        Role.ADMIN,
    )
    database.dispose()
    unknown = runner.invoke(
        main, ["codes", "generate", "bestaat-niet", "-n", "2", "--csv", str(out)], env=env
    )
    assert unknown.exit_code == 2
    assert "no round with the slug 'bestaat-niet'" in unknown.output
    assert not out.exists()

    out.write_text("oude codes\n")
    exists = runner.invoke(
        main, ["codes", "generate", "noord-indienen", "-n", "2", "--csv", str(out)], env=env
    )
    assert exists.exit_code == 2
    assert out.read_text() == "oude codes\n"
    too_many = runner.invoke(
        main, ["codes", "generate", "noord-indienen", "-n", "0", "--csv", str(out)], env=env
    )
    assert too_many.exit_code == 2
