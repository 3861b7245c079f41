"""Trust tests: real servers (``python -m proeftuin serve --workers 2``) on a SQLite file and on
PostgreSQL, attacked over HTTP the way the outside world can (tests/trust/server.py).

- ``trust_db``: per backend, one migrated database for the whole session (``[sqlite]`` and
  ``[postgresql]``); every test seeds its own round (``trust_db.seed_round()``), so tests share
  the database without sharing ballots.
- ``trust_server``: per backend, one server for the session, with a pause of ``CAST_DELAY_MS``
  inside the casting transaction (cast_pause.py), so concurrent submissions really overlap.
  Tests may restart it (``restart()``, ``restart(hard=True)`` for kill -9) but leave it running
  with its settings as they found them.
- ``server_factory(**env)``: a dedicated server on the same database, stopped after the test.

PostgreSQL tests skip where the server is unreachable, and fail with PROEFTUIN_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, need_postgres
from tests.trust.cast_pause import ENV as CAST_PAUSE_ENV
from tests.trust.server import Server, TrustDatabase

CAST_DELAY_MS = 20


@pytest.fixture(scope="session", params=BACKENDS)
def trust_db(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _sqlite_template: Path,
) -> Iterator[TrustDatabase]:
    if request.param == "postgresql":
        need_postgres()
    folder = tmp_path_factory.mktemp(f"trust-{request.param}")
    database = TrustDatabase.create(request.param, folder, _sqlite_template)
    yield database
    database.drop()


@pytest.fixture(scope="session")
def trust_server(
    trust_db: TrustDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp(f"server-{trust_db.backend}")
    server = Server(
        trust_db,
        folder,
        env={CAST_PAUSE_ENV: str(CAST_DELAY_MS)},
        count_argon2=True,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server_factory(trust_db: TrustDatabase, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(**env: str) -> Server:
        server = Server(trust_db, tmp_path / f"server-{len(servers)}", env=dict(env))
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
