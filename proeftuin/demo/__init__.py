"""A believable demo gemeente, so a newcomer sees the product at once (``proeftuin demo``).

The demo enters everything as people do: an admin account of its own (switched off) creates the
areas and rounds, a demo resident proposes the plans, the admin reviews them, issues letter codes,
types in paper ballots and counts, signs off and publishes, through the same checked services as
the staff pages. Nothing in ``proeftuin.services`` knows the demo exists.

Idempotent: what exists is left alone. The voting round's letter codes are derived from the
instance's pepper, so every run can list the same codes again although only their hashes are stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import utcnow
from proeftuin.demo import data
from proeftuin.demo.comments import seed_comments
from proeftuin.demo.events import seed_event
from proeftuin.demo.execution import seed_execution
from proeftuin.demo.places import seed_photos_and_places
from proeftuin.demo.results import seed_published_round
from proeftuin.demo.rounds import demo_admin, demo_resident, existing_round, seed_round
from proeftuin.demo.site import seed_site
from proeftuin.demo.staff_work import seed_staff_work
from proeftuin.models import VotingCode
from proeftuin.services import codes, rounds

DEMO_CODE_COUNT = 25
VOTING_ROUND_SLUG = rounds.slugify(data.VOTING_ROUND.title)
PUBLISHED_ROUND_SLUG = rounds.slugify(data.PUBLISHED_ROUND.title)

__all__ = [
    "DEMO_CODE_COUNT",
    "PUBLISHED_ROUND_SLUG",
    "VOTING_ROUND_SLUG",
    "DemoSummary",
    "demo_codes",
    "seed_demo",
]


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    voting_round_slug: str
    codes: list[str]
    event_codes: dict[str, list[str]] = field(default_factory=dict)  # district name -> codes


def demo_codes(pepper: str) -> list[str]:
    out = []
    for i in range(DEMO_CODE_COUNT):
        digest = hmac.new(pepper.encode(), f"demo-code-{i}".encode(), hashlib.sha256).digest()
        out.append("".join(codes.ALPHABET[b % 32] for b in digest[: codes.LENGTH]))
    return out


def seed_demo(session: Session, pepper: str, now: dt.datetime | None = None) -> DemoSummary:
    now = now or utcnow()
    created = existing_round(session, data.VOTING_ROUND) is None
    actor = demo_admin(session)
    resident = demo_resident(session, now)
    voting = seed_round(session, actor, resident, data.VOTING_ROUND, data.VOTING_PLANS, now)
    proposals = seed_round(session, actor, resident, data.PROPOSAL_ROUND, data.PROPOSAL_PLANS, now)
    seed_staff_work(session, actor, proposals)
    seed_round(session, actor, resident, data.CONCEPT_ROUND, (), now)
    seed_comments(session, actor, resident, [voting, proposals], now)
    seed_execution(session, seed_published_round(session, pepper, now), now)
    seed_site(session, actor)
    event_codes = seed_event(session, actor, resident, pepper, now)
    seed_photos_and_places(session)
    plain_codes = demo_codes(pepper)
    # Known codes rather than codes.generate_for_round's random ones: the command lists them again
    # on every run. Issuing codes that exist already changes nothing.
    codes.issue_codes(session, voting, pepper, plain_codes)
    used = set(
        session.scalars(
            select(VotingCode.code_hash).where(
                VotingCode.round_id == voting.id, VotingCode.status != "unused"
            )
        )
    )
    usable = [c for c in plain_codes if codes.code_hash(pepper, c) not in used]
    return DemoSummary(created, voting.slug, usable, event_codes)
