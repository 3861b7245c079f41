from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from proeftuin.cli import main
from proeftuin.db import connect, read
from proeftuin.models import Area, Plan, Round, StaffUser, VotingCode
from proeftuin.services import codes


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "PROEFTUIN_DATABASE_URL": database_url,
        "PROEFTUIN_INSTANCE_PATH": str(tmp_path / "instance"),
        "PROEFTUIN_ENV": "development",
    }


def test_demo_is_idempotent_and_lists_codes_that_work(database_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(database_url, tmp_path)
    first = runner.invoke(main, ["demo"], env=env)
    assert first.exit_code == 0, first.output
    second = runner.invoke(main, ["demo"], env=env)
    assert second.exit_code == 0, second.output
    assert "already there" in second.output

    listed = [line.strip() for line in second.output.splitlines() if line.startswith("  ")]
    assert len(listed) >= 10
    pepper = (tmp_path / "instance" / "code_pepper").read_text().strip()
    database = connect(database_url)

    def counts(session):  # type: ignore[no-untyped-def]
        stored = set(session.scalars(select(VotingCode.code_hash)))
        return (
            session.scalar(select(func.count(Area.id))),
            session.scalar(select(func.count(Round.id))),
            session.scalar(select(func.count(Plan.id))),
            all(codes.code_hash(pepper, codes.normalise(c) or "") in stored for c in listed),
            session.scalars(select(Round.phase)).all(),
        )

    areas, rounds, plans, all_stored, phases = read(database, counts)
    database.dispose()
    assert 3 <= areas <= 4
    assert rounds == 4
    assert plans >= 16
    assert all_stored
    assert {"stemmen", "indienen", "gepubliceerd"} <= set(phases)


def test_create_admin_hashes_the_password(database_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["create-admin", "--email", " Beheer@Gemeente.NL ", "--name", "Anna de Vries"],
        input="een-lang-wachtwoord\neen-lang-wachtwoord\n",
        env=_env(database_url, tmp_path),
    )
    assert result.exit_code == 0, result.output
    database = connect(database_url)
    user = read(database, lambda s: s.scalars(select(StaffUser)).one())
    database.dispose()
    assert user.email == "beheer@gemeente.nl"
    assert user.role == "admin"
    assert user.password_hash.startswith("$argon2id$")


def test_create_admin_refuses_a_short_password(database_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["create-admin", "--email", "a@gemeente.nl", "--name", "A", "--password", "kort"],
        env=_env(database_url, tmp_path),
    )
    assert result.exit_code == 2
    assert "minstens 12 tekens" in result.output


def test_production_without_secret_key_exits_non_zero_with_a_clear_message(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROEFTUIN_")}
    env |= {"PROEFTUIN_ENV": "production", "PROEFTUIN_INSTANCE_PATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "proeftuin", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "PROEFTUIN_SECRET_KEY" in done.stderr
    assert "Traceback" not in done.stderr


PB = Path(__file__).parent / "data" / "pabulib"


def test_allocate_prints_json_that_agrees_with_the_reference(tmp_path: Path) -> None:
    import json

    expected = json.loads((PB / "expected.json").read_text())["Netherlands_Assen_2024.pb"]
    result = CliRunner().invoke(
        main,
        [
            "allocate",
            str(PB / "Netherlands_Assen_2024.pb"),
            "--rule",
            "equal-shares",
            "--utility",
            "cost",
            "--completion",
            "add1",
            "--tie-break",
            "pabutools",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert sorted(data["selected"]) == expected["mes_cost_add1"]["selected"]
    assert data["welfare"] == sum(p["support"] for p in data["projects"] if p["funded"])
    assert {"rule", "budget", "selected", "total_cost", "projects", "metrics"} <= set(data)


def test_allocate_prints_a_readable_table() -> None:
    result = CliRunner().invoke(
        main, ["allocate", str(PB / "Poland_Czestochowa_2020_Grabowka.pb"), "--rule", "greedy"]
    )
    assert result.exit_code == 0, result.output
    assert "Funded:" in result.output


def test_allocate_on_a_malformed_file_exits_2_naming_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pb"
    bad.write_text(
        "META\nkey;value\nbudget;100\nPROJECTS\nproject_id;cost\n1;veel\nVOTES\nvoter_id;vote\n"
    )
    result = CliRunner().invoke(main, ["allocate", str(bad)])
    assert result.exit_code == 2
    assert "line 6" in result.output
    assert "Traceback" not in result.output


def test_allocate_on_an_empty_or_blank_file_says_so_in_one_line(tmp_path: Path) -> None:
    for content in ("", " \n\n"):
        empty = tmp_path / "empty.pb"
        empty.write_text(content)
        result = CliRunner().invoke(main, ["allocate", str(empty)])
        assert result.exit_code == 2
        message = "line 1: the file is empty (expected META, PROJECTS and VOTES)"
        assert result.output == f"Error: {empty}: {message}\n"
