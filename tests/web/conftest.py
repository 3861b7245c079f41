"""Web fixtures: the real app on each backend's freshly migrated database (``db``/``settings``
come from tests/conftest.py); the data comes from tests/factories.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database
from proeftuin.web.app import create_app


@pytest.fixture
def app(settings: Settings, db: Database) -> Starlette:
    return create_app(settings, db)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client
