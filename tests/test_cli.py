from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner
from sqlalchemy import func, select, text

from proeftuin import migrate
from proeftuin.cli import main
from proeftuin.config import follow_served_address
from proeftuin.db import connect, read, transact
from proeftuin.models import Area, Plan, Round, StaffUser, VotingCode
from proeftuin.services import audit, codes


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
    # Four rounds of single areas, and a voting event: a city-wide round and two districts.
    assert areas == 7
    assert rounds == 7
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


OFFICIAL = PB / "official"


def _json_lines(text: str) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_allocate_many_files_prints_json_lines_and_names_a_broken_file(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "pb"
    folder.mkdir()
    for name in ("Poland_Gdynia_2021_Obluze__small.pb", "Poland_Warszawa_2019_Sadul.pb"):
        shutil.copy(OFFICIAL / name, folder / name)
    (folder / "broken.pb").write_text("META\nkey;value\n")
    (folder / "notes.txt").write_text("not a pb file")
    grabowka = PB / "Poland_Czestochowa_2020_Grabowka.pb"
    result = CliRunner().invoke(
        main, ["allocate", str(folder), str(grabowka), "--rule", "official", "--json"]
    )
    assert result.exit_code == 2  # a file could not be read; the others were still run
    records = _json_lines(result.stdout)
    assert [Path(str(r["file"])).name for r in records] == [
        "Poland_Gdynia_2021_Obluze__small.pb",
        "Poland_Warszawa_2019_Sadul.pb",
        "broken.pb",
        "Poland_Czestochowa_2020_Grabowka.pb",
    ]
    gdynia, sadul, broken, points = records
    assert gdynia["rule"] == "greedy-no-skip" and gdynia["matches_official"] is True
    assert sorted(gdynia["selected"]) == gdynia["official_selected"]
    assert sadul["rule"] == "greedy" and sadul["matches_official"] is True
    assert broken["selected"] is None and "missing" in str(broken["error"])
    assert points["matches_official"] is None  # the file has no selected column
    assert points["ballots"] == "cumulative ballots, counted by points"
    assert f"Error: {folder / 'broken.pb'}: " in result.stderr


def test_check_official_sums_up_per_rule_and_fails_on_a_difference() -> None:
    same = OFFICIAL / "Poland_Lodz_2022_Nr_33.pb"
    differs = OFFICIAL / "Poland_Gdynia_2022_Chwarzno-Wiczlino__large.pb"
    ok = CliRunner().invoke(main, ["allocate", str(same), "--rule", "official", "--check-official"])
    assert ok.exit_code == 0, ok.output
    assert "greedy-threshold: 1 of 1 official outcomes reproduced (100.0%)" in ok.stdout
    assert "Official outcome: reproduced" in ok.stdout
    bad = CliRunner().invoke(
        main,
        ["allocate", str(same), str(differs), "--rule", "official", "--json", "--check-official"],
    )
    assert bad.exit_code == 1
    assert len(_json_lines(bad.stdout)) == 2  # the summary goes to standard error
    assert "greedy-no-skip: 0 of 1 official outcomes reproduced (0.0%)" in bad.stderr
    assert "all: 1 of 2 official outcomes reproduced (50.0%)" in bad.stderr
    assert f"not reproduced: {differs}: plans 2022/CHW/0026 are marked selected=2" in bad.stderr
    record = _json_lines(bad.stdout)[1]
    assert record["matches_official"] is False
    assert record["official_not_selected"] == ["2022/CHW/0026"]
    assert record["selected_not_official"] == []


def test_a_rule_the_file_does_not_state_is_reported_not_guessed(tmp_path: Path) -> None:
    text = (OFFICIAL / "Poland_Lodz_2022_Nr_33.pb").read_text(encoding="utf-8")
    unknown = tmp_path / "unknown.pb"
    unknown.write_text(text.replace("rule;greedy-threshold", "rule;lottery"), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["allocate", str(unknown), "--rule", "official", "--json", "--check-official"]
    )
    assert result.exit_code == 1
    record = _json_lines(result.stdout)[0]
    assert record["rule"] == "lottery" and record["selected"] is None
    assert "the file's rule 'lottery' is not one we know" in str(record["problem"])
    assert f"{unknown}: cannot run the file's rule: the file's rule 'lottery'" in result.stderr


def test_ordinal_ballots_are_counted_as_the_output_says() -> None:
    krakow = OFFICIAL / "Poland_Krakow_2019_Swoszowice.pb"
    by_rank = CliRunner().invoke(main, ["allocate", str(krakow), "--rule", "greedy", "--json"])
    record = _json_lines(by_rank.stdout)[0]
    assert record["ballots"] == (
        "ordinal ballots, counted as points by rank (first 3, then one less each)"
    )
    assert record["matches_official"] is True
    approval = CliRunner().invoke(
        main, ["allocate", str(krakow), "--rule", "greedy", "--ordinal", "approval", "--json"]
    )
    assert _json_lines(approval.stdout)[0]["ballots"] == (
        "ordinal ballots, read as approval of the ranked plans"
    )
    table = CliRunner().invoke(main, ["allocate", str(krakow), "--rule", "greedy"])
    assert "Ballots: ordinal ballots, counted as points by rank" in table.stdout
    helped = CliRunner().invoke(main, ["allocate", "--help"])
    assert "points by rank" in " ".join(helped.stdout.split())


def test_greedy_without_skipping_and_a_minimum_support_from_the_command_line() -> None:
    gdynia = OFFICIAL / "Poland_Gdynia_2021_Obluze__small.pb"
    args = ["allocate", str(gdynia), "--json", "--rule"]
    no_skip = _json_lines(CliRunner().invoke(main, [*args, "greedy-no-skip"]).stdout)[0]
    assert no_skip["rule_applied"] == "greedy-no-skip" and no_skip["matches_official"] is True
    high = CliRunner().invoke(main, [*args, "greedy", "--threshold", "100000"])
    assert _json_lines(high.stdout)[0]["selected"] == []
    refused = CliRunner().invoke(main, [*args, "optimal", "--threshold", "5"])
    assert refused.exit_code == 2
    assert "--threshold applies to --rule greedy and greedy-no-skip only" in refused.output


def test_allocate_runs_as_a_real_command_on_a_folder() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "proeftuin",
            "allocate",
            str(OFFICIAL),
            "--rule",
            "official",
            "--json",
            "--check-official",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1  # four official outcomes are paid from outside the rule
    assert len(done.stdout.splitlines()) == 153
    assert "all: 149 of 153 official outcomes reproduced (97.4%)" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_command_line_loads_no_database_or_web_stack_until_a_command_needs_it() -> None:
    heavy = ("sqlalchemy", "starlette", "alembic", "jinja2", "argon2")
    cli_only = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, proeftuin.cli; print([m for m in {heavy!r} if m in sys.modules])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert cli_only.stdout.strip() == "[]"
    sessions = subprocess.run(
        [
            sys.executable,
            "-c",
            "import proeftuin.services.staff_sessions as s; "
            "print(s._dummy_hash.cache_info().currsize)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert sessions.stdout.strip() == "0"  # no argon2 hash is made on import


def _start(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "proeftuin", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError(
        f"the server did not start: {server.stderr.read() if server.stderr else ''}"
    )


def test_serve_on_another_port_in_development_accepts_its_own_forms(tmp_path: Path) -> None:
    """``make run PORT=8765``: the origin check follows the address served (no base URL set)."""
    url = f"sqlite:///{tmp_path / 'proeftuin.db'}"
    migrate.upgrade(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROEFTUIN_")}
    env |= _env(url, tmp_path) | {"PROEFTUIN_JOBS_INTERVAL": "0", "PROEFTUIN_ACCESS_LOG": "0"}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = _start(["serve", "--port", str(port)], env, port)
    try:
        origin = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=origin) as browser:
            page = browser.get("/beheer/inloggen").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token is not None
            form = {"csrf_token": token.group(1), "email": "a@b.nl", "password": "fout"}
            answer = browser.post("/beheer/inloggen", data=form, headers={"Origin": origin})
        assert answer.status_code == 422, answer.text  # a wrong password, not a refused form
        assert "Het e-mailadres of het wachtwoord klopt niet." in answer.text
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr is not None:
            server.stderr.close()


def test_the_base_url_follows_the_served_address_only_in_development_and_when_unset() -> None:
    env: dict[str, str] = {}
    assert follow_served_address("127.0.0.1", 8765, env) == "http://127.0.0.1:8765"
    assert env["PROEFTUIN_BASE_URL"] == "http://127.0.0.1:8765"
    assert follow_served_address("0.0.0.0", 80, {}) == "http://127.0.0.1"
    assert follow_served_address("::1", 9000, {}) == "http://[::1]:9000"
    chosen = {"PROEFTUIN_BASE_URL": "http://buurt.test"}
    assert follow_served_address("127.0.0.1", 8765, chosen) is None
    assert chosen["PROEFTUIN_BASE_URL"] == "http://buurt.test"
    for env_name in ("production", "test"):
        other = {"PROEFTUIN_ENV": env_name}
        assert follow_served_address("127.0.0.1", 8765, other) is None
        assert "PROEFTUIN_BASE_URL" not in other


def test_audit_verify_says_whether_the_log_is_intact(database_url: str, tmp_path: Path) -> None:
    database = connect(database_url)

    def events(session):  # type: ignore[no-untyped-def]
        for n in range(3):
            audit.record(session, None, "round.update", "round", n)

    transact(database, events)
    head = read(database, audit.verify_chain).head
    runner, env = CliRunner(), _env(database_url, tmp_path)
    intact = runner.invoke(main, ["audit", "verify", "--head", head], env=env)
    assert intact.exit_code == 0, intact.output
    assert f"The audit log is intact: 3 events, chain head {head}." in intact.output
    unknown = runner.invoke(main, ["audit", "verify", "--head", "ab" * 32], env=env)
    assert unknown.exit_code == 1
    assert f"BROKEN: {'ab' * 32} is not in the log" in unknown.output
    transact(database, lambda s: s.execute(text("UPDATE audit_event SET target_id = 7")))
    database.dispose()
    broken = runner.invoke(main, ["audit", "verify"], env=env)
    assert broken.exit_code == 1
    assert "BROKEN: event 1 no longer has the hash of what it holds: changed" in broken.output
