"""Letter codes: the strongest credential, one per resident from the register (DESIGN.md §4.3).

A code is 12 characters of Crockford base32 (no I, L, O or U to misread), printed as 4-4-4. Only
HMAC-SHA256(pepper, code) is stored; the pepper lives outside the database, so a stolen database
holds no usable code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.models import Round, VotingCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12
# Crockford's decoding: letters people type for digits that look alike.
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_IGNORED = str.maketrans("", "", " -_.\t")


def generate_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(typed: str) -> str | None:
    """The canonical code for what a resident typed, or None when it cannot be a code."""
    code = typed.upper().translate(_IGNORED).translate(_READ_AS)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def display(code: str) -> str:
    return f"{code[0:4]}-{code[4:8]}-{code[8:12]}"


def code_hash(pepper: str, code: str) -> str:
    return hmac.new(pepper.encode(), f"code:{code}".encode(), hashlib.sha256).hexdigest()


def voter_key(pepper: str, round_id: int, credential: str) -> str:
    """The pseudonymous link from a credential to its ballot: the same credential, the same key."""
    message = f"voter:{round_id}:{credential}".encode()
    return hmac.new(pepper.encode(), message, hashlib.sha256).hexdigest()


def issue_codes(
    session: Session, round_: Round, pepper: str, codes: Iterable[str], batch: int = 1
) -> int:
    """Store the hashes of the given plain codes for a round; returns how many were new."""
    hashes = {code_hash(pepper, code) for code in codes}
    existing = set(
        session.scalars(select(VotingCode.code_hash).where(VotingCode.code_hash.in_(hashes)))
    )
    new = hashes - existing
    session.add_all(VotingCode(round_id=round_.id, code_hash=h, batch=batch) for h in new)
    session.flush()
    return len(new)


def generate_codes(session: Session, round_: Round, pepper: str, count: int) -> list[str]:
    """Make ``count`` new codes for a round; the plain codes are returned once and never stored."""
    batch = (
        session.scalar(
            select(VotingCode.batch)
            .where(VotingCode.round_id == round_.id)
            .order_by(VotingCode.batch.desc())
            .limit(1)
        )
        or 0
    ) + 1
    codes: set[str] = set()
    while len(codes) < count:
        fresh = {generate_code() for _ in range(count - len(codes))} - codes
        taken = set(
            session.scalars(
                select(VotingCode.code_hash).where(
                    VotingCode.code_hash.in_([code_hash(pepper, c) for c in fresh])
                )
            )
        )
        codes |= {c for c in fresh if code_hash(pepper, c) not in taken}
    issue_codes(session, round_, pepper, codes, batch=batch)
    return sorted(codes)
