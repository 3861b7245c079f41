"""Letter codes: the strongest credential, one per resident from the register.

See docs/decisions.md, Letter codes.

A code is 12 characters of Crockford base32 (no I, L, O or U to misread), printed as 4-4-4. Only
HMAC-SHA256(pepper, code) is stored; the pepper lives outside the database, so a stolen database
holds no usable code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import String, Table, any_, func, insert, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from proeftuin.db import UTCDateTime, utcnow
from proeftuin.errors import Invalid, _
from proeftuin.models import CodeStatus, Eligibility, Phase, Round, VotingCode
from proeftuin.services import audit, lookup, spreadsheets
from proeftuin.services.permissions import Actor
from proeftuin.services.spreadsheets import Sheet

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12
# Crockford's decoding: letters people type for digits that look alike.
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_IGNORED = str.maketrans("", "", " -_.\t")


def generate_code() -> str:
    # 60 random bits, five per character: the 32 characters are exactly equally likely.
    bits = int.from_bytes(secrets.token_bytes(8), "big") >> 4
    return "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(LENGTH))


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
    new = hashes - _taken(session, hashes)
    _insert(session, round_.id, new, batch)
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
    codes: dict[str, str] = {}  # hash -> code
    while len(codes) < count:
        fresh = {
            code_hash(pepper, c): c for c in (generate_code() for _ in range(count - len(codes)))
        }
        for taken in _taken(session, fresh.keys()) | codes.keys():
            fresh.pop(taken, None)
        codes |= fresh
    _insert(session, round_.id, codes.keys(), batch)
    return sorted(codes.values())


# Bound parameters per query stay far below SQLite's and PostgreSQL's limits.
_CHUNK = 5_000
_PG_CHUNK = 50_000
# The plain table: a Core executemany skips the ORM's per-row work (SQLite is fast at these).
_TABLE = cast(Table, VotingCode.__table__)


def _taken(session: Session, hashes: Iterable[str]) -> set[str]:
    wanted = list(hashes)
    taken: set[str] = set()
    postgres = session.get_bind().dialect.name == "postgresql"
    size = _PG_CHUNK if postgres else _CHUNK
    for start in range(0, len(wanted), size):
        chunk = wanted[start : start + size]
        match = (
            VotingCode.code_hash == any_(literal(chunk, postgresql.ARRAY(String)))
            if postgres
            else VotingCode.code_hash.in_(chunk)
        )
        taken.update(session.scalars(select(VotingCode.code_hash).where(match)))
    return taken


def _insert(session: Session, round_id: int, hashes: Iterable[str], batch: int) -> None:
    ordered = sorted(hashes)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # One statement with an array: a row per statement would take a round trip per code.
        for start in range(0, len(ordered), _PG_CHUNK):
            chunk = ordered[start : start + _PG_CHUNK]
            rows = select(
                literal(round_id),
                func.unnest(literal(chunk, postgresql.ARRAY(String))),
                literal(batch),
                literal(CodeStatus.UNUSED.value),
                literal(utcnow(), UTCDateTime),
            )
            session.execute(
                insert(VotingCode).from_select(
                    ["round_id", "code_hash", "batch", "status", "created_at"], rows
                )
            )
        return
    values = [{"round_id": round_id, "code_hash": h, "batch": batch} for h in ordered]
    for start in range(0, len(values), _CHUNK):
        session.execute(insert(_TABLE), values[start : start + _CHUNK])


# -- Staff: generating, revoking and counting codes --------------------------------------------

MAX_BATCH = 100_000
CLOSED_PHASES = (Phase.GESLOTEN, Phase.GEPUBLICEERD)
CSV_HEADER = "code"


@dataclass(frozen=True)
class CodeCounts:
    issued: int  # all codes ever made for the round, revoked ones included
    unused: int
    used: int
    revoked: int


def generate_for_round(
    session: Session, actor: Actor, round_id: int, count: int | str, pepper: str
) -> list[str]:
    """A new batch of codes for a round. The plain codes are in the answer only: show them
    once (CSV, letters); the database keeps their HMACs."""
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    number = _count(count)
    if round_.phase in CLOSED_PHASES:
        raise Invalid("", _("Deze ronde is gesloten. Er kunnen geen codes meer bij."))
    if round_.eligibility == Eligibility.EMAIL:
        raise Invalid(
            "",
            _("In deze ronde stemmen bewoners met hun e-mailadres. Codes zijn hier niet nodig."),
        )
    plain = generate_codes(session, round_, pepper, number)
    batch = session.scalar(
        select(func.max(VotingCode.batch)).where(VotingCode.round_id == round_.id)
    )
    audit.record(
        session,
        actor.staff_id,
        "codes.generate",
        "round",
        round_.id,
        round_.area_id,
        count=number,
        batch=batch,
    )
    return plain


def revoke_code(
    session: Session, actor: Actor, round_id: int, typed_code: str, pepper: str
) -> VotingCode:
    """Make a code unusable (a lost or stolen letter).

    A code that was used cannot be revoked: its ballot would still count, so revoking would only
    suggest that it does not. Voiding ballots is what an admin's reset of the round is for.
    """
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    code = normalise(typed_code)
    if code is None:
        raise Invalid(
            "code",
            _("Deze code klopt niet. Een code heeft 12 tekens, bijvoorbeeld ABCD-EFGH-JKMN."),
        )
    row = session.scalar(
        select(VotingCode).where(
            VotingCode.code_hash == code_hash(pepper, code), VotingCode.round_id == round_.id
        )
    )
    if row is None:
        raise Invalid("code", _("Deze code hoort niet bij deze ronde."))
    return revoke_row(session, actor, round_, row)


def revoke_row(
    session: Session,
    actor: Actor,
    round_: Round,
    row: VotingCode,
    field: str = "code",
    **details: audit.Detail,
) -> VotingCode:
    """Revoke a code of ``round_`` found some other way (by its letter's number, say); the
    refusals name ``field`` and ``details`` go into the audit event."""
    if round_.phase in CLOSED_PHASES:
        raise Invalid(field, _("Deze ronde is gesloten. Codes intrekken kan niet meer."))
    if row.status == CodeStatus.REVOKED:
        raise Invalid(field, _("Deze code is al ingetrokken."))
    if row.status == CodeStatus.USED:
        raise Invalid(
            field,
            _("Met deze code is al gestemd. Een gebruikte code kan niet worden ingetrokken."),
        )
    row.status = CodeStatus.REVOKED.value
    session.flush()
    audit.record(
        session,
        actor.staff_id,
        "code.revoke",
        "voting_code",
        row.id,
        round_.area_id,
        batch=row.batch,
        **details,
    )
    return row


def code_counts(session: Session, actor: Actor, round_id: int) -> CodeCounts:
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    return counts_for(session, round_.id)


def counts_for(session: Session, round_id: int) -> CodeCounts:
    """The counts without an access check, for services that made that check already."""
    by_status: dict[str, int] = dict(
        session.execute(
            select(VotingCode.status, func.count(VotingCode.id))
            .where(VotingCode.round_id == round_id)
            .group_by(VotingCode.status)
        ).all()
    )
    unused, used, revoked = (by_status.get(s.value, 0) for s in CodeStatus)
    return CodeCounts(issued=unused + used + revoked, unused=unused, used=used, revoked=revoked)


def codes_sheet(codes: Iterable[str]) -> Sheet:
    """For mail merge: a header, then one code per row in the 4-4-4 form."""
    rows = []
    for typed in codes:
        code = normalise(typed)
        if code is None:
            raise ValueError("not a letter code")
        rows.append((display(code),))
    return Sheet("Codes", (CSV_HEADER,), rows)


def codes_csv(codes: Iterable[str]) -> str:
    """The same as a plain CSV file, for the command line (``proeftuin codes generate``)."""
    return spreadsheets.csv_text(codes_sheet(codes))


def _count(typed: int | str) -> int:
    text = str(typed).strip().replace(".", "")
    # Nine digits at most: int() refuses text of more than 4,300 digits with a ValueError.
    number = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0
    if not 1 <= number <= MAX_BATCH:
        raise Invalid(
            "count",
            _("Kies een aantal van 1 tot en met {limit}."),
            limit=f"{MAX_BATCH:,}".replace(",", "."),
        )
    return number
