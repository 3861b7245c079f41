from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

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
