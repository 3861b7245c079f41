"""The pause inside the casting transaction that makes the trust tests' races real.

Production code has no hook for it: the test suite wraps the ballot check that ``voting.cast``
runs after taking its locks and before it writes, so that a pause there keeps the transaction
open while other submissions arrive. A served worker installs it at start-up
(probes/sitecustomize.py, when ``TRUST_CAST_DELAY_MS`` is set); an in-process caller, such as a
clerk entering paper ballots, uses ``paused_casts``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from proeftuin.services import ballot_rules

ENV = "TRUST_CAST_DELAY_MS"


def install(seconds: float) -> Callable[[], None]:
    """Pause ``seconds`` after each cast's checks; returns what takes the pause out again."""
    original = ballot_rules.validate

    @functools.wraps(original)
    def paused(*args: Any, **kwargs: Any) -> Any:
        chosen = original(*args, **kwargs)
        time.sleep(seconds)
        return chosen

    ballot_rules.validate = paused

    def remove() -> None:
        ballot_rules.validate = original

    return remove


@contextmanager
def paused_casts(seconds: float) -> Iterator[None]:
    remove = install(seconds)
    try:
        yield
    finally:
        remove()
