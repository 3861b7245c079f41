"""Making letters for the mail house from an address list: time and peak memory.

    python benchmarks/letters.py                  # 10,000 addresses, SQLite
    python benchmarks/letters.py --addresses 2000

Reads a generated CSV (as an upload would arrive), then makes the codes, the letter numbers, the
merge file and the PDF in one transaction (``mail_house.make_letters``), in a fresh, migrated
SQLite database in a temporary folder. Memory is the peak of Python's allocations (tracemalloc)
during the run, which is what a web worker needs on top of what it holds already.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy.orm import Session

from proeftuin import migrate
from proeftuin.db import connect, transact, utcnow
from proeftuin.models import Area, BallotKind, Phase, Plan, PlanStatus, Role, Round, StaffUser
from proeftuin.services import address_list, mail_house
from proeftuin.services.permissions import Actor

STREETS = ("Dorpsstraat", "Kerkweg", "Molenlaan", "Schoolstraat", "Van Goghplein", "Beukenhof")
PEPPER = "benchmark-pepper-" + "x" * 32


def address_csv(count: int, rng: random.Random) -> bytes:
    lines = ["straat;huisnummer;postcode;plaats"]
    for i in range(count):
        street = f"{rng.choice(STREETS)} {i // 500 + 1}"
        postcode = f"{rng.randrange(1000, 9999)} {rng.choice('ABCDEFGH')}{rng.choice('JKLMNP')}"
        lines.append(f"{street};{i % 500 + 1};{postcode};Veenhoven")
    return "\n".join(lines).encode()


def seed(session: Session) -> tuple[int, Actor]:
    area = Area(slug="bench", name="Benchmark", kind="wijk")
    session.add(area)
    session.flush()
    round_ = Round(
        area_id=area.id,
        slug="bench-brieven",
        title="Buurtbudget Benchmark",
        budget=100_000,
        phase=Phase.STEMMEN.value,
        ballot_kind=BallotKind.KNAPSACK.value,
        tie_break_seed="bench",
    )
    session.add(round_)
    session.flush()
    session.add(
        Plan(
            round_id=round_.id,
            public_id="p1",
            title="Plan",
            estimated_cost=1_000,
            official_cost=1_000,
            status=PlanStatus.OP_STEMBILJET.value,
        )
    )
    user = StaffUser(
        email="bench@gemeente.example", name="Bench", password_hash="-", role=Role.ADMIN.value
    )
    session.add(user)
    session.flush()
    return round_.id, Actor(staff_id=user.id, role=Role.ADMIN.value, area_ids=frozenset())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=10_000)
    parser.add_argument("--no-memory", action="store_true", help="time only (tracemalloc slows)")
    args = parser.parse_args()
    content = address_csv(args.addresses, random.Random(2026))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        db = connect(url)
        round_id, actor = transact(db, seed)
        if not args.no_memory:
            tracemalloc.start()
        started = time.perf_counter()
        addresses = address_list.read("adressen.csv", content)
        parsed = time.perf_counter()

        def make(session: Session) -> mail_house.Made:
            return mail_house.make_letters(
                session,
                actor,
                round_id,
                addresses,
                PEPPER,
                "https://stem.veenhoven.nl",
                "Gemeente Veenhoven",
                "nl",
                utcnow(),
            )

        made = transact(db, make)
        done = time.perf_counter()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        db.engine.dispose()
    total = done - started
    print(f"letters for {args.addresses:,} addresses (SQLite)")
    print(f"  read the list:             {parsed - started:7.2f} s")
    print(f"  codes, numbers, PDF, ZIP:  {done - parsed:7.2f} s")
    each = total / args.addresses * 1000
    print(f"  total:                     {total:7.2f} s ({each:.1f} ms a letter)")
    print(f"  peak memory (Python):      {peak / 1e6:7.1f} MB")
    print(f"  ZIP:                       {len(made.content) / 1e6:7.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
