"""The gemeente's own site: the content pages, the contact page, and their forms in /beheer.

``site_info`` is what every page shows of the gemeente (its name, contact details and look); the
web layer keeps it for a few seconds per process (web/site.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from proeftuin.allocation.ballots import BallotKind
from proeftuin.models import Phase, Round
from proeftuin.models import SitePage as SitePage
from proeftuin.services import ballot_kinds, permissions, site_content, site_statements, theme
from proeftuin.services.permissions import Actor
from proeftuin.services.site_content import ContactDetails as ContactDetails
from proeftuin.services.site_content import ContactInput as ContactInput
from proeftuin.services.theme import Logo as Logo
from proeftuin.services.theme import Look as Look
from proeftuin.services.theme import LookInput as LookInput

from . import declare

OPEN_PHASES = (Phase.INDIENEN.value, Phase.BEOORDELEN.value, Phase.STEMMEN.value)


@dataclass(frozen=True)
class SiteInfo:
    """What every page shows of the gemeente."""

    gemeente_name: str  # "" where the admin set none: PROEFTUIN_SITE_NAME then
    contact: ContactDetails
    look: Look


EMPTY_SITE = SiteInfo("", ContactDetails(), theme.look(None))


@dataclass(frozen=True)
class OpenRound:
    """A round's real rules, for "Hoe werkt het?"."""

    slug: str
    title: str
    area_name: str
    phase: str
    budget: int
    kind_name: str
    max_choices: int | None
    points_total: int
    rule: str
    greedy_no_skip: bool
    min_vote_percent: int
    submission_starts_at: dt.datetime | None
    review_starts_at: dt.datetime | None
    voting_starts_at: dt.datetime | None
    voting_ends_at: dt.datetime | None


@dataclass(frozen=True)
class ContentPage:
    page: SitePage
    text: str  # Markdown: the admin's own, or the default in the visitor's language
    is_default: bool
    rounds: tuple[OpenRound, ...]  # "Hoe werkt het?" only


@declare.read
def site_info(session: Session, tokens: str = "") -> SiteInfo:
    """``tokens``: the instance folder's NL Design System theme (web/site_cache.py), or ""."""
    found = site_content.profile(session)
    return SiteInfo(
        gemeente_name=found.gemeente_name if found is not None else "",
        contact=site_content.contact_details(session),
        look=theme.look(found, tokens),
    )


@declare.read
def content_page(session: Session, page: SitePage, gemeente: str, language: str) -> ContentPage:
    own = site_content.page_text(session, page)
    text = own if own is not None else site_statements.default_text(page, gemeente, language)
    rounds = _open_rounds(session) if page is SitePage.HOW_IT_WORKS else ()
    return ContentPage(page, text, own is None, rounds)


def _open_rounds(session: Session) -> tuple[OpenRound, ...]:
    found = session.scalars(
        select(Round)
        .where(Round.phase.in_(OPEN_PHASES))
        .options(selectinload(Round.area))
        .order_by(Round.voting_ends_at, Round.id)
    )
    out = []
    for r in found:
        spec = ballot_kinds.spec(BallotKind(r.ballot_kind))
        out.append(
            OpenRound(
                slug=r.slug,
                title=r.title,
                area_name=r.area.name,
                phase=r.phase,
                budget=r.budget,
                kind_name=spec.name,
                max_choices=r.max_choices,
                points_total=r.points_total,
                rule=r.rule,
                greedy_no_skip=r.greedy_no_skip,
                min_vote_percent=r.min_vote_percent,
                submission_starts_at=r.submission_starts_at,
                review_starts_at=r.review_starts_at,
                voting_starts_at=r.voting_starts_at,
                voting_ends_at=r.voting_ends_at,
            )
        )
    return tuple(out)


# -- /beheer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteSettings:
    contact: ContactInput
    look: LookInput
    own_pages: frozenset[SitePage]  # pages with an admin's own text


@declare.read
def settings_page(session: Session, actor: Actor) -> SiteSettings:
    permissions.require_admin(actor)
    found = site_content.profile(session)
    own = frozenset(p for p in SitePage if site_content.page_text(session, p) is not None)
    return SiteSettings(site_content.contact_input(session), theme.look_input(found), own)


@declare.write
def update_contact(session: Session, actor: Actor, data: ContactInput) -> ContactInput:
    return site_content.update_contact(session, actor, data)


@declare.read
def page_for_editing(
    session: Session, actor: Actor, page: SitePage, gemeente: str, language: str
) -> ContentPage:
    permissions.require_admin(actor)
    return content_page(session, page, gemeente, language)


@declare.write
def update_page(session: Session, actor: Actor, page: SitePage, body: str) -> str | None:
    return site_content.update_page(session, actor, page, body)


@declare.write
def update_look(session: Session, actor: Actor, data: LookInput) -> LookInput:
    return theme.update_look(session, actor, data)


@declare.write
def update_logo(session: Session, actor: Actor, content: bytes) -> Look:
    return theme.update_logo(session, actor, content)


@declare.write
def remove_logo(session: Session, actor: Actor) -> Look:
    return theme.remove_logo(session, actor)


@declare.read
def logo(session: Session) -> Logo | None:
    return theme.logo(session)
