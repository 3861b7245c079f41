"""Scheduled jobs: phase changes at their dates, mail, pruning; run by one process at a time,
on both databases."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proeftuin import jobs
from proeftuin.config import DEFAULT_JOBS_INTERVAL, ConfigError, Settings, load_settings
from proeftuin.db import Database, connect, read, transact, utcnow
from proeftuin.models import AuditEvent, OutboxMail, Phase, RateLimit, Round
from proeftuin.services import outbox, rounds
from proeftuin.web.app import create_app
from tests.factories import make_round
from tests.smtp import Inbox, smtp_server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as running:
        yield running


def due_round(db: Database) -> int:
    """A round in its voting phase whose voting ended an hour ago: the next run closes it."""

    def make(session: Session) -> int:
        ended = utcnow() - dt.timedelta(hours=1)
        return make_round(session, phase=Phase.STEMMEN, voting_ends_at=ended).id

    return transact(db, make)


def phase_of(db: Database, round_id: int) -> str:
    return read(db, lambda s: s.get_one(Round, round_id).phase)


def automatic_phase_events(db: Database) -> int:
    query = select(func.count(AuditEvent.id)).where(AuditEvent.action == "round.phase")
    return read(db, lambda s: s.scalar(query) or 0)


def test_one_run_moves_due_rounds_sends_mail_and_prunes_old_rate_limits(
    db: Database, settings: Settings, inbox: tuple[Inbox, int]
) -> None:
    box, port = inbox
    settings = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
    round_id = due_round(db)
    transact(db, outbox.queue, "bewoner@example.nl", "Uw inloglink", "Klik op de link.")
    now = utcnow()

    def add_rate_limits(session: Session) -> None:
        for age in (dt.timedelta(days=2), dt.timedelta(minutes=5)):
            window = (now - age).replace(second=0, microsecond=0)
            session.add(RateLimit(bucket="code_ip", key=f"k{age}", window_start=window, count=1))

    transact(db, add_rate_limits)

    run = jobs.run_once(db, settings, now)

    assert run.ran and run.failed == ()
    assert [(c.round_id, c.to_phase) for c in run.phase_changes] == [(round_id, Phase.GESLOTEN)]
    assert phase_of(db, round_id) == Phase.GESLOTEN
    assert run.mails_sent == 1 and len(box.messages) == 1
    assert run.rate_limits_pruned == 1
    assert read(db, lambda s: s.scalar(select(func.count(RateLimit.id)))) == 1

    again = jobs.run_once(db, settings, now)
    assert again.ran and again.phase_changes == () and again.mails_sent == 0
    assert automatic_phase_events(db) == 1


def test_while_one_process_holds_the_lock_another_does_nothing(
    database_url: str, settings: Settings
) -> None:
    # Two Database objects: two servers, each with its own connections.
    first, second = connect(database_url), connect(database_url)
    round_id = due_round(first)
    with jobs.exclusive(first) as acquired:
        assert acquired
        skipped = jobs.run_once(second, settings)
        assert skipped == jobs.JobRun(ran=False)
        assert phase_of(second, round_id) == Phase.STEMMEN
    # Once the holder is done, the lock is free again.
    run = jobs.run_once(second, settings)
    assert run.ran and len(run.phase_changes) == 1
    first.dispose()
    second.dispose()


def test_a_stampede_of_runs_makes_each_due_change_once(
    database_url: str, settings: Settings
) -> None:
    servers = [connect(database_url) for _ in range(6)]
    round_id = due_round(servers[0])
    barrier = threading.Barrier(len(servers))
    runs: list[jobs.JobRun] = []

    def run(database: Database) -> None:
        barrier.wait(10)
        runs.append(jobs.run_once(database, settings))

    threads = [threading.Thread(target=run, args=(database,)) for database in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(runs) == len(servers)
    assert any(r.ran for r in runs)
    assert sum(len(r.phase_changes) for r in runs) == 1
    assert phase_of(servers[0], round_id) == Phase.GESLOTEN
    assert automatic_phase_events(servers[0]) == 1
    for database in servers:
        database.dispose()


def test_another_process_skips_while_the_lock_is_held(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    round_id = due_round(db)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROEFTUIN_")},
        "PROEFTUIN_DATABASE_URL": database_url,
        "PROEFTUIN_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    command = [sys.executable, "-m", "proeftuin", "jobs", "run-once"]
    with jobs.exclusive(db) as acquired:
        assert acquired
        skipped = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert skipped.returncode == 0, skipped.stderr
    assert "Another process is running the scheduled jobs" in skipped.stdout
    assert phase_of(db, round_id) == Phase.STEMMEN

    ran = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert "-> gesloten" in ran.stdout
    assert phase_of(db, round_id) == Phase.GESLOTEN


def test_a_failing_job_does_not_stop_the_others(
    db: Database, settings: Settings, inbox: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    box, port = inbox
    settings = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
    transact(db, outbox.queue, "bewoner@example.nl", "Onderwerp", "Tekst")

    def broken(session: Session, now: dt.datetime) -> list[rounds.PhaseChange]:
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(rounds, "tick", broken)
    run = jobs.run_once(db, settings)
    assert run.failed == ("phases",)
    assert run.mails_sent == 1 and len(box.messages) == 1
    sent = read(db, lambda s: s.scalar(select(OutboxMail.sent_at)))
    assert sent is not None


def test_the_server_runs_the_jobs_in_its_lifespan_when_asked(
    db: Database, settings: Settings
) -> None:
    round_id = due_round(db)
    with TestClient(create_app(settings, db)) as client:  # jobs_interval 0: the tests' default
        assert client.get("/healthz").status_code == 200
        time.sleep(0.3)
    assert phase_of(db, round_id) == Phase.STEMMEN

    every_second = dataclasses.replace(settings, jobs_interval=1)
    with TestClient(create_app(every_second, db)):
        deadline = time.monotonic() + 10
        while phase_of(db, round_id) != Phase.GESLOTEN and time.monotonic() < deadline:
            time.sleep(0.05)
    assert phase_of(db, round_id) == Phase.GESLOTEN


def test_jobs_interval_setting(tmp_path: Path) -> None:
    base = {"PROEFTUIN_INSTANCE_PATH": str(tmp_path)}
    assert load_settings(base).jobs_interval == DEFAULT_JOBS_INTERVAL
    assert load_settings({**base, "PROEFTUIN_JOBS_INTERVAL": "0"}).jobs_interval == 0
    assert load_settings({**base, "PROEFTUIN_JOBS_INTERVAL": "15"}).jobs_interval == 15
    for bad in ("-1", "soon"):
        with pytest.raises(ConfigError, match="PROEFTUIN_JOBS_INTERVAL"):
            load_settings({**base, "PROEFTUIN_JOBS_INTERVAL": bad})
