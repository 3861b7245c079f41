"""A ballot that was acknowledged survives ``kill -9`` of the server.

A thousand residents cast with their own codes; the moment the thousandth receipt (303) arrives,
the whole server process group is killed with SIGKILL, with other casts still in flight. After a
restart every acknowledged receipt is in the database under its own code, and nothing else is
there but casts that were in flight at the kill.

SQLite runs in WAL mode with ``synchronous=NORMAL`` (proeftuin/db.py): a commit is in the WAL
file, in the operating system's page cache, before the answer is sent, so killing the process
cannot lose it. A power cut or kernel crash can lose the last commits before the next WAL sync;
``synchronous=FULL`` would close that gap at the price of an fsync per ballot. That is a
decision about hardware failure (docs/decisions.md), not about this test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from sqlalchemy.orm import Session

from proeftuin.db import read
from proeftuin.services import voting
from proeftuin.web.voting import issue_pass
from tests.trust.client import AsyncVoter, Voter, new_token, receipt_of, shared_client
from tests.trust.server import PEPPER, Server, TrustDatabase

ACKNOWLEDGED = 1_000
RESIDENTS_AT_ONCE = 16


async def cast_until_acknowledged(
    server: Server, passes: dict[str, str], choices: dict[str, int]
) -> tuple[dict[str, str], set[str]]:
    """Cast with fresh codes until ``ACKNOWLEDGED`` receipts came back, then kill -9 the server
    at once. Returns the receipts by code (answers already on their way when the server died
    count too: they were sent after the commit) and the codes whose cast got no answer."""
    acknowledged: dict[str, str] = {}
    unanswered: set[str] = set()
    next_code = iter(passes)

    async def resident(http: httpx.AsyncClient) -> None:
        voter = AsyncVoter(http)
        await voter.open()
        for code in next_code:
            if server.process is None:
                return
            unanswered.add(code)
            try:
                cast = await voter.cast(passes[code], choices, new_token())
            except httpx.TransportError:  # the server is gone
                return
            receipt = receipt_of(cast.status_code, cast.headers.get("location"))
            assert receipt, (cast.status_code, cast.text[:500])
            acknowledged[code] = receipt
            unanswered.discard(code)
            if len(acknowledged) == ACKNOWLEDGED:
                server.kill()  # synchronous: no other resident runs before the group is dead

    async with shared_client(server.url, RESIDENTS_AT_ONCE) as http:
        await asyncio.gather(*(resident(http) for _ in range(RESIDENTS_AT_ONCE)))
    return acknowledged, unanswered


def voting_passes(db: TrustDatabase, server: Server, codes: list[str]) -> dict[str, str]:
    def make(session: Session) -> dict[str, str]:
        settings = server.settings()
        return {
            code: issue_pass(settings, voting.check_code(session, PEPPER, code)[1])
            for code in codes
        }

    return read(db.database, make)


def test_a_thousand_acknowledged_ballots_survive_kill_9(
    trust_db: TrustDatabase, server_factory: Callable[..., Server]
) -> None:
    round_ = trust_db.seed_round(code_count=ACKNOWLEDGED + 2 * RESIDENTS_AT_ONCE)
    choices = {round_.plan_ids[0]: 1, round_.plan_ids[1]: 1}
    server = server_factory()
    # The ballot pages' passes, made here: typing the codes is not what this test is about.
    passes = voting_passes(trust_db, server, round_.codes[:-1])
    acknowledged, unanswered = asyncio.run(cast_until_acknowledged(server, passes, choices))
    assert len(acknowledged) >= ACKNOWLEDGED
    assert server.process is None  # killed, not stopped

    server.start()
    stored = {ballot.voter_key: ballot for ballot in trust_db.ballots(round_.id)}
    keys = trust_db.voter_keys(round_.codes)
    for code, receipt in acknowledged.items():
        ballot = stored.pop(keys[code], None)
        assert ballot is not None, f"acknowledged receipt {receipt} was lost"
        assert ballot.receipt == receipt and ballot.choices == choices
    # Whatever else is there was cast when the server died, unanswered; nothing else is.
    assert set(stored) <= {keys[code] for code in unanswered}, "a ballot nobody cast"

    # The restarted server serves on as if nothing happened.
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/healthz").text == "ok"
    with Voter(server.url) as voter:
        voter.vote(round_.codes[-1], choices)
    assert trust_db.ballot_count(round_.id) == len(acknowledged) + len(stored) + 1
