"""Each page function declares the transaction it runs in, where it is defined.

The web layer calls every page function through ``perform``, which reads the declaration and
picks the matching ``proeftuin.db`` entry point. So the transaction a function needs is stated
once, next to the code that needs it, and a caller cannot run it the wrong way: on SQLite a
counted wrong code run in a plain read would be rolled back without a word.

- ``read``: changes nothing (a read-only transaction on PostgreSQL).
- ``write``: an ordinary write (SERIALIZABLE on PostgreSQL, the write lock on SQLite).
- ``write_locking``: work that locks what it decides on itself (``db.lock_row``,
  ``db.lock_name``), such as casting a ballot: READ COMMITTED on PostgreSQL.
- ``write_deferred``: work that mostly reads and only now and then writes (a typed letter code,
  where only a wrong one is counted): it does not take SQLite's write lock up front.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session

from proeftuin import db
from proeftuin.db import Database

P = ParamSpec("P")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "__proeftuin_transaction__"


class Transaction(enum.Enum):
    READ = "read"
    WRITE = "write"
    WRITE_LOCKING = "write_locking"
    WRITE_DEFERRED = "write_deferred"


RUNNERS: dict[Transaction, Callable[..., Any]] = {
    Transaction.READ: db.read,
    Transaction.WRITE: db.transact,
    Transaction.WRITE_LOCKING: db.transact_locking,
    Transaction.WRITE_DEFERRED: db.transact_deferred,
}


def _declaring(kind: Transaction) -> Callable[[F], F]:
    def declare(fn: F) -> F:
        setattr(fn, ATTRIBUTE, kind)
        return fn

    return declare


read = _declaring(Transaction.READ)
write = _declaring(Transaction.WRITE)
write_locking = _declaring(Transaction.WRITE_LOCKING)
write_deferred = _declaring(Transaction.WRITE_DEFERRED)


class Undeclared(TypeError):
    pass


def transaction_of(fn: Callable[..., Any]) -> Transaction:
    kind = getattr(fn, ATTRIBUTE, None)
    if not isinstance(kind, Transaction):
        name = getattr(fn, "__qualname__", repr(fn))
        raise Undeclared(f"{name} declares no transaction (services.pages.declare)")
    return kind


def perform_now(
    database: Database,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run a page function in the transaction it declares (from sync code: the CLI, jobs)."""
    runner = RUNNERS[transaction_of(fn)]
    result: T = runner(database, fn, *args, **kwargs)
    return result


async def perform(
    database: Database,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``perform_now`` in a worker thread, from the async web layer."""
    work = functools.partial(perform_now, database, fn, *args, **kwargs)
    return await anyio.to_thread.run_sync(work)
