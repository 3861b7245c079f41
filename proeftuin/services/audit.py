"""The audit log: who did what, when, to which object.

Details are for people who check the work of staff, so they must never hold what the audit log
could leak: letter codes, e-mail addresses or what is on a ballot. Keys that name such things are
a programming error (``ValueError``); an e-mail address or code that slips into a text (a typed
reason, say) is blanked out before it is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin.db import lock_name, utcnow
from proeftuin.models import AuditEvent, StaffUser
from proeftuin.services.spreadsheets import Sheet

# Key words (whole or as one part of a snake_case key) that point at secret or personal data.
FORBIDDEN_KEY_PARTS = frozenset(
    {
        "code",
        "codes",
        "email",
        "emails",
        "mail",
        "address",
        "choice",
        "choices",
        "vote",
        "votes",
        "password",
        "token",
        "pepper",
        "secret",
        "receipt",
        "receipts",
        "voter",
        "totp",
        "ip",
    }
)
EMAIL = re.compile(r"[^\s@<>()\"',;:]+@[^\s@<>()\"',;:]+\.[^\s@<>()\"',;:]+")
# A letter code, typed any way (12 characters, maybe as 4-4-4), or a receipt of the same shape.
LETTER_CODE = re.compile(
    r"(?<![0-9A-Za-z])[0-9A-Za-z]{4}([- ]?)[0-9A-Za-z]{4}\1[0-9A-Za-z]{4}(?![0-9A-Za-z])"
)
GENESIS = "0" * 64  # what the first event follows
CHAIN_LOCK = "audit-chain"
HEAD = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
MAX_PROBLEMS = 20
EMAIL_BLANK = "[e-mailadres]"
CODE_BLANK = "[code]"
MAX_TEXT = 2_000

Scalar = str | int | float | bool | None
Detail = Scalar | Sequence[Scalar]


@dataclass(frozen=True)
class Entry:
    id: int
    at: dt.datetime
    actor_id: int | None
    actor_name: str  # "" for the system (the scheduled check)
    action: str
    target_type: str
    target_id: int | None
    area_id: int | None
    details: dict[str, Any]


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    area_id: int | None = None,
    **details: Detail,
) -> AuditEvent:
    """Write one audit event; ``actor_id`` None means the system itself (e.g. ``tick``).

    The event is chained to the newest one. Writers take turns at the chain (``lock_name``:
    an advisory lock on PostgreSQL; SQLite has one writer at a time), so at READ COMMITTED each
    sees the head the one before left. A SERIALIZABLE writer whose snapshot predates that head
    fails on the unique ``prev_hash`` (or a serialization failure) and runs again
    (db.RACE_CONSTRAINTS): the chain cannot fork."""
    lock_name(session, CHAIN_LOCK)
    previous = session.scalar(HEAD) or GENESIS
    at = utcnow()
    text = json.dumps(clean_details(details), ensure_ascii=False, sort_keys=True)
    event = AuditEvent(
        at=at,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        area_id=area_id,
        details=text,
        prev_hash=previous,
        hash=chain_hash(previous, at, actor_id, action, target_type, target_id, area_id, text),
    )
    session.add(event)
    session.flush()
    return event


def chain_hash(
    previous: str,
    at: dt.datetime,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    area_id: int | None,
    details: str,
) -> str:
    """SHA-256 over the hash before and every stored field of an event (migration 0003 chained
    the events written before it with this too)."""
    moment = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    fields = [
        previous,
        moment.isoformat(timespec="microseconds"),
        actor_id,
        action,
        target_type,
        target_id,
        area_id,
        details,
    ]
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    events: int
    head: str  # the newest event's hash (GENESIS for an empty log)
    problems: tuple[str, ...]  # the first MAX_PROBLEMS breaks found, oldest first
    head_found: bool | None  # whether the hash asked about is in the chain (None: none asked)

    @property
    def ok(self) -> bool:
        return not self.problems and self.head_found is not False


def verify_chain(session: Session, expected: str | None = None) -> ChainCheck:
    """Walk the log oldest first: each event must follow the one before it and still have the
    hash of what it holds. ``expected``, a head printed earlier (on a proces-verbaal), must
    still be one of the events: a log cut short or rewritten from there on does not have it."""
    previous, count, problems, found = GENESIS, 0, [], False
    rows = session.execute(
        select(
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.actor_id,
            AuditEvent.action,
            AuditEvent.target_type,
            AuditEvent.target_id,
            AuditEvent.area_id,
            AuditEvent.details,
            AuditEvent.prev_hash,
            AuditEvent.hash,
        )
        .order_by(AuditEvent.id)
        .execution_options(yield_per=2_000)
    )
    for row in rows:
        count += 1
        if row.prev_hash != previous:
            problems.append(
                f"event {row.id} follows {row.prev_hash[:16]}, but the event before it is "
                f"{previous[:16]}: an event was removed, added or moved"
            )
        fields = (row.at, row.actor_id, row.action, row.target_type, row.target_id, row.area_id)
        if chain_hash(row.prev_hash, *fields, row.details) != row.hash:
            problems.append(f"event {row.id} no longer has the hash of what it holds: changed")
        found = found or row.hash == expected
        previous = row.hash
    return ChainCheck(
        events=count,
        head=previous,
        problems=tuple(problems[:MAX_PROBLEMS]),
        head_found=None if expected is None else found or expected == GENESIS,
    )


def clean_details(details: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        _check_key(key)
        if isinstance(value, list | tuple):
            cleaned = [_clean_scalar(key, v) for v in value]
            out[key] = [v for v in cleaned if v is not None]
        else:
            cleaned_value = _clean_scalar(key, value)
            if cleaned_value is not None or value is None:
                out[key] = cleaned_value
    return out


def events(
    session: Session,
    area_ids: Collection[int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Entry]:
    """Newest first. ``area_ids`` limits the list to events about those areas (None: all)."""
    query = (
        select(AuditEvent, StaffUser.name)
        .outerjoin(StaffUser, StaffUser.id == AuditEvent.actor_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(max(0, min(limit, 1_000)))
        .offset(max(0, offset))
    )
    if area_ids is not None:
        query = query.where(AuditEvent.area_id.in_(list(area_ids)))
    return [_entry(event, name) for event, name in session.execute(query)]


def count(session: Session, area_ids: Collection[int] | None = None) -> int:
    query = select(func.count(AuditEvent.id))
    if area_ids is not None:
        query = query.where(AuditEvent.area_id.in_(list(area_ids)))
    return int(session.scalar(query) or 0)


CSV_HEADER = (
    "Nummer",
    "Tijd (UTC)",
    "Medewerkernummer",
    "Medewerker",
    "Actie",
    "Soort object",
    "Objectnummer",
    "Gebiedsnummer",
    "Details",
)


def export_sheet(session: Session) -> Sheet:
    """Every event, oldest first, for a spreadsheet (services/spreadsheets.py)."""
    query = (
        select(AuditEvent, StaffUser.name)
        .outerjoin(StaffUser, StaffUser.id == AuditEvent.actor_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    rows = [
        (
            e.id,
            e.at.isoformat(),
            e.actor_id,
            name or "",
            e.action,
            e.target_type,
            e.target_id,
            e.area_id,
            e.details,
        )
        for e, name in session.execute(query)
    ]
    return Sheet("Logboek", CSV_HEADER, rows)


def _check_key(key: str) -> None:
    parts = set(re.split(r"[_\W]+", key.lower())) | {key.lower()}
    if parts & FORBIDDEN_KEY_PARTS:
        raise ValueError(f"audit details may not hold {key!r}: no codes, e-mail or ballots")


def _clean_scalar(key: str, value: object) -> Scalar:
    if value is None or isinstance(value, bool | int | float):
        return value
    if not isinstance(value, str):
        raise ValueError(f"audit detail {key!r} must be text, a number or a list of those")
    stripped = value.strip()
    if EMAIL.fullmatch(stripped) or _is_code(LETTER_CODE.fullmatch(stripped)):
        return None
    text = EMAIL.sub(EMAIL_BLANK, value)
    text = LETTER_CODE.sub(lambda m: CODE_BLANK if _is_code(m) else m.group(0), text)
    return text[:MAX_TEXT]


def _is_code(match: re.Match[str] | None) -> bool:
    # Words of twelve letters ("verkeersplans") or "voor deze plek" are not codes: a code has a
    # digit in it, or is written in capitals, or in groups joined by dashes.
    if match is None:
        return False
    compact = match.group(0).replace("-", "").replace(" ", "")
    return any(c.isdigit() for c in compact) or compact.isupper() or match.group(1) == "-"


def _entry(event: AuditEvent, actor_name: str | None) -> Entry:
    try:
        details = json.loads(event.details)
    except ValueError:
        details = {}
    return Entry(
        id=event.id,
        at=event.at,
        actor_id=event.actor_id,
        actor_name=actor_name or "",
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        area_id=event.area_id,
        details=details if isinstance(details, dict) else {},
    )
