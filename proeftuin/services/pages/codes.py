"""The staff pages of a round's voters (web/codes.py): letter codes and their letters, paper
ballots (with the second person's check), and turnout.

Codes are made and checked here but never stored in plain text: the plain codes exist only in
the answer of ``generate``, and a CSV can only repeat codes the round really has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, _
from proeftuin.models import BallotKind, Eligibility, Phase, Plan, Round, VoidKind, VotingCode
from proeftuin.services import (
    address_list,
    ballot_kinds,
    ballot_rules,
    codes,
    events,
    letters,
    lookup,
    mail_house,
    paper,
    paper_form,
    ratelimit,
    spreadsheets,
    staff_sessions,
    turnout,
    voting,
)
from proeftuin.services.ballot_rules import BallotState
from proeftuin.services.codes import CodeCounts
from proeftuin.services.letters import Letter
from proeftuin.services.pages import declare
from proeftuin.services.permissions import Actor
from proeftuin.services.spreadsheets import StaffFile as StaffFile
from proeftuin.services.turnout import PostcodeTurnout, Turnout

# Re-exported for the letters page (web/codes.py).
display = codes.display

# Letters for more codes than this in one browser page get too heavy to render and print (each
# carries a QR code); the CLI makes any number as a CSV for mail merge.
WEB_BATCH_LIMIT = 1_000
NOT_VOTING = _("Papieren stembiljetten invoeren kan alleen zolang het stemmen loopt.")
CODES_NOT_OF_ROUND = _("Deze codes horen niet (allemaal) bij deze ronde.")
NO_CODES = _("Er zijn geen codes meegestuurd.")


# -- Letter codes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CodesPage:
    round: Round
    counts: CodeCounts

    @property
    def uses_codes(self) -> bool:
        return self.round.eligibility != Eligibility.EMAIL

    @property
    def closed(self) -> bool:
        return self.round.phase in codes.CLOSED_PHASES


@declare.read
def codes_page(session: Session, actor: Actor, slug: str) -> CodesPage:
    round_ = lookup.staff_round(session, actor, slug)
    return CodesPage(round_, codes.counts_for(session, round_.id))


@dataclass(frozen=True)
class NewCodes:
    round: Round
    codes: list[str]  # plain, shown once: never stored
    letters: list[Letter]
    also: tuple[str, ...] = ()  # the other ballots a code of a voting event fills in


@declare.write
def generate(
    session: Session,
    actor: Actor,
    slug: str,
    count: str,
    pepper: str,
    base_url: str,
    gemeente: str,
) -> NewCodes:
    """A new batch of codes with their letters; the plain codes exist only in the answer."""
    round_ = lookup.staff_round(session, actor, slug)
    text = count.strip().replace(".", "")
    # The length first: int() refuses text of more than 4,300 digits with a ValueError.
    if text.isascii() and text.isdigit() and (len(text) > 9 or int(text) > WEB_BATCH_LIMIT):
        raise Invalid(
            "count",
            _(
                "Maak hier hoogstens {limit} codes tegelijk. Meer nodig? Maak ze in delen, "
                "of vraag de beheerder om ze met de opdracht 'proeftuin codes generate' te maken."
            ),
            limit=f"{WEB_BATCH_LIMIT:,}".replace(",", "."),
        )
    plain = codes.generate_for_round(session, actor, round_.id, count, pepper)
    made = [letters.letter(round_, code, base_url, gemeente) for code in plain]
    also = tuple(other.title for other in events.other_ballot_rounds(session, round_))
    return NewCodes(round_, plain, made, also)


@declare.read
def codes_csv(
    session: Session,
    actor: Actor,
    slug: str,
    typed_codes: Iterable[str],
    pepper: str,
    format_: str = "csv",
) -> StaffFile:
    """The codes that the staff member's browser sends back right after generating them, as
    CSV or XLSX for mail merge.

    Nothing is stored or looked up by the plain code: each code must hash to a code of this
    round, so the download can only repeat codes this round really has.
    """
    round_ = lookup.staff_round(session, actor, slug)
    normalised = [codes.normalise(c) for c in typed_codes if c.strip()]
    if not normalised:
        raise Invalid("codes", NO_CODES)
    if any(c is None for c in normalised) or len(normalised) > WEB_BATCH_LIMIT:
        raise Invalid("codes", CODES_NOT_OF_ROUND)
    plain = [c for c in normalised if c is not None]
    hashes = {codes.code_hash(pepper, c) for c in plain}
    known = session.scalar(
        select(func.count(VotingCode.id)).where(
            VotingCode.round_id == round_.id, VotingCode.code_hash.in_(hashes)
        )
    )
    if known != len(hashes):
        raise Invalid("codes", CODES_NOT_OF_ROUND)
    return spreadsheets.staff_file(codes.codes_sheet(plain), format_)


@declare.write
def revoke(session: Session, actor: Actor, slug: str, typed_code: str, pepper: str) -> Round:
    round_ = lookup.staff_round(session, actor, slug)
    codes.revoke_code(session, actor, round_.id, typed_code, pepper)
    return round_


# -- Letters for the mail house ----------------------------------------------------------------

MAX_ADDRESSES = address_list.MAX_ROWS


@declare.write
def make_letters(
    session: Session,
    actor: Actor,
    slug: str,
    filename: str,
    content: bytes,
    pepper: str,
    base_url: str,
    gemeente: str,
    language: str,
    now: dt.datetime,
) -> mail_house.Made:
    """Letters for every address in the uploaded list: the codes, their numbers and the files
    in one transaction. The list itself is not kept."""
    round_ = lookup.staff_round(session, actor, slug)
    addresses = address_list.read(filename, content)
    return mail_house.make_letters(
        session, actor, round_.id, addresses, pepper, base_url, gemeente, language, now
    )


@declare.write
def revoke_letter(session: Session, actor: Actor, slug: str, number: str) -> Round:
    round_ = lookup.staff_round(session, actor, slug)
    mail_house.revoke_letter(session, actor, round_.id, number)
    return round_


@declare.write
def replace_letter(
    session: Session,
    actor: Actor,
    slug: str,
    number: str,
    typed_address: Mapping[str, str],
    pepper: str,
    base_url: str,
    gemeente: str,
    language: str,
    now: dt.datetime,
) -> mail_house.Made:
    """Revoke a lost letter by its number and make its replacement for the address typed."""
    round_ = lookup.staff_round(session, actor, slug)
    address = address_list.one(typed_address)
    return mail_house.replace_letter(
        session, actor, round_.id, number, address, pepper, base_url, gemeente, language, now
    )


# -- Paper ballots ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OtherPaperBallot:
    """Another ballot on the same paper: the city-wide one of a voting event."""

    round: Round
    plans: tuple[Plan, ...]

    @property
    def template(self) -> str:
        return ballot_kinds.spec(BallotKind(self.round.ballot_kind)).template


@dataclass(frozen=True)
class PaperBallot:
    round: Round
    plans: tuple[Plan, ...]
    state: BallotState
    others: tuple[OtherPaperBallot, ...] = ()

    @property
    def voting(self) -> bool:
        return self.round.phase == Phase.STEMMEN

    @property
    def template(self) -> str:
        """The kind's parts of the paper-ballot form."""
        return ballot_kinds.spec(BallotKind(self.round.ballot_kind)).template


@declare.read
def paper_ballot(
    session: Session, actor: Actor, slug: str, choices: Mapping[str, int]
) -> PaperBallot:
    """The paper ballot form of a round with ``choices`` filled in, and what they add up to."""
    round_ = lookup.staff_round(session, actor, slug)
    plans = voting.ballot_plans(session, round_)
    costs = ballot_rules.costs_of(plans)
    own = {pid: points for pid, points in choices.items() if pid in costs}
    state = ballot_rules.state(ballot_kinds.rules_of(round_), costs, own)
    others = tuple(
        OtherPaperBallot(other, tuple(voting.ballot_plans(session, other)))
        for other in events.other_ballot_rounds(session, round_)
    )
    return PaperBallot(round_, tuple(plans), state, others)


@dataclass(frozen=True)
class Checker:
    """The second staff member's sign-in, typed on the same form."""

    email: str
    password: str
    totp: str


@declare.write
def enter_paper(
    session: Session,
    actor: Actor,
    slug: str,
    typed_code: str,
    choices: Mapping[str, int],
    pepper: str,
    today: dt.date,
    checker: Checker | None,
    client_ip: str,
    secret_key: str,
    now: dt.datetime,
    require_admin_totp: bool,
    void_reason: str = "",
) -> voting.Receipt | VoidKind:
    """Store a paper ballot; when the round asks for it, only after a second staff member
    proved who they are (password, and TOTP where set) on the same form. With ``void_reason``
    the ballot is stored as blank or invalid (it counts in turnout, never in the count).

    A wrong checker password is counted like a failed sign-in (and committed, nothing else
    having changed yet); the checker's sign-in opens no session that stays usable.
    """
    round_ = lookup.staff_round(session, actor, slug)
    if round_.phase != Phase.STEMMEN:
        raise Invalid("code", NOT_VOTING)
    checked_by = None
    if round_.paper_check:
        if checker is None or not checker.email.strip():
            raise Invalid("checked_by", _("Vul het e-mailadres van de tweede medewerker in."))
        signed_in = staff_sessions.sign_in(
            session,
            checker.email,
            checker.password,
            checker.totp,
            ratelimit.hash_key(secret_key, client_ip),
            secret_key,
            now,
            require_admin_totp,
        )
        staff_sessions.sign_out(session, signed_in.token, now)
        checked_by = signed_in.actor.staff_id
    if void_reason:
        return paper.enter_void_ballot(
            session,
            actor,
            round_.id,
            typed_code,
            void_reason,
            pepper,
            today,
            checked_by,
            require_check=round_.paper_check,
        )
    return paper.enter_paper_ballot(
        session,
        actor,
        round_.id,
        typed_code,
        choices,
        pepper,
        today,
        checked_by,
        require_check=round_.paper_check,
    )


# -- Turnout ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnoutDay:
    day: dt.date
    ballots: int
    codes_used: int


@dataclass(frozen=True)
class TurnoutPage:
    round: Round
    turnout: Turnout
    days: tuple[TurnoutDay, ...]  # every day with ballots or used codes, in order
    # Per postcode area, from the letters; only once voting has closed (empty before).
    postcodes: tuple[PostcodeTurnout, ...] = ()

    @property
    def busiest(self) -> int:
        return max((max(d.ballots, d.codes_used) for d in self.days), default=0)


@declare.read
def turnout_page(session: Session, actor: Actor, slug: str) -> TurnoutPage:
    """Turnout without a tally (docs/decisions.md, Results embargo): nothing per plan."""
    round_ = lookup.staff_round(session, actor, slug)
    figures = turnout.turnout(session, actor, round_.id)
    ballots = {d.day: d.count for d in figures.ballots_per_day}
    used = {d.day: d.count for d in figures.codes_used_per_day}
    days = tuple(
        TurnoutDay(day, ballots.get(day, 0), used.get(day, 0))
        for day in sorted(ballots.keys() | used.keys())
    )
    closed = round_.phase in codes.CLOSED_PHASES
    postcodes = turnout.per_postcode(session, round_.id) if closed else ()
    return TurnoutPage(round_, figures, days, postcodes)


@declare.write
def generate_csv(session: Session, actor: Actor, slug: str, count: int, pepper: str) -> str:
    """A batch of codes as a CSV (one code per row, 4-4-4), for ``proeftuin codes generate``."""
    round_ = lookup.staff_round(session, actor, slug)
    return codes.codes_csv(codes.generate_for_round(session, actor, round_.id, count, pepper))


@declare.read
def paper_ballot_pdf(
    session: Session, actor: Actor, slug: str, gemeente: str, language: str, now: dt.datetime
) -> bytes:
    """The printable paper ballot of the round, as it stands now."""
    round_ = lookup.staff_round(session, actor, slug)
    return paper_form.paper_ballot_pdf(session, actor, round_.id, gemeente, language, now)
