"""Loading and counting a round of 100,000 ballots, on SQLite and PostgreSQL (target: under 5 s).

    python benchmarks/counting.py                 # both databases, 100,000 ballots
    python benchmarks/counting.py --ballots 20000 --sqlite-only

The ballots are seeded with bulk inserts into a fresh, migrated database (a temporary SQLite file;
a new database on the PostgreSQL server at PROEFTUIN_TEST_POSTGRES_URL, dropped afterwards). Then,
each the best of ``--repeat`` runs:

- load: the one query that reads every ballot into a matrix (``open_data.load_ballots``);
- rule: the round's own rule (Equal Shares, Add1 + greedy) on the loaded ballots;
- load + rule: both, which is what "loading and counting" means in the issue;
- full count: ``results.count`` as a moderator's "tel de stemmen" runs it: the snapshot, the
  shuffled export and its SHA-256, all three rules with explanations and metrics, stored as JSON.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from proeftuin import migrate
from proeftuin.allocation import TieBreak, allocate
from proeftuin.db import Database, connect, transact, utcnow
from proeftuin.demo.results import insert_ballots
from proeftuin.models import (
    Area,
    BallotKind,
    Channel,
    Phase,
    Plan,
    PlanStatus,
    Result,
    Role,
    Round,
    Rule,
    StaffUser,
)
from proeftuin.services import open_data, results
from proeftuin.services.permissions import Actor

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PLANS = 30
BUDGET = 500_000
LIMIT_SECONDS = 5.0
T = TypeVar("T")


@dataclass(frozen=True)
class Timings:
    database: str
    seed: float
    load: float
    rule: float
    load_and_rule: float
    full_count: float


def seed_round(db: Database, ballots: int, rng: random.Random) -> str:
    """A closed round with ``PLANS`` plans and ``ballots`` approval ballots (2-6 plans each,
    popularity skewed), inserted in bulk."""

    def build(session: Session) -> tuple[str, int, list[int]]:
        area = Area(slug="bench", name="Benchmark", kind="wijk")
        session.add(area)
        session.flush()
        round_ = Round(
            area_id=area.id,
            slug="bench-100k",
            title="Benchmark",
            budget=BUDGET,
            phase=Phase.GESLOTEN.value,
            ballot_kind=BallotKind.APPROVAL.value,
            rule=Rule.EQUAL_SHARES.value,
            tie_break_seed="bench",
        )
        session.add(round_)
        session.flush()
        plans = [
            Plan(
                round_id=round_.id,
                public_id=f"p{n:02d}",
                title=f"Plan {n}",
                estimated_cost=cost,
                official_cost=cost,
                status=PlanStatus.OP_STEMBILJET.value,
            )
            for n, cost in enumerate(rng.randrange(5_000, 80_000, 500) for _ in range(PLANS))
        ]
        session.add_all(plans)
        session.flush()
        return round_.slug, round_.id, [p.id for p in plans]

    slug, round_id, plan_ids = transact(db, build)
    weights = [1 / (n + 3) for n in range(PLANS)]
    chosen = [
        dict.fromkeys(rng.choices(plan_ids, weights, k=rng.randint(2, 6)), 1)
        for _ in range(ballots)
    ]
    today = utcnow().date()

    def insert(session: Session) -> None:
        insert_ballots(
            session,
            round_id,
            chosen,
            voter_keys=[f"{i:064x}" for i in range(ballots)],
            receipts=[_receipt(i) for i in range(ballots)],
            channels=[Channel.ONLINE] * ballots,
            cast_on=[today] * ballots,
            chunk=10_000,
        )

    transact(db, insert)
    return slug


def _admin(session: Session) -> Actor:
    user = StaffUser(
        email="bench@gemeente.example", name="Bench", password_hash="-", role=Role.ADMIN.value
    )
    session.add(user)
    session.flush()
    return Actor(staff_id=user.id, role=Role.ADMIN.value, area_ids=frozenset())


def _receipt(i: int) -> str:
    raw = f"{i:012X}"
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"


def best(repeat: int, run: Callable[[], T]) -> tuple[float, T]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - start)
    assert value is not None
    return min(times), value


def measure(name: str, url: str, ballots: int, repeat: int) -> Timings:
    migrate.upgrade(url)
    db = connect(url)
    try:
        start = time.perf_counter()
        slug = seed_round(db, ballots, random.Random(1))
        seed = time.perf_counter() - start

        def load(session: Session) -> object:
            round_ = session.scalar(sa.select(Round).where(Round.slug == slug))
            assert round_ is not None
            snap = open_data.snapshot(session, round_)
            return open_data.build_election(session, round_.id, snap, "export-seed")

        def rule(election: object) -> object:
            return allocate(
                election,  # type: ignore[arg-type]
                "equal-shares",
                utility=results.UTILITY,
                completion=results.COMPLETION,
                tie_break=TieBreak.LOTTERY,
                seed="bench",
            )

        transact(db, load)  # warm the database's and the OS's caches once, untimed
        load_time, election = best(repeat, lambda: transact(db, load))
        rule_time, _ = best(repeat, lambda: rule(election))
        both_time, _ = best(repeat, lambda: rule(transact(db, load)))

        admin = transact(db, _admin)

        def full(session: Session) -> str:
            return results.count(session, admin, slug, utcnow()).ballots_sha256

        def forget(session: Session) -> None:
            session.execute(sa.delete(Result))

        full_times = []
        for _ in range(repeat):
            transact(db, forget)
            start = time.perf_counter()
            transact(db, full)
            full_times.append(time.perf_counter() - start)
        return Timings(name, seed, load_time, rule_time, both_time, min(full_times))
    finally:
        db.dispose()


def postgres_database() -> tuple[str, Callable[[], None]]:
    admin = make_url(os.environ.get("PROEFTUIN_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    name = f"proeftuin_bench_{random.getrandbits(32):08x}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return admin.set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()

    rows: list[Timings] = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        rows.append(measure("SQLite", url, args.ballots, args.repeat))
    if not args.sqlite_only:
        try:
            url, drop = postgres_database()
        except sa.exc.OperationalError as error:
            print(f"PostgreSQL skipped: {str(error).splitlines()[0]}")
        else:
            try:
                rows.append(measure("PostgreSQL", url, args.ballots, args.repeat))
            finally:
                drop()

    print(
        f"{args.ballots:,} ballots, {PLANS} plans, approval ballots, rule equal_shares "
        f"(add1-greedy); best of {args.repeat}"
    )
    header = ("database", "seed (bulk)", "load", "rule", "load + rule", "full count")
    print("  ".join(f"{h:>12}" for h in header))
    for row in rows:
        cells = (row.seed, row.load, row.rule, row.load_and_rule, row.full_count)
        print(f"{row.database:>12}  " + "  ".join(f"{c:>11.2f}s" for c in cells))
    slow = [r.database for r in rows if r.load_and_rule >= LIMIT_SECONDS]
    if slow:
        print(f"TOO SLOW (load + rule >= {LIMIT_SECONDS:.0f} s): {', '.join(slow)}")
        return 1
    print(f"OK: loading and counting stays under {LIMIT_SECONDS:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
