"""Web fixtures: the real app on each backend's freshly migrated database (``db``/``settings``
come from tests/conftest.py), and a little data to show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database, transact
from proeftuin.models import Area, Phase, Round
from proeftuin.web.app import create_app


@pytest.fixture
def app(settings: Settings, db: Database) -> Starlette:
    return create_app(settings, db)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def add_area(db: Database, slug: str, name: str, kind: str = "wijk") -> int:
    def insert(session: Session) -> int:
        area = Area(slug=slug, name=name, kind=kind)
        session.add(area)
        session.flush()
        return area.id

    return transact(db, insert)


def add_round(
    db: Database,
    area_id: int,
    slug: str,
    title: str,
    *,
    budget: int,
    phase: Phase,
    voting_ends_at: dt.datetime | None = None,
) -> None:
    def insert(session: Session) -> None:
        session.add(
            Round(
                area_id=area_id,
                slug=slug,
                title=title,
                budget=budget,
                phase=phase.value,
                voting_ends_at=voting_ends_at,
                tie_break_seed="seed",
            )
        )

    transact(db, insert)
