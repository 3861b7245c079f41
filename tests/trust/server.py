"""A real Proeftuin server for the trust tests and the load benchmark, and its database.

``Server`` runs ``python -m proeftuin serve --workers N`` in its own process group (so that
``kill()`` is a real ``kill -9`` of the supervisor and every worker), on its own port and instance
folder, with ``PROEFTUIN_ENV=test`` and a fixed secret key and pepper. ``TrustDatabase`` is the
database it serves: a SQLite file or a new PostgreSQL database, migrated, seeded and inspected
in-process through the services while the server runs.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin import migrate
from proeftuin.config import Settings
from proeftuin.db import Database, connect, read, transact
from proeftuin.errors import Invalid
from proeftuin.models import (
    Area,
    Ballot,
    BallotChoice,
    Phase,
    Plan,
    PlanStatus,
    Round,
    StaffUser,
    VotingCode,
    VotingEvent,
)
from proeftuin.services import ballot_kinds, ballot_rules, codes, voting
from proeftuin.services.permissions import Actor

REPO = Path(__file__).resolve().parents[2]
PROBES = Path(__file__).resolve().parent / "probes"  # sitecustomize.py: the argon2 counter
SECRET_KEY = "trust-secret-key-" + "k" * 32
PEPPER = "trust-code-pepper-" + "p" * 32
START_SECONDS = 90  # a loaded 2-core CI machine needs long to import two workers
STARTED = "Application startup complete."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- The database ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeededRound:
    id: int
    slug: str
    budget: int
    costs: dict[str, int]  # plan public id -> cost, in ballot order
    codes: list[str]

    @property
    def plan_ids(self) -> list[str]:
        return list(self.costs)


@dataclass(frozen=True)
class SeededEvent:
    """A voting event: a district round (with the codes) and the city-wide round."""

    district: SeededRound
    city: SeededRound

    @property
    def codes(self) -> list[str]:
        return self.district.codes


@dataclass(frozen=True)
class StoredBallot:
    voter_key: str
    receipt: str
    channel: str
    choices: dict[str, int]  # plan public id -> points


@dataclass
class TrustDatabase:
    backend: str  # "sqlite" or "postgresql"
    url: str
    database: Database = field(init=False)

    def __post_init__(self) -> None:
        self.database = connect(self.url)

    @classmethod
    def create(
        cls, backend: str, folder: Path, sqlite_template: Path | None = None
    ) -> TrustDatabase:
        """A migrated, empty database: a file in ``folder`` or a new one on the PostgreSQL server
        (tests.conftest finds it; ``drop()`` removes it)."""
        if backend == "sqlite":
            path = folder / "proeftuin.db"
            if sqlite_template is not None:
                shutil.copyfile(sqlite_template, path)
            else:
                migrate.upgrade(f"sqlite:///{path}")
            return cls(backend, f"sqlite:///{path}")
        from tests.conftest import create_postgres_database

        url = create_postgres_database("proeftuin_trust")
        migrate.upgrade(url)
        return cls(backend, url)

    def drop(self) -> None:
        self.database.dispose()
        if self.backend == "postgresql":
            from tests.conftest import drop_postgres_database

            drop_postgres_database(self.url)

    def seed_round(
        self,
        *,
        code_count: int = 10,
        costs: Sequence[int] = (4_000, 3_000, 5_000, 2_000),
        budget: int = 10_000,
        ballot_kind: str = "knapsack",
        **round_settings: object,
    ) -> SeededRound:
        """A round in its voting phase with plans of these costs and ``code_count`` letter codes."""
        tag = secrets.token_hex(4)

        def build(session: Session) -> SeededRound:
            area = Area(slug=f"wijk-{tag}", name=f"Wijk {tag}", kind="wijk")
            session.add(area)
            session.flush()
            round_ = Round(
                area_id=area.id,
                slug=f"ronde-{tag}",
                title=f"Buurtbudget {tag}",
                budget=budget,
                phase=Phase.STEMMEN.value,
                ballot_kind=ballot_kind,
                tie_break_seed="trust",
                **round_settings,
            )
            session.add(round_)
            session.flush()
            plans = {f"t{tag}{i}": cost for i, cost in enumerate(costs)}
            session.add_all(
                Plan(
                    round_id=round_.id,
                    public_id=public_id,
                    title=f"Plan {public_id}",
                    estimated_cost=cost,
                    official_cost=cost,
                    status=PlanStatus.OP_STEMBILJET.value,
                )
                for public_id, cost in plans.items()
            )
            session.flush()
            plain = codes.generate_codes(session, round_, PEPPER, code_count)
            return SeededRound(round_.id, round_.slug, budget, plans, plain)

        return transact(self.database, build)

    def seed_event(self, *, code_count: int = 10) -> SeededEvent:
        """A district round with ``code_count`` codes and a city-wide round (budget 10.000,
        plans of 4.000, 3.000, 5.000 and 2.000 each), in one voting event."""
        district = self.seed_round(code_count=code_count)
        city = self.seed_round(code_count=0)

        def link(session: Session) -> None:
            city_round = session.get(Round, city.id)
            assert city_round is not None
            event = VotingEvent(
                slug=f"stemming-{secrets.token_hex(4)}",
                title="Stemming",
                citywide_area_id=city_round.area_id,
            )
            session.add(event)
            session.flush()
            for round_id in (district.id, city.id):
                found = session.get(Round, round_id)
                assert found is not None
                found.event_id = event.id

        transact(self.database, link)
        return SeededEvent(district, city)

    def city_voter_key(self, event: SeededEvent, code: str) -> str:
        """The key the city-wide ballot of this district code is stored under."""
        return self.city_voter_keys(event, [code])[code]

    def city_voter_keys(self, event: SeededEvent, plain: Sequence[str]) -> dict[str, str]:
        def find(session: Session) -> dict[str, str]:
            found = {}
            for code in plain:
                credential = voting.check_code(session, PEPPER, code)[1]
                key = codes.voter_key(PEPPER, event.city.id, f"code:{credential.code_id}")
                found[code] = key
            return found

        return read(self.database, find)

    def receipts(self, round_ids: Sequence[int]) -> dict[tuple[int, str], str]:
        """(round, voter key) -> receipt of the ballots of these rounds, in one statement: one
        snapshot of all of them, also at READ COMMITTED."""

        def load(session: Session) -> dict[tuple[int, str], str]:
            rows = session.execute(
                select(Ballot.round_id, Ballot.voter_key, Ballot.receipt).where(
                    Ballot.round_id.in_(list(round_ids))
                )
            )
            return {(r, key): receipt for r, key, receipt in rows}

        return read(self.database, load)

    def ballots(self, round_id: int) -> list[StoredBallot]:
        def load(session: Session) -> list[StoredBallot]:
            rows = session.execute(
                select(Ballot.id, Ballot.voter_key, Ballot.receipt, Ballot.channel).where(
                    Ballot.round_id == round_id
                )
            ).all()
            choices: dict[int, dict[str, int]] = {row.id: {} for row in rows}
            for ballot_id, public_id, points in session.execute(
                select(BallotChoice.ballot_id, Plan.public_id, BallotChoice.points)
                .join(Plan, Plan.id == BallotChoice.plan_id)
                .where(Plan.round_id == round_id)
            ):
                choices[ballot_id][public_id] = points
            return [StoredBallot(r.voter_key, r.receipt, r.channel, choices[r.id]) for r in rows]

        return read(self.database, load)

    def broken_ballots(self, round_id: int) -> list[str]:
        """Every stored ballot checked against the round's rules, as casting checks a new one:
        what is wrong with each ballot that breaks them (empty when none does)."""

        def check(session: Session) -> list[str]:
            round_ = session.get(Round, round_id)
            assert round_ is not None
            rules = ballot_kinds.rules_of(round_)
            costs = ballot_rules.costs_of(voting.ballot_plans(session, round_))
            problems = []
            for ballot in self.ballots(round_id):
                try:
                    ballot_rules.validate(rules, costs, ballot.choices)
                except Invalid as error:
                    problems.append(f"{ballot.receipt}: {ballot.choices}: {error.message}")
            return problems

        return read(self.database, check)

    def staff(self, role: str = "admin") -> Actor:
        """A staff member to act in-process (paper ballots), with a placeholder password."""

        def create(session: Session) -> Actor:
            user = StaffUser(
                email=f"staff-{secrets.token_hex(4)}@gemeente.example",
                name="Medewerker",
                password_hash="not-a-hash",
                role=role,
            )
            session.add(user)
            session.flush()
            return Actor(staff_id=user.id, role=role, area_ids=frozenset())

        return transact(self.database, create)

    def ballot_count(self, round_id: int) -> int:
        def count(session: Session) -> int:
            query = select(func.count()).select_from(Ballot).where(Ballot.round_id == round_id)
            return int(session.scalar(query) or 0)

        return read(self.database, count)

    def voter_key(self, code: str) -> str:
        """The pseudonymous key the ballot of this letter code is stored under."""
        return self.voter_keys([code])[code]

    def voter_keys(self, plain: Sequence[str]) -> dict[str, str]:
        def find(session: Session) -> dict[str, str]:
            return {code: voting.check_code(session, PEPPER, code)[1].voter_key for code in plain}

        return read(self.database, find)

    def code_status(self, code: str) -> str:
        def find(session: Session) -> str:
            normal = codes.normalise(code)
            assert normal is not None
            status = session.scalar(
                select(VotingCode.status).where(
                    VotingCode.code_hash == codes.code_hash(PEPPER, normal)
                )
            )
            assert status is not None
            return status

        return read(self.database, find)


# -- The server --------------------------------------------------------------------------------


@dataclass
class Server:
    """``python -m proeftuin serve`` on ``database``; ``env`` adds or changes its settings (and
    ``TRUST_CAST_DELAY_MS``, the test-only pause inside the casting transaction: cast_pause.py)."""

    database: TrustDatabase
    folder: Path
    workers: int = 2
    env: dict[str, str] = field(default_factory=dict)
    count_argon2: bool = False  # write a line to ``argon2_log`` for every password verification
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"

    @property
    def argon2_log(self) -> Path:
        return self.folder / "argon2.log"

    def settings(self) -> Settings:
        """The server's settings, for in-process work that must agree with it."""
        return Settings(
            database_url=self.database.url,
            secret_key=SECRET_KEY,
            code_pepper=PEPPER,
            env="test",
            base_url=self.url,
            instance_path=self.folder / "instance",
        )

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROEFTUIN_")}
        env.update(
            PROEFTUIN_ENV="test",
            PROEFTUIN_INSTANCE_PATH=str(self.folder / "instance"),
            PROEFTUIN_DATABASE_URL=self.database.url,
            PROEFTUIN_SECRET_KEY=SECRET_KEY,
            PROEFTUIN_CODE_PEPPER=PEPPER,
            PROEFTUIN_BASE_URL=self.url,
            PROEFTUIN_JOBS_INTERVAL="0",
            PROEFTUIN_ACCESS_LOG="0",
        )
        env.update(self.env)
        # The probes, and the repository for the test modules they import (tests.trust.cast_pause).
        path = [str(PROBES), str(REPO), env.get("PYTHONPATH")]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, path))
        if self.count_argon2:
            env["TRUST_ARGON2_LOG"] = str(self.argon2_log)
        return env

    def start(self, **env: str) -> Server:
        """Start (with these settings changed for this and later starts) and wait until every
        worker has started and /healthz answers."""
        assert self.process is None, "already running"
        self.env.update(env)
        self.folder.mkdir(parents=True, exist_ok=True)
        already = self._started_workers()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "proeftuin", "serve"),
                    *("--workers", str(self.workers), "--port", str(self.port)),
                ],
                cwd=REPO,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() reaches the workers
            )
        self.starts += 1
        deadline = time.monotonic() + START_SECONDS
        while self._started_workers() < already + self.workers or not self._healthy():
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped while starting:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the server did not start in time:\n{self.log_tail()}")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """``kill -9`` of the whole process group: no shutdown, no flush, no goodbye."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._reap_group()
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        self._reap_group()
        self.process = None

    def restart(self, *, hard: bool = False, **env: str) -> Server:
        self.kill() if hard else self.stop()
        return self.start(**env)

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        if self.workers == 1:  # uvicorn serves in the process it was started in
            return [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def argon2_verifications(self) -> int:
        if not self.argon2_log.exists():
            return 0
        return len(self.argon2_log.read_bytes().splitlines())

    def _started_workers(self) -> int:
        return self.log_text().count(STARTED)

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _reap_group(self) -> None:
        # The workers are in the group too; wait until none is left holding the port.
        assert self.process is not None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)
        raise RuntimeError("server processes survived their process group's end")


def serving_pid(server: Server, response: httpx.Response) -> int | None:
    """The worker whose socket holds the (kept-alive) connection this response came over.

    Linux only: matches the client's port against the workers' sockets in /proc, so a test can
    show that attempts really were spread over the workers."""
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    client_port = stream.get_extra_info("client_addr")[1]
    inode = _socket_inode(server.port, client_port)
    if inode is None:
        return None
    for pid in server.worker_pids():
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def _socket_inode(server_port: int, client_port: int) -> str | None:
    wanted = (f"{server_port:04X}", f"{client_port:04X}")
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = fields[1].rsplit(":", 1)[1]
        remote_port = fields[2].rsplit(":", 1)[1]
        if (local_port, remote_port) == wanted:
            return fields[9]
    return None
