"""The audit log: who did what, when, to which object.

Details are for people who check the work of staff, so they must never hold what the audit log
could leak: letter codes, e-mail addresses or what is on a ballot. Keys that name such things are
a programming error (``ValueError``); an e-mail address or code that slips into a text (a typed
reason, say) is blanked out before it is stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin.models import AuditEvent, StaffUser

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
    """Write one audit event; ``actor_id`` None means the system itself (e.g. ``tick``)."""
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        area_id=area_id,
        details=json.dumps(clean_details(details), ensure_ascii=False, sort_keys=True),
    )
    session.add(event)
    session.flush()
    return event


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
    "id",
    "tijd_utc",
    "medewerker_id",
    "medewerker",
    "actie",
    "object",
    "object_id",
    "gebied_id",
    "details",
)


def export_csv(session: Session) -> str:
    """Every event, oldest first, for a spreadsheet (cells are safe from formula injection)."""
    query = (
        select(AuditEvent, StaffUser.name)
        .outerjoin(StaffUser, StaffUser.id == AuditEvent.actor_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    rows = (
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
    )
    return csv_text(CSV_HEADER, rows)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe_cell(value) for value in row])
    return out.getvalue()


def _safe_cell(value: object) -> object:
    # A cell starting with = + - @ is run as a formula by spreadsheet programs.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


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
