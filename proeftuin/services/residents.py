"""Residents sign in with their e-mail address: a single-use link, valid for 10 minutes.

The answer is the same whether the address is known or not. Sends are limited per address and per IP
(the limits count sends here, not failures: a link is a message to someone's inbox).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, NotFound, TooManyAttempts
from proeftuin.i18n import N_, gettext
from proeftuin.models import Phase, Resident, Round, UsedToken
from proeftuin.services import accounts, outbox, ratelimit

LINK_MINUTES = 10
SIGN_IN_PURPOSE = "resident-sign-in"
SIGN_IN_SUBJECT = N_("{gemeente}: uw link om in te loggen")
SIGN_IN_SUBJECT_PLAIN = N_("Uw link om in te loggen")  # without a gemeente name
# Says who sends it, why it came, and what to do if it was not asked for: a sign-in mail that
# does not look like phishing.
SIGN_IN_BODY = N_(
    "Hallo,\n"
    "\n"
    "Iemand vroeg met dit e-mailadres om in te loggen bij de burgerbegroting van {gemeente}"
    "{about}. Daarom krijgt u deze e-mail.\n"
    "\n"
    "Was u dat? Klik dan op deze link om in te loggen:\n"
    "\n"
    "{link}\n"
    "\n"
    "De link werkt {minutes} minuten en maar één keer. U hoeft geen wachtwoord in te vullen.\n"
    "\n"
    "Heeft u dit niet gevraagd? Klik dan niet op de link en doe niets. Zonder de link kan niemand "
    "inloggen met uw e-mailadres.\n"
    "\n"
    "{gemeente}\n"
)
SIGN_IN_ABOUT = N_(", voor de ronde \u201c{round}\u201d")
ROUND_PATH = re.compile(r"^/rondes/([a-z0-9-]{1,80})(?:/|$)")


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SIGN_IN_PURPOSE)


def request_sign_in_link(
    session: Session,
    secret_key: str,
    base_url: str,
    email: str,
    ip_key: str,
    now: dt.datetime,
    next_path: str = "/",
    gemeente: str = "",
) -> None:
    """Queue a sign-in link; raises only for a malformed address or too many sends. The mail is in
    the language of the request asking for it: the resident's own (services/outbox.py). It names
    the gemeente and, when the resident comes from a round's pages, the round."""
    email = accounts.validate_email(email)
    address_key = ratelimit.hash_key(secret_key, email)
    for limit, key in (
        (ratelimit.MAIL_PER_ADDRESS, address_key),
        (ratelimit.MAIL_PER_IP, ip_key),
    ):
        wait = ratelimit.retry_after(session, limit, key, now)
        if wait is not None:
            raise TooManyAttempts(wait)
    ratelimit.record(session, ratelimit.MAIL_PER_ADDRESS, address_key, now)
    ratelimit.record(session, ratelimit.MAIL_PER_IP, ip_key, now)
    token = _serializer(secret_key).dumps({"email": email, "next": _safe_path(next_path)})
    link = f"{base_url}/inloggen/link?token={token}"
    title = _round_title(session, next_path)
    about = gettext(SIGN_IN_ABOUT, round=title) if title else ""
    outbox.queue(
        session,
        email,
        gettext(SIGN_IN_SUBJECT, gemeente=gemeente) if gemeente else gettext(SIGN_IN_SUBJECT_PLAIN),
        gettext(SIGN_IN_BODY, link=link, minutes=LINK_MINUTES, gemeente=gemeente, about=about),
    )


def _round_title(session: Session, next_path: str) -> str:
    """The public round a path leads to ("/rondes/<slug>/..."), or ""."""
    match = ROUND_PATH.match(next_path)
    if match is None:
        return ""
    round_ = session.scalar(select(Round).where(Round.slug == match.group(1)))
    return round_.title if round_ is not None and round_.phase != Phase.CONCEPT else ""


def redeem_sign_in_link(
    session: Session, secret_key: str, token: str, now: dt.datetime
) -> tuple[Resident, str]:
    """The resident the link was for (created on first sign-in) and where to go next."""
    try:
        data = _serializer(secret_key).loads(token, max_age=LINK_MINUTES * 60)
    except SignatureExpired:
        raise Invalid("token", "Deze link is verlopen. Vraag een nieuwe link aan.") from None
    except BadSignature:
        raise Invalid("token", "Deze link klopt niet. Vraag een nieuwe link aan.") from None
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    if session.scalar(select(UsedToken.id).where(UsedToken.token_hash == token_hash)) is not None:
        raise Invalid("token", "Deze link is al gebruikt. Vraag een nieuwe link aan.")
    session.execute(delete(UsedToken).where(UsedToken.expires_at < now))
    session.add(
        UsedToken(token_hash=token_hash, expires_at=now + dt.timedelta(minutes=LINK_MINUTES + 1))
    )
    email = str(data["email"])
    resident = session.scalar(select(Resident).where(Resident.email == email))
    if resident is None:
        resident = Resident(email=email, verified_at=now)
        session.add(resident)
    elif resident.verified_at is None:
        resident.verified_at = now
    session.flush()
    return resident, _safe_path(str(data.get("next", "/")))


def get_resident(session: Session, resident_id: int) -> Resident:
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise NotFound()
    return resident


def update_profile(
    session: Session, resident_id: int, display_name: str, postcode: str
) -> Resident:
    resident = get_resident(session, resident_id)
    name = display_name.strip()
    if not name or len(name) > 100:
        raise Invalid("display_name", "Vul een naam in van hoogstens 100 tekens.")
    resident.display_name = name
    resident.postcode = normalise_postcode(postcode) if postcode.strip() else ""
    return resident


def normalise_postcode(postcode: str) -> str:
    compact = postcode.replace(" ", "").upper()
    if (
        len(compact) != 6
        or not compact.isascii()  # "²" is a digit to isdigit(), and "Ä" a letter to isalpha()
        or not compact[:4].isdigit()
        or not compact[4:].isalpha()
    ):
        raise Invalid("postcode", "Vul een postcode in zoals 9401 AB.")
    if compact[0] == "0":
        raise Invalid("postcode", "Vul een postcode in zoals 9401 AB.")
    return f"{compact[:4]} {compact[4:]}"


def _safe_path(path: str) -> str:
    # Only paths on this site: no scheme, no host, no protocol-relative "//evil.example".
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path
