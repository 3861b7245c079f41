"""Every page function declares its transaction, and ``perform`` runs it in that one."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import proeftuin.services.pages as pages_package
from proeftuin.db import Database, read
from proeftuin.models import Area
from proeftuin.services.pages import declare
from proeftuin.services.pages.declare import Transaction, Undeclared


def _page_modules() -> list[ModuleType]:
    # declare.py declares; modules named _x hold what page modules share, no page functions.
    names = [m.name for m in pkgutil.iter_modules(pages_package.__path__)]
    pages = [name for name in names if name != "declare" and not name.startswith("_")]
    return [importlib.import_module(f"proeftuin.services.pages.{name}") for name in pages]


def _page_functions() -> list[tuple[str, object]]:
    found = []
    for module in _page_modules():
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                found.append((f"{module.__name__}.{name}", fn))
    return found


def test_there_are_page_modules_with_functions() -> None:
    assert len(_page_modules()) >= 3
    assert len(_page_functions()) >= 20


PAGE_FUNCTIONS = _page_functions()


@pytest.mark.parametrize(("name", "fn"), PAGE_FUNCTIONS, ids=[name for name, _ in PAGE_FUNCTIONS])
def test_every_public_page_function_declares_its_transaction(name: str, fn: object) -> None:
    assert callable(fn)
    assert isinstance(declare.transaction_of(fn), Transaction), name


def test_an_undeclared_function_is_refused_before_it_runs(db: Database) -> None:
    ran = []

    def undeclared(session: Session) -> None:
        ran.append(True)

    with pytest.raises(Undeclared, match="undeclared"):
        declare.perform_now(db, undeclared)
    assert ran == []


def test_a_declared_write_commits_and_a_read_keeps_nothing(db: Database) -> None:
    @declare.write
    def add(session: Session, slug: str) -> None:
        session.add(Area(slug=slug, name="Oost", kind="wijk"))

    @declare.read
    def add_in_a_read(session: Session, slug: str) -> None:
        session.add(Area(slug=slug, name="West", kind="wijk"))
        session.flush()

    declare.perform_now(db, add, "oost-declared")
    with contextlib.suppress(DBAPIError):  # PostgreSQL refuses a write in a read
        declare.perform_now(db, add_in_a_read, "west-declared")

    def slugs(session: Session) -> set[str]:
        return set(session.scalars(select(Area.slug)))

    found = read(db, slugs)
    assert "oost-declared" in found
    assert "west-declared" not in found


def test_each_declaration_picks_its_own_runner() -> None:
    assert set(declare.RUNNERS) == set(Transaction)
    assert len(set(declare.RUNNERS.values())) == len(Transaction)
