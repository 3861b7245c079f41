"""What the published result decided for each plan: it goes ahead (gaat door) or it does not.

Read from the stored result record, which cannot change once signed off, so the answer is kept
per result (a few rounds at most): the round page, the most visited page, then parses no JSON.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.models import Phase, Result, ResultStatus, Round
from proeftuin.services import result_record

CACHE_SIZE = 16

# Keyed by the result and the SHA-256 of its ballots, as open_data's cache: ids repeat between
# databases (a restored backup, the tests), the hash of what was counted does not.
_cache: OrderedDict[tuple[int, str], frozenset[str]] = OrderedDict()
_lock = threading.Lock()


def funded_public_ids(session: Session, round_id: int) -> frozenset[str] | None:
    """The public ids of the plans the round's own rule funded; None before publication."""
    row = session.execute(
        select(Result.id, Result.ballots_sha256)
        .join(Round, Round.id == Result.round_id)
        .where(
            Result.round_id == round_id,
            Result.status == ResultStatus.GEPUBLICEERD,
            Round.phase == Phase.GEPUBLICEERD,
        )
    ).first()
    if row is None:
        return None
    result_id, sha256 = row
    key = (result_id, sha256)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    funded = frozenset(result_record.read(session.get_one(Result, result_id)).own.report.selected)
    with _lock:
        _cache[key] = funded
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return funded


def outcome(funded: frozenset[str] | None, public_id: str, on_ballot: bool) -> bool | None:
    """True: goes ahead; False: does not; None: not decided (no published result, or the plan
    was not on the ballot)."""
    if funded is None or not on_ballot:
        return None
    return public_id in funded
