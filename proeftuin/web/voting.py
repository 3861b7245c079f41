"""Voting: the code on the letter (or a verified e-mail address), the ballot, a review step,
casting, and the receipt.

``/stem`` is the one entrance printed on the letters. After a valid code the voter carries a
signed, short-lived *voting pass* in a hidden form field through ballot → review → cast, so the
code is typed once and never stored in the cookie or the page. The pass holds the round, the
pseudonymous voter key and the code's row id; it is renewed on every step. Casting checks every
rule again inside its transaction (services.voting.cast), so what the pages say is a courtesy and
never the guard.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
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
from proeftuin.errors import Invalid, NotAllowed, PhaseClosed, TooManyAttempts
from proeftuin.i18n import N_, TIMEZONE
from proeftuin.services.pages import voting
from proeftuin.services.pages.voting import BallotPage, Credential
from proeftuin.web.helpers import NO_STORE, call, error_text
from proeftuin.web.htmx import hx_redirect, vary_on_htmx
from proeftuin.web.language import language
from proeftuin.web.residents import resident_id, sign_in_url
from proeftuin.web.security import client_ip
from proeftuin.web.state import get_settings
from proeftuin.web.templating import render

START_PATH = "/stem"
RECEIPT_PATH = "/stem/bedankt"
PASS_FIELD = "pas"  # noqa: S105 (a field name)
TOKEN_FIELD = "inzending"  # noqa: S105 (a field name)
CHOICE_PREFIX = "keuze."  # one field per plan: "keuze.<public id>" = points (1 = chosen)
CHOICES_ID = "keuzes"  # the fieldset, where a message about the ballot as a whole belongs
PASS_SALT = "proeftuin.voting-pass"  # noqa: S105 (not a secret: it separates purposes)
PASS_MAX_AGE_SECONDS = 60 * 60  # per step: every page renews it
WARN_BEFORE_SECONDS = 10 * 60  # with JavaScript, a warning this long before the pass expires

WHOLE_NUMBER = re.compile(r"[0-9]{1,6}")
SUBMISSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
RECEIPT = re.compile(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}")
PASS_DATA = re.compile(r"([0-9]{1,18})\.([0-9a-f]{64})\.([0-9]{1,18})?")

PASS_EXPIRED = N_(
    "Uw stempagina is verlopen, omdat het te lang duurde. Uw keuze is niet opgeslagen. "
    "Vul uw code opnieuw in."
)
PASS_INVALID = N_(
    "Deze stempagina klopt niet (meer). Uw keuze is niet opgeslagen. Vul uw code opnieuw in."
)
NOTICES = {"verlopen": PASS_EXPIRED, "ongeldig": PASS_INVALID}
NOT_A_NUMBER = N_("Vul een heel getal in van 0 of meer, bijvoorbeeld 2.")
DUPLICATE = N_("U heeft een plan twee keer gekozen.")
TOO_MANY = N_("Dit stembiljet heeft te veel keuzes.")
EMPTY_CODE = N_("Vul de code in die op uw brief staat.")


class PassRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # a key of NOTICES


# -- The voting pass -------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _signer(secret_key: str) -> TimestampSigner:
    return TimestampSigner(secret_key, salt=PASS_SALT)  # made once: every step needs it


def issue_pass(settings: Settings, credential: Credential) -> str:
    # "round.voterkey.code", signed and timestamped. Plain text, not itsdangerous' JSON
    # serializer: that compresses every pass with zlib, a sixth of the ballot page's CPU.
    code = "" if credential.code_id is None else str(credential.code_id)
    data = f"{credential.round_id}.{credential.voter_key}.{code}"
    return _signer(settings.secret_key).sign(data).decode("ascii")


def read_pass(settings: Settings, token: str) -> Credential:
    try:
        data = _signer(settings.secret_key).unsign(token, max_age=PASS_MAX_AGE_SECONDS)
    except SignatureExpired:
        raise PassRefused("verlopen") from None
    except BadSignature:
        raise PassRefused("ongeldig") from None
    match = PASS_DATA.fullmatch(data.decode("ascii", "replace"))
    if match is None:
        raise PassRefused("ongeldig")
    round_id, voter_key, code_id = match.groups()
    return Credential(
        round_id=int(round_id), voter_key=voter_key, code_id=int(code_id) if code_id else None
    )


# -- Reading the ballot form -----------------------------------------------------------------


class Choices:
    """A ballot form read defensively: unknown fields ignored, each plan at most once, whole
    numbers only. ``bad`` maps a plan to the problem with what was typed for it."""

    def __init__(self, form: FormData) -> None:
        self.points: dict[str, int] = {}
        self.typed: dict[str, str] = {}
        self.bad: dict[str, str] = {}
        items = [
            (name.removeprefix(CHOICE_PREFIX), value)
            for name, value in form.multi_items()
            if name.startswith(CHOICE_PREFIX)
        ]
        if len(items) > voting.MAX_SELECTIONS:
            raise Invalid("choices", TOO_MANY)
        for plan_id, raw in items:
            if plan_id in self.typed:
                raise Invalid("choices", DUPLICATE)
            text = raw.strip() if isinstance(raw, str) else ""
            self.typed[plan_id] = text[:20]
            if not isinstance(raw, str) or (text and not WHOLE_NUMBER.fullmatch(text)):
                self.bad[plan_id] = NOT_A_NUMBER
            else:
                self.points[plan_id] = int(text or 0)

    @property
    def chosen(self) -> dict[str, int]:
        return {plan_id: p for plan_id, p in self.points.items() if p > 0}


async def _read_choices(request: Request) -> tuple[FormData, Choices | Invalid]:
    # Starlette's default limit, as the CSRF check reads the same form: past it, a 400 page.
    form = await request.form(max_fields=1000)
    try:
        return form, Choices(form)
    except Invalid as refused:
        return form, refused


def _form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# -- Pages -----------------------------------------------------------------------------------


def _until(now: dt.datetime) -> str:
    return (now + dt.timedelta(seconds=PASS_MAX_AGE_SECONDS)).astimezone(TIMEZONE).strftime("%H:%M")


async def _start_page(
    request: Request,
    *,
    code: str = "",
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    rid = resident_id(request)
    email_rounds = await call(request, voting.email_rounds, rid)
    context = {
        "code": code,
        "errors": dict(errors or {}),
        "notice": notice,
        "email_rounds": [
            {
                "slug": r.slug,
                "title": r.title,
                "area_name": r.area_name,
                "min_age": r.min_age,
                "problem": error_text(request, r.problem) if r.problem else None,
            }
            for r in email_rounds
        ],
        "signed_in": rid is not None,
        "sign_in_url": sign_in_url(START_PATH),
    }
    return render(
        request,
        "voting/start.html",
        context,
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
    )


def _ballot_response(
    request: Request,
    credential: Credential,
    page: BallotPage,
    *,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
    show_problem: bool = False,
    status_code: int = 200,
) -> Response:
    problem = page.state.problem
    context = _ballot_context(request, credential, page, show_problem)
    context |= {"errors": dict(errors or {}), "typed": dict(typed or {})}
    if problem is not None and show_problem and CHOICES_ID not in context["errors"]:
        context["errors"][CHOICES_ID] = error_text(request, problem)
    return render(request, "voting/ballot.html", context, status_code, NO_STORE)


def _ballot_context(
    request: Request, credential: Credential, page: BallotPage, show_problem: bool
) -> dict[str, Any]:
    problem = page.state.problem
    return {
        "page": page,
        "round": page.round,
        "pas": issue_pass(get_settings(request), credential),
        "until": _until(utcnow()),
        "problem": error_text(request, problem) if problem is not None and show_problem else None,
        "live": False,
        "expiry_warning": False,
        "warn_after": max(1, PASS_MAX_AGE_SECONDS - WARN_BEFORE_SECONDS),
    }


# -- Routes ----------------------------------------------------------------------------------

Endpoint = Callable[[Request], Awaitable[Response]]


def _voter_step(endpoint: Endpoint) -> Endpoint:
    """For the steps after the code: a GET (a bookmark, a reload) starts again at /stem; a pass
    that expired or was tampered with, or a code revoked meanwhile, goes back there with a clear
    message."""

    async def step(request: Request) -> Response:
        if request.method == "GET":
            return RedirectResponse(START_PATH, status_code=303)
        try:
            return await endpoint(request)
        except PassRefused as refused:
            target = f"{START_PATH}?{urlencode({'melding': refused.reason})}"
            return hx_redirect(request, target)
        except Invalid as refused:
            if refused.field != "code":
                raise
            errors = {"code": error_text(request, refused)}
            return await _start_page(request, errors=errors, status_code=422)

    return step


async def start(request: Request) -> Response:
    typed = request.query_params.get("code", "")[:40]
    normalised = voting.normalise_code(typed)
    notice = NOTICES.get(request.query_params.get("melding", ""))
    return await _start_page(
        request,
        code=voting.display_code(normalised) if normalised else typed.strip(),
        notice=i18n.gettext(notice, language(request)) if notice else None,
    )


async def enter_code(request: Request) -> Response:
    async with request.form() as form:
        typed = _form_text(form, "code")[:100]
    if not typed.strip():
        errors = {"code": i18n.gettext(EMPTY_CODE, language(request))}
        return await _start_page(request, errors=errors, status_code=422)
    settings = get_settings(request)
    try:
        credential, page = await call(
            request,
            voting.enter_with_code,
            settings.code_pepper,
            settings.secret_key,
            typed,
            client_ip(request),
            utcnow(),
        )
    except TooManyAttempts as refused:
        return await _start_page(
            request,
            code=typed,
            errors={"code": error_text(request, refused)},
            status_code=429,
            headers={"Retry-After": str(refused.retry_after)},
        )
    except (Invalid, PhaseClosed) as refused:
        errors = {"code": error_text(request, refused)}
        return await _start_page(
            request, code=typed, errors=errors, status_code=refused.status_code
        )
    if page.round.event_id is not None:
        # A code of a voting event opens its area's ballot and the city-wide one (web/events.py,
        # which builds on this module: imported here, when needed, to keep the import one-way).
        from proeftuin.web.events import first_ballot

        return await first_ballot(request, credential)
    return _ballot_response(request, credential, page)


async def enter_email(request: Request) -> Response:
    async with request.form() as form:
        slug = _form_text(form, "ronde")[:80]
        declared = _form_text(form, "verklaring") == "1"
    rid = resident_id(request)
    if rid is None:
        return hx_redirect(request, sign_in_url(START_PATH))
    settings = get_settings(request)
    try:
        credential, page = await call(
            request,
            voting.enter_with_email,
            settings.code_pepper,
            slug,
            rid,
            declared,
            utcnow().date(),
        )
        if page.round.event_id is not None:
            from proeftuin.web.events import first_email_ballot  # as in enter_code

            return await first_email_ballot(request, credential, rid)
    except NotAllowed as refused:
        return await _start_page(
            request, errors={"email": error_text(request, refused)}, status_code=403
        )
    return _ballot_response(request, credential, page)


async def ballot(request: Request) -> Response:
    """The ballot again, with the choices sent along ("Keuze aanpassen" on the review page)."""
    form, choices = await _read_choices(request)
    credential = read_pass(get_settings(request), _form_text(form, PASS_FIELD))
    return await _choose_again(request, credential, choices, show_problem=False)


async def live_state(request: Request) -> Response:
    """The htmx fragment: what is left of the budget or points, and whether the choice fits."""
    form, choices = await _read_choices(request)
    credential = read_pass(get_settings(request), _form_text(form, PASS_FIELD))
    chosen = choices.points if isinstance(choices, Choices) else {}
    page = await call(request, voting.ballot_page, credential, chosen)
    context = _ballot_context(request, credential, page, show_problem=True)
    if isinstance(choices, Invalid):
        context["problem"] = error_text(request, choices)
    elif choices.bad:
        context["problem"] = i18n.gettext(NOT_A_NUMBER, language(request))
    context["live"] = True
    return vary_on_htmx(render(request, "voting/_state.html", context, headers=NO_STORE))


async def review(request: Request) -> Response:
    form, choices = await _read_choices(request)
    credential = read_pass(get_settings(request), _form_text(form, PASS_FIELD))
    if isinstance(choices, Invalid) or choices.bad:
        return await _choose_again(request, credential, choices, show_problem=True)
    page = await call(request, voting.ballot_page, credential, choices.points)
    if page.state.problem is not None:
        return _ballot_response(request, credential, page, show_problem=True, status_code=422)
    context = {
        "page": page,
        "round": page.round,
        "pas": issue_pass(get_settings(request), credential),
        "until": _until(utcnow()),
        # One token per review page: a double click or a retry of this page's "Stem uitbrengen"
        # returns the same receipt instead of casting again.
        "submission_token": secrets.token_urlsafe(24),
    }
    return render(request, "voting/review.html", context, headers=NO_STORE)


async def cast(request: Request) -> Response:
    form, choices = await _read_choices(request)
    credential = read_pass(get_settings(request), _form_text(form, PASS_FIELD))
    if isinstance(choices, Invalid) or choices.bad:
        return await _choose_again(request, credential, choices, show_problem=True)
    token = _form_text(form, TOKEN_FIELD)
    try:
        receipt = await call(
            request,
            voting.cast,
            credential,
            choices.chosen,
            token if SUBMISSION_TOKEN.fullmatch(token) else None,
            utcnow().date(),
        )
    except Invalid as refused:
        if refused.field == "code":
            raise
        page = await call(request, voting.ballot_page, credential, choices.points)
        errors = {CHOICES_ID: error_text(request, refused)}
        return _ballot_response(
            request, credential, page, errors=errors, show_problem=True, status_code=422
        )
    where = urlencode({"bon": receipt.receipt, "ronde": credential.round_id})
    return hx_redirect(request, f"{RECEIPT_PATH}?{where}")


async def expiry_warning(request: Request) -> Response:
    """The warning htmx asks for shortly before the pass on the ballot page expires."""
    context: dict[str, Any] = {
        "expiry_warning": True,
        "warn_minutes": WARN_BEFORE_SECONDS // 60,
        "live": False,
    }
    if request.query_params.get("stemming") == "1":  # a ballot of a voting event (web/events.py)
        context["state_route"] = "event_state"
    return render(request, "voting/_expiry.html", context, headers=NO_STORE)


async def receipt_page(request: Request) -> Response:
    """Shows the tracker only: it says nothing about the choices, and anyone may see this URL."""
    bon = request.query_params.get("bon", "")
    if not RECEIPT.fullmatch(bon):
        raise HTTPException(404)
    round_id = request.query_params.get("ronde", "")
    round_ = (
        await call(request, voting.receipt_round, int(round_id))
        if round_id.isascii() and round_id.isdigit() and len(round_id) < 10
        else None
    )
    context = {"receipt": bon, "round": round_}
    return render(request, "voting/receipt.html", context, headers=NO_STORE)


async def _choose_again(
    request: Request, credential: Credential, choices: Choices | Invalid, *, show_problem: bool
) -> Response:
    """The ballot with what was sent kept, and every problem with it said at its field."""
    if isinstance(choices, Invalid):
        page = await call(request, voting.ballot_page, credential, {})
        errors = {CHOICES_ID: error_text(request, choices)}
        return _ballot_response(request, credential, page, errors=errors, status_code=422)
    page = await call(request, voting.ballot_page, credential, choices.points)
    lang = language(request)
    errors = {f"keuze-{pid}": i18n.gettext(msg, lang) for pid, msg in choices.bad.items()}
    return _ballot_response(
        request,
        credential,
        page,
        errors=errors,
        typed=choices.typed,
        show_problem=show_problem,
        status_code=422 if errors or (show_problem and page.state.problem) else 200,
    )


routes = [
    Route(START_PATH, start, methods=["GET"], name="vote"),
    Route(START_PATH, enter_code, methods=["POST"], name="vote_enter_code"),
    Route("/stem/email", enter_email, methods=["POST"], name="vote_enter_email"),
    Route("/stem/stembiljet", _voter_step(ballot), methods=["GET", "POST"], name="vote_ballot"),
    Route("/stem/stand", _voter_step(live_state), methods=["POST"], name="vote_state"),
    Route("/stem/verloopt", expiry_warning, methods=["GET"], name="vote_expiry"),
    Route("/stem/controleer", _voter_step(review), methods=["GET", "POST"], name="vote_review"),
    Route("/stem/uitbrengen", _voter_step(cast), methods=["GET", "POST"], name="vote_cast"),
    Route(RECEIPT_PATH, receipt_page, methods=["GET"], name="vote_receipt"),
]
