"""Voting events (stemmingen): one code, the ballots of its area and of the whole gemeente, one
after the other, one review page and one cast; the public event page; the staff pages.

The steps carry an *event pass*: the voting pass of docs/decisions.md (The voting pass) with one
(round, voter key, code) per ballot, signed and short-lived like it. Every ballot's choices travel
in the form as ``keuze.<plan>`` fields (plan ids are unique across rounds); the page tier splits
them by ballot and refuses a plan of no ballot of this code.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from proeftuin import i18n
from proeftuin.config import Settings
from proeftuin.db import utcnow
from proeftuin.errors import DomainError, Invalid
from proeftuin.services.pages import events
from proeftuin.services.pages.voting import Credential
from proeftuin.web import results as round_results
from proeftuin.web import voting as single
from proeftuin.web.helpers import NO_STORE, call, error_text, form_errors, read_form
from proeftuin.web.htmx import hx_redirect, vary_on_htmx
from proeftuin.web.language import language
from proeftuin.web.policy import Policy, current_actor, staff_route
from proeftuin.web.state import get_settings
from proeftuin.web.templating import render

EVENT_PASS_SALT = "proeftuin.event-pass"  # noqa: S105 (not a secret: it separates purposes)
STEP_FIELD = "stap"
GOTO_FIELD = "naar"
REVIEW = "controle"
RECEIPT_PATH = "/stem/stemming/bedankt"
MAX_BALLOTS = 4  # an event pass holds at most this many ballots


@functools.lru_cache(maxsize=8)
def _signer(secret_key: str) -> TimestampSigner:
    return TimestampSigner(secret_key, salt=EVENT_PASS_SALT)


def issue_pass(settings: Settings, credentials: Sequence[Credential]) -> str:
    data = "|".join(f"{c.round_id}.{c.voter_key}.{c.code_id or ''}" for c in credentials)
    return _signer(settings.secret_key).sign(data).decode("ascii")


def read_pass(settings: Settings, token: str) -> list[Credential]:
    try:
        data = _signer(settings.secret_key).unsign(token, max_age=single.PASS_MAX_AGE_SECONDS)
    except SignatureExpired:
        raise single.PassRefused("verlopen") from None
    except BadSignature:
        raise single.PassRefused("ongeldig") from None
    parts = data.decode("ascii", "replace").split("|")
    found = []
    for part in parts[:MAX_BALLOTS]:
        match = single.PASS_DATA.fullmatch(part)
        if match is None:
            raise single.PassRefused("ongeldig")
        round_id, key, code_id = match.groups()
        found.append(Credential(int(round_id), key, int(code_id) if code_id else None))
    return found


def _small_number(text: str) -> bool:
    """A step number as a form sends it: one or two ASCII digits (not "²", which isdigit()
    accepts and int() refuses)."""
    return text.isascii() and text.isdigit() and len(text) < 3


def _step(form: FormData, count: int) -> int:
    text = single._form_text(form, STEP_FIELD)
    return min(int(text), count - 1) if _small_number(text) else 0


# -- The ballots -----------------------------------------------------------------------------


async def first_ballot(request: Request, credential: Credential) -> Response:
    """After a code of an event round: the first of its ballots (the area's)."""
    found = await call(
        request, events.ballots, get_settings(request).code_pepper, [credential], None
    )
    return _ballot_response(request, found, 0)


async def first_email_ballot(request: Request, credential: Credential, resident: int) -> Response:
    """After an e-mail voter opened a round of an event: its district's ballot first."""
    settings = get_settings(request)
    found = await call(
        request, events.email_ballots, settings.code_pepper, credential, resident, utcnow().date()
    )
    return _ballot_response(request, found, 0)


def _ballot_response(
    request: Request,
    found: events.EventBallots,
    index: int,
    *,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
    show_problem: bool = False,
    status_code: int = 200,
) -> Response:
    page = found.pages[index]
    problem = page.state.problem if show_problem else None
    context: dict[str, Any] = {
        "page": page,
        "round": page.round,
        "pages": found.pages,
        "index": index,
        "others": [p for i, p in enumerate(found.pages) if i != index],
        "pas": issue_pass(get_settings(request), found.credentials),
        "until": single._until(utcnow()),
        "problem": error_text(request, problem) if problem is not None else None,
        "errors": dict(errors or {}),
        "typed": dict(typed or {}),
        "live": False,
        "expiry_warning": False,
        "warn_after": max(1, single.PASS_MAX_AGE_SECONDS - single.WARN_BEFORE_SECONDS),
        "state_route": "event_state",
    }
    return render(request, "events/ballot.html", context, status_code, NO_STORE)


async def _read(
    request: Request,
) -> tuple[FormData, list[Credential], single.Choices | Invalid]:
    form, choices = await single._read_choices(request)
    credentials = read_pass(get_settings(request), single._form_text(form, single.PASS_FIELD))
    return form, credentials, choices


async def _ballots(
    request: Request, credentials: list[Credential], choices: Mapping[str, int] | None
) -> events.EventBallots:
    pepper = get_settings(request).code_pepper
    return await call(request, events.ballots, pepper, credentials, choices)


async def step(request: Request) -> Response:
    """From one ballot to the next (or back), or on to the review page after the last one."""
    form, credentials, choices = await _read(request)
    index = _step(form, len(credentials))
    if isinstance(choices, Invalid):
        found = await _ballots(request, credentials, None)
        errors = {single.CHOICES_ID: error_text(request, choices)}
        return _ballot_response(request, found, index, errors=errors, status_code=422)
    found = await _ballots(request, credentials, choices.points)
    if choices.bad:
        lang = language(request)
        errors = {f"keuze-{p}": i18n.gettext(m, lang) for p, m in choices.bad.items()}
        return _ballot_response(
            request, found, index, errors=errors, typed=choices.typed, status_code=422
        )
    goto = single._form_text(form, GOTO_FIELD)
    if _small_number(goto) and int(goto) < index:
        return _ballot_response(request, found, int(goto))
    if found.pages[index].state.problem is not None:
        return _ballot_response(request, found, index, show_problem=True, status_code=422)
    if index + 1 < len(found.pages) and goto != REVIEW:
        return _ballot_response(request, found, index + 1)
    return _review_response(request, found)


async def live_state(request: Request) -> Response:
    form, credentials, choices = await _read(request)
    index = _step(form, len(credentials))
    chosen = choices.points if isinstance(choices, single.Choices) else {}
    found = await _ballots(request, credentials, chosen)
    page = found.pages[index]
    problem = page.state.problem
    context = {
        "page": page,
        "round": page.round,
        "pas": issue_pass(get_settings(request), credentials),
        "problem": error_text(request, problem) if problem is not None else None,
        "live": True,
        "expiry_warning": False,
        "warn_after": max(1, single.PASS_MAX_AGE_SECONDS - single.WARN_BEFORE_SECONDS),
        "state_route": "event_state",
    }
    if isinstance(choices, Invalid):
        context["problem"] = error_text(request, choices)
    return vary_on_htmx(render(request, "voting/_state.html", context, headers=NO_STORE))


def _review_response(request: Request, found: events.EventBallots) -> Response:
    context = {
        "pages": found.pages,
        "pas": issue_pass(get_settings(request), found.credentials),
        "until": single._until(utcnow()),
        "submission_token": secrets.token_urlsafe(24),
        "last": len(found.pages) - 1,
    }
    return render(request, "events/review.html", context, headers=NO_STORE)


async def cast(request: Request) -> Response:
    """Cast every ballot of the code in one transaction; a wrong one stores nothing and is shown
    again with what is wrong with it."""
    form, credentials, choices = await _read(request)
    if isinstance(choices, Invalid) or choices.bad:
        found = await _ballots(request, credentials, None)
        message = (
            error_text(request, choices)
            if isinstance(choices, Invalid)
            else i18n.gettext(single.NOT_A_NUMBER, language(request))
        )
        return _ballot_response(
            request, found, 0, errors={single.CHOICES_ID: message}, status_code=422
        )
    token = single._form_text(form, single.TOKEN_FIELD)
    try:
        receipts = await call(
            request,
            events.cast,
            credentials,
            choices.chosen,
            token if single.SUBMISSION_TOKEN.fullmatch(token) else None,
            utcnow().date(),
        )
    except events.BallotRefused as refused:
        found = await _ballots(request, credentials, choices.points)
        index = next((i for i, c in enumerate(credentials) if c.round_id == refused.round_id), 0)
        errors = {
            "stemming": error_text(request, refused),
            single.CHOICES_ID: error_text(request, refused.refusal),
        }
        return _ballot_response(request, found, index, errors=errors, status_code=422)
    except Invalid as refused:
        if refused.field == "code":
            raise
        found = await _ballots(request, credentials, None)
        errors = {single.CHOICES_ID: error_text(request, refused)}
        return _ballot_response(request, found, 0, errors=errors, status_code=422)
    query = urlencode([("bon", f"{r.round_slug}~{r.receipt}") for r in receipts])
    return hx_redirect(request, f"{RECEIPT_PATH}?{query}")


async def receipt_page(request: Request) -> Response:
    """The trackers, one per ballot, with the name of its round: nothing about the choices."""
    pairs = []
    for value in request.query_params.getlist("bon")[:MAX_BALLOTS]:
        slug, _sep, receipt = value.partition("~")
        if not single.RECEIPT.fullmatch(receipt) or len(slug) > 80:
            raise HTTPException(404)
        pairs.append((slug, receipt))
    if not pairs:
        raise HTTPException(404)
    titles = await call(request, events.round_titles, [s for s, _r in pairs])
    receipts = [(titles.get(s, s), r) for s, r in pairs]
    return render(request, "events/receipt.html", {"receipts": receipts}, headers=NO_STORE)


# -- The public event page -------------------------------------------------------------------


async def event_page(request: Request) -> Response:
    view = await call(request, events.public_event, request.path_params["event"])
    return render(request, "events/event.html", {"event": view})


# -- Results of the event --------------------------------------------------------------------

ARCHIVE = "stemming.zip"


async def results_page(request: Request) -> Response:
    """Every published round's result on one page, each with its chart and explanation link."""
    found = await call(request, events.event_results, request.path_params["event"])
    context = {
        **round_results._helpers(request),
        "found": found,
        "charts": {view.slug: round_results.chart(request, view) for view in found.results},
        "archive": ARCHIVE,
    }
    return render(request, "events/results.html", context)


async def archive(request: Request) -> Response:
    return round_results._download(
        await call(request, events.event_archive, request.path_params["event"])
    )


async def staff_record(request: Request) -> Response:
    """The proces-verbaal of the event: each round's result and the SHA-256 of its ballots."""
    view, records = await call(
        request, events.event_record, current_actor(request), request.path_params["event"]
    )
    context = {**round_results._helpers(request), "event": view, "records": records}
    return render(request, "events/record.html", context, headers=NO_STORE)


# -- Staff -----------------------------------------------------------------------------------

NEW_EVENT_FIELDS = ("title", "description", "citywide_area", "area_choice")


async def staff_index(request: Request) -> Response:
    actor = current_actor(request)
    found = await call(request, events.staff_events, actor)
    return render(
        request,
        "events/staff_index.html",
        {"found": found, "errors": {}, "values": {}, "actor": actor},
        headers=NO_STORE,
    )


async def staff_create(request: Request) -> Response:
    actor = current_actor(request)
    values = await read_form(request)
    area = values.get("citywide_area", "")
    data = events.EventInput(
        title=values.get("title", "")[:300],
        description=values.get("description", "")[:5000],
        citywide_area_id=int(area)
        if area.isascii() and area.isdigit() and len(area) < 10
        else None,
        area_choice=values.get("area_choice") == "1",
    )
    try:
        slug = await call(request, events.create_event, actor, data)
    except Invalid as refused:
        found = await call(request, events.staff_events, actor)
        context = {
            "found": found,
            "errors": form_errors(request, refused),
            "values": values,
            "actor": actor,
        }
        return render(request, "events/staff_index.html", context, 422, NO_STORE)
    return RedirectResponse(request.url_for("staff_event", event=slug).path, status_code=303)


async def staff_event(request: Request) -> Response:
    actor = current_actor(request)
    found = await call(request, events.staff_event, actor, request.path_params["event"])
    context = {"found": found, "errors": {}, "actor": actor}
    return render(request, "events/staff_event.html", context, headers=NO_STORE)


async def staff_add_round(request: Request) -> Response:
    actor = current_actor(request)
    slug = request.path_params["event"]
    values = await read_form(request)
    try:
        await call(request, events.add_round, actor, slug, values.get("round", "")[:80])
    except (Invalid, DomainError) as refused:
        found = await call(request, events.staff_event, actor, slug)
        context = {
            "found": found,
            "errors": {"round": error_text(request, refused)},
            "actor": actor,
        }
        return render(request, "events/staff_event.html", context, 422, NO_STORE)
    return RedirectResponse(request.url_for("staff_event", event=slug).path, status_code=303)


GET_POST, POST = ["GET", "POST"], ["POST"]
routes = [
    Route(
        "/stem/stemming/stembiljet",
        single._voter_step(step),
        methods=["GET", "POST"],
        name="event_ballot",
    ),
    Route(
        "/stem/stemming/stand", single._voter_step(live_state), methods=["POST"], name="event_state"
    ),
    Route(
        "/stem/stemming/uitbrengen",
        single._voter_step(cast),
        methods=["GET", "POST"],
        name="event_cast",
    ),
    Route(RECEIPT_PATH, receipt_page, methods=["GET"], name="event_receipt"),
    Route("/stemmingen/{event}", event_page, methods=["GET"], name="event"),
    Route("/stemmingen/{event}/uitslag", results_page, methods=["GET"], name="event_results"),
    Route(
        f"/stemmingen/{{event}}/uitslag/{ARCHIVE}", archive, methods=["GET"], name="event_archive"
    ),
    staff_route("/beheer/stemmingen", staff_index, policy=Policy.STAFF, name="staff_events"),
    staff_route(
        "/beheer/stemmingen",
        staff_create,
        policy=Policy.ADMIN,
        name="staff_event_create",
        methods=("POST",),
    ),
    staff_route("/beheer/stemmingen/{event}", staff_event, policy=Policy.STAFF, name="staff_event"),
    staff_route(
        "/beheer/stemmingen/{event}/proces-verbaal",
        staff_record,
        policy=Policy.STAFF,
        name="staff_event_record",
    ),
    staff_route(
        "/beheer/stemmingen/{event}/rondes",
        staff_add_round,
        policy=Policy.ADMIN,
        name="staff_event_add_round",
        methods=("POST",),
    ),
]
