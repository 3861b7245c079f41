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
from tests.web.clients import World, make_world, staff_client


@pytest.fixture
def app(settings: Settings, db: Database) -> Starlette:
    return create_app(settings, db)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


# -- two areas and an admin (clients.make_world), each member of staff signed in ---------------


@pytest.fixture
def world(db: Database) -> World:
    return make_world(db)


def _signed_in(app: Starlette, email: str) -> Iterator[TestClient]:
    client = staff_client(app, email)
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def mod_a(app: Starlette, world: World) -> Iterator[TestClient]:
    """The moderator of area A (Noord)."""
    yield from _signed_in(app, "mod-a@gemeente.nl")


@pytest.fixture
def mod_b(app: Starlette, world: World) -> Iterator[TestClient]:
    """The moderator of area B (Zuid)."""
    yield from _signed_in(app, "mod-b@gemeente.nl")


@pytest.fixture
def admin(app: Starlette, world: World) -> Iterator[TestClient]:
    yield from _signed_in(app, "admin@gemeente.nl")
