"""One paper ballot entered in-process at the very moment online casts of the same code arrive at
the server (tests/trust: the budget race and the cross-channel tests)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from proeftuin.db import transact, utcnow
from proeftuin.errors import Invalid
from proeftuin.services import paper
from proeftuin.services.permissions import Actor
from tests.trust.client import Burst, Outcome, Request
from tests.trust.server import PEPPER, SeededRound, TrustDatabase


@dataclass(frozen=True)
class Race:
    paper_receipt: str | None  # None: the paper entry was refused
    paper_refusal: str | None
    online: list[Outcome]


def paper_against_online(
    db: TrustDatabase,
    burst: Burst,
    clerk: Actor,
    round_: SeededRound,
    code: str,
    paper_choices: Mapping[str, int],
    online: list[Request],
) -> Race:
    """``burst`` must have been made with ``extra_parties=1``: the paper entry is that party."""
    result: dict[str, str] = {}

    def enter_paper() -> None:
        burst.barrier.wait(timeout=60)
        try:
            receipt = transact(
                db.database,
                paper.enter_paper_ballot,
                clerk,
                round_.id,
                code,
                paper_choices,
                PEPPER,
                utcnow().date(),
            )
            result["receipt"] = receipt.receipt
        except Invalid as refused:
            result["refusal"] = refused.message

    clerk_thread = threading.Thread(target=enter_paper)
    clerk_thread.start()
    outcomes = burst.fire(online)
    clerk_thread.join(timeout=60)
    assert result, "the paper entry did not finish"
    return Race(result.get("receipt"), result.get("refusal"), outcomes)
