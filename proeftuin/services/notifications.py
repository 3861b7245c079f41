"""What subscribers and plan authors are told, and the daily mail that tells them.

A notice is written when something happens (``Notice``); the scheduled jobs mail them
(``send_due``): at most one mail a day per address, a digest when more than one notice waits.

- Subscribers of a round, and of its area, hear that submissions open, that voting opens (with
  how to vote), that the results are out, and every change and update on a funded plan.
- A plan's author hears that the plan is on the ballot, whether it was funded, and every change
  and update while it is carried out. The author's subscription is made on the first notice;
  the stop link in any mail ends it.

Notices are written in Dutch: they go out from the scheduled jobs, outside any request. Their
links start with ``SITE``, which becomes the public address (``base_url``) when mailed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from proeftuin.errors import _
from proeftuin.i18n import gettext
from proeftuin.models import (
    Eligibility,
    Notice,
    Phase,
    Plan,
    PlanStatus,
    Resident,
    Round,
    Subscription,
)
from proeftuin.services import outbox, outcomes
from proeftuin.services.execution import ExecutionState
from proeftuin.services.subscriptions import UNSUBSCRIBE_PATH, new_token
from proeftuin.vocabulary import EXECUTION_LABELS

DAY = dt.timedelta(days=1)
SITE = "[site]"
LANGUAGE = "nl"
ANNOUNCED = (Phase.INDIENEN, Phase.STEMMEN, Phase.GEPUBLICEERD)
HOW_TO_VOTE = {
    Eligibility.CODES: _("U stemt met de code uit de brief die u kreeg, op {vote_url}."),
    Eligibility.EMAIL: _("U stemt met uw e-mailadres, op {vote_url}."),
    Eligibility.CODES_OR_EMAIL: _(
        "U stemt met de code uit de brief of met uw e-mailadres, op {vote_url}."
    ),
}
SUBJECTS = {
    Phase.INDIENEN: _("U kunt nu plannen indienen voor \u201c{round}\u201d"),
    Phase.STEMMEN: _("U kunt nu stemmen in \u201c{round}\u201d"),
    Phase.GEPUBLICEERD: _("De uitslag van \u201c{round}\u201d is bekend"),
}
BODIES = {
    Phase.INDIENEN: _("Heeft u een idee voor {area}? Dien uw plan in op {url}"),
    Phase.STEMMEN: _("Kies welke plannen er komen. {how} Alle plannen staan op {url}"),
    Phase.GEPUBLICEERD: _("Lees welke plannen doorgaan, en waarom, op {url}/uitslag"),
}


def _t(message: str, **params: object) -> str:
    return gettext(message, LANGUAGE, **params)


def _notice(
    session: Session,
    round_: Round,
    kind: str,
    subject: str,
    body: str,
    now: dt.datetime,
    *,
    plan: Plan | None = None,
    public: bool = True,
) -> Notice | None:
    """Write a notice once per (round, kind); None when it was written before."""
    exists = session.scalar(
        select(Notice.id).where(Notice.round_id == round_.id, Notice.kind == kind)
    )
    if exists is not None:
        return None
    notice = Notice(
        round_id=round_.id,
        area_id=round_.area_id,
        plan_id=plan.id if plan is not None else None,
        public=public,
        kind=kind,
        subject=subject[:200],
        body=body,
        created_at=now,
    )
    session.add(notice)
    if plan is not None:
        _follow(session, plan, now)
    session.flush()
    return notice


def _follow(session: Session, plan: Plan, now: dt.datetime) -> None:
    """Subscribe the plan's author to the plan, once (a stop is kept)."""
    resident = session.get(Resident, plan.author_id) if plan.author_id is not None else None
    if resident is None or "@" not in resident.email:
        return
    known = session.scalar(
        select(Subscription.id).where(
            Subscription.plan_id == plan.id, Subscription.email == resident.email
        )
    )
    if known is None:
        session.add(
            Subscription(
                email=resident.email,
                plan_id=plan.id,
                token=new_token(),
                created_at=now,
                confirmed_at=now,
                last_notice_id=0,
            )
        )


def latest_notice_id(session: Session) -> int:
    return int(session.scalar(select(func.max(Notice.id))) or 0)


# -- what happens ---------------------------------------------------------------------------------


def plan_link(plan: Plan) -> str:
    return f"{SITE}/plannen/{plan.public_id}"


def announce_phases(session: Session, now: dt.datetime) -> int:
    """A notice for each round's current phase that subscribers hear about, once; on
    publication and when voting opens, one to each ballot plan's author too. Returns how many
    notices were written."""
    written = 0
    for round_ in session.scalars(select(Round).where(Round.phase.in_(ANNOUNCED))):
        phase = Phase(round_.phase)
        url = f"{SITE}/rondes/{round_.slug}"
        notice = _notice(
            session,
            round_,
            f"phase:{phase.value}",
            _t(SUBJECTS[phase], round=round_.title),
            _t(BODIES[phase], area=round_.area.name, url=url, how=_how_to_vote(round_)),
            now,
        )
        if notice is None:
            continue
        written += 1
        if phase in (Phase.STEMMEN, Phase.GEPUBLICEERD):
            written += _tell_authors(session, round_, phase, now)
    return written


def _how_to_vote(round_: Round) -> str:
    return _t(HOW_TO_VOTE[Eligibility(round_.eligibility)], vote_url=f"{SITE}/stem")


def _tell_authors(session: Session, round_: Round, phase: Phase, now: dt.datetime) -> int:
    funded = outcomes.funded_public_ids(session, round_.id) or frozenset()
    written = 0
    ballot = session.scalars(
        select(Plan).where(Plan.round_id == round_.id, Plan.status == PlanStatus.OP_STEMBILJET)
    )
    for plan in ballot:
        if plan.author_id is None:
            continue
        if phase == Phase.STEMMEN:
            subject = _t(_("Uw plan \u201c{title}\u201d staat op het stembiljet"), title=plan.title)
        elif plan.public_id in funded:
            subject = _t(_("Uw plan \u201c{title}\u201d gaat door"), title=plan.title)
        else:
            subject = _t(_("Uw plan \u201c{title}\u201d gaat niet door"), title=plan.title)
        body = _t(_("Meer over uw plan leest u op {url}"), url=plan_link(plan))
        kind = f"author:{phase.value}:{plan.id}"
        if _notice(session, round_, kind, subject, body, now, plan=plan, public=False):
            written += 1
    return written


def plan_accepted(session: Session, plan: Plan, now: dt.datetime) -> None:
    """The author hears that the plan was accepted for the ballot."""
    if plan.author_id is None:
        return
    subject = _t(_("Uw plan \u201c{title}\u201d is goedgekeurd"), title=plan.title)
    body = _t(_("Uw plan komt op het stembiljet. Meer leest u op {url}"), url=plan_link(plan))
    kind = f"author:accepted:{plan.id}:{now.isoformat()}"
    _notice(session, plan.round, kind, subject, body, now, plan=plan, public=False)


def execution_changed(
    session: Session, plan: Plan, state: ExecutionState, now: dt.datetime
) -> None:
    subject = _t(_("Nieuws over \u201c{title}\u201d"), title=plan.title)
    lines = [_t(_("Stand van de uitvoering: {status}."), status=_t(EXECUTION_LABELS[state.status]))]
    if state.reason:
        lines.append(state.reason)
    lines.append(_t(_("Meer leest u op {url}"), url=plan_link(plan)))
    kind = f"execution:{plan.id}:{now.isoformat()}"
    _notice(session, plan.round, kind, subject, "\n".join(lines), now, plan=plan)


def update_posted(session: Session, plan: Plan, text: str, now: dt.datetime) -> None:
    subject = _t(_("Nieuws over \u201c{title}\u201d"), title=plan.title)
    body = f"{text}\n\n" + _t(_("Meer leest u op {url}"), url=plan_link(plan))
    kind = f"update:{plan.id}:{now.isoformat()}"
    _notice(session, plan.round, kind, subject, body, now, plan=plan)


# -- the daily mail -------------------------------------------------------------------------------


def send_due(session: Session, base_url: str, now: dt.datetime) -> int:
    """Queue one mail per address that has news and got no mail in the last day; returns how
    many were queued."""
    subs = list(
        session.scalars(
            select(Subscription)
            .where(Subscription.confirmed_at.is_not(None), Subscription.stopped_at.is_(None))
            .order_by(Subscription.id)
        )
    )
    by_address: dict[str, list[Subscription]] = defaultdict(list)
    for sub in subs:
        by_address[sub.email].append(sub)
    latest = latest_notice_id(session)
    queued = 0
    for address, own in by_address.items():
        if any(s.last_mailed_at is not None and s.last_mailed_at > now - DAY for s in own):
            continue
        notices = _waiting(session, own)
        if not notices:
            continue
        _queue(session, address, notices, own[0].token, base_url)
        for sub in own:
            sub.last_notice_id = latest
            sub.last_mailed_at = now
        queued += 1
    session.flush()
    return queued


def _waiting(session: Session, own: list[Subscription]) -> list[Notice]:
    found: dict[int, Notice] = {}
    for sub in own:
        for notice in session.scalars(
            select(Notice).where(Notice.id > sub.last_notice_id, _matches(sub))
        ):
            found[notice.id] = notice
    return [found[i] for i in sorted(found)]


def _matches(sub: Subscription) -> ColumnElement[bool]:
    if sub.round_id is not None:
        return and_(Notice.public.is_(True), Notice.round_id == sub.round_id)
    if sub.area_id is not None:
        return and_(Notice.public.is_(True), Notice.area_id == sub.area_id)
    return Notice.plan_id == sub.plan_id


def _queue(
    session: Session, address: str, notices: list[Notice], token: str, base_url: str
) -> None:
    base = base_url.rstrip("/")
    stop = base + UNSUBSCRIBE_PATH.format(token=token)
    if len(notices) == 1:
        subject, parts = notices[0].subject, [notices[0].body]
    else:
        subject = _t(_("{count} berichten over de burgerbegroting"), count=len(notices))
        parts = [f"{n.subject}\n{n.body}" for n in notices]
    footer = _t(_("Wilt u deze berichten niet meer? Stop ze met deze link: {url}"), url=stop)
    body = "\n\n".join([*parts, "--", footer]).replace(SITE, base)
    outbox.queue(session, address, subject, body, unsubscribe_url=stop)
