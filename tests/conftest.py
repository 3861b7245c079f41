"""One backend fixture for the whole suite: every test that takes ``db`` runs on SQLite and on
PostgreSQL, each time on a freshly migrated, empty database.

PROEFTUIN_TEST_BACKENDS (comma-separated) narrows the backends, as ``make test-fast`` does.
PostgreSQL is found at PROEFTUIN_TEST_POSTGRES_URL (default: the local server's ``test`` database).
Where it is unreachable its tests skip, unless PROEFTUIN_REQUIRE_POSTGRES=1 (as in CI): then they
fail.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from proeftuin import migrate
from proeftuin.config import Settings
from proeftuin.db import Base, Database, connect
from tests.smtp import Inbox, smtp_server

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# ``make test-fast`` sets PROEFTUIN_TEST_BACKENDS=sqlite for the edit-test loop; CI runs both.
BACKENDS = tuple(os.environ.get("PROEFTUIN_TEST_BACKENDS", "sqlite,postgresql").split(","))
_STARTED = pytest.StashKey[float]()
# No test asks the real map tiles: pages point at a loopback address (the browser tests serve
# tiles there from a stub of their own).
MAP_TILES_STUB = "http://127.0.0.1:9/kaart/{z}/{x}/{y}.png"


def postgres_admin_url() -> str:
    return os.environ.get("PROEFTUIN_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def postgres_required() -> bool:
    return os.environ.get("PROEFTUIN_REQUIRE_POSTGRES") == "1"


def _postgres_reachable() -> str | None:
    engine = sa.create_engine(postgres_admin_url(), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        return str(error).splitlines()[0]
    finally:
        engine.dispose()
    return None


def need_postgres() -> None:
    problem = _postgres_reachable()
    if problem is None:
        return
    if postgres_required():
        pytest.fail(f"PostgreSQL is required but unreachable: {problem}")
    pytest.skip(f"PostgreSQL unreachable: {problem}")


def create_postgres_database(prefix: str) -> str:
    """A new, empty database on the test server; returns its URL."""
    admin = make_url(postgres_admin_url())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    admin = make_url(postgres_admin_url())
    name = make_url(url).database
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_migrated() -> Iterator[str]:
    need_postgres()
    url = create_postgres_database("proeftuin_test")
    migrate.upgrade(url)
    yield url
    drop_postgres_database(url)


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path
) -> Iterator[str]:
    """The URL of a migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "proeftuin.db"
        shutil.copyfile(_sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("_postgres_migrated")
    _empty_all_tables(url)
    yield url


def _empty_all_tables(url: str) -> None:
    # Faster than a new database per test; RESTART IDENTITY so ids do not leak between tests.
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = connect(database_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 32,
        code_pepper="test-pepper-" + "y" * 32,
        env="test",
        instance_path=tmp_path / "instance",
        base_url="http://testserver",
        map_tiles=MAP_TILES_STUB,
    )


SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.time()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    # Under pytest-xdist the workers take the screenshots and tests/browser/conftest.py's own
    # summary never runs on the controller: say here where they are.
    if not config.getoption("numprocesses", None) or not SCREENSHOTS.is_dir():
        return
    started = config.stash.get(_STARTED, 0.0)
    fresh = [p for p in SCREENSHOTS.rglob("*.png") if p.stat().st_mtime >= started]
    if fresh:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{len(fresh)} screenshot(s) in {SCREENSHOTS}")


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback: its inbox and port."""
    with smtp_server() as running:
        yield running
