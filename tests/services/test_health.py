"""The liveness check: it answers on a working database and raises on one that is gone."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from proeftuin.db import Database, connect, read
from proeftuin.services import health


def test_ping_answers_on_a_working_database(db: Database) -> None:
    assert read(db, health.ping) is None


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_ping_raises_when_the_database_cannot_be_reached(tmp_path: Path, backend: str) -> None:
    url = {
        "sqlite": f"sqlite:///{tmp_path}/missing-folder/proeftuin.db",
        "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
    }[backend]
    gone = connect(url)
    try:
        with pytest.raises(OperationalError):
            read(gone, health.ping)
    finally:
        gone.dispose()
