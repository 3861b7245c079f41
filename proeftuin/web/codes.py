"""Letter codes, printable letters, paper ballots and turnout of a round.

Plain codes are never stored, not even for a moment on the server: the generate POST answers
with the printable letters themselves, and the CSV download posts the same codes back from that
page (CSRF-protected) to an endpoint that only turns them into a file. Nothing here is cached.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_decimal
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from proeftuin import i18n
from proeftuin.db import utcnow
from proeftuin.errors import DomainError, Invalid, InvalidForm, TooManyAttempts
from proeftuin.i18n import N_, TIMEZONE
from proeftuin.services.pages import codes
from proeftuin.web.helpers import NO_STORE, call, error_text, form_errors, read_form
from proeftuin.web.htmx import hx_redirect, render_page, vary_on_htmx
from proeftuin.web.language import language
from proeftuin.web.moderation import ROUND, moment_formatter
from proeftuin.web.policy import Policy, current_actor, staff_route
from proeftuin.web.security import client_ip
from proeftuin.web.state import get_settings
from proeftuin.web.templating import render
from proeftuin.web.voting import CHOICE_PREFIX, NOT_A_NUMBER, Choices

CODES_FIELD = "codes"
# The checker's fields on the paper ballot form, and where the sign-in's own messages belong.
CHECKER_FIELDS = {"password": "controle_wachtwoord", "totp": "controle_code"}
NOTICES = {
    "ingetrokken": N_("De code is ingetrokken. Er kan niet meer mee worden gestemd."),
    "opgeslagen": N_("Het papieren stembiljet is opgeslagen en telt mee."),
}
# Messages of the services used here that are not marked for translation where they are raised.
SERVICE_MESSAGES = (
    N_("Deze code heeft al online gestemd."),
    N_("Voor deze code is al een papieren stembiljet ingevoerd."),
    N_("Het e-mailadres of het wachtwoord klopt niet."),
    N_("De code uit uw app klopt niet. Probeer de nieuwste code."),
)


def _slug(request: Request) -> str:
    return str(request.path_params["slug"])


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("melding", ""))


# -- Codes and letters -----------------------------------------------------------------------


async def codes_page(request: Request) -> Response:
    return await _codes_page(request, notice=_notice(request))


async def _codes_page(
    request: Request,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    page = await call(request, codes.codes_page, current_actor(request), _slug(request))
    context = {
        "page": page,
        "round": page.round,
        "notice": notice,
        "errors": errors or {},
        "typed": typed or {},
        "limit": format_decimal(codes.WEB_BATCH_LIMIT, locale=i18n.LOCALES[language(request)]),
    }
    return render(request, "codes/codes.html", context, status_code, NO_STORE)


async def generate(request: Request) -> Response:
    """Make the codes and answer with their letters: the only time the plain codes are shown."""
    form = await read_form(request)
    settings = get_settings(request)
    try:
        made = await call(
            request,
            codes.generate,
            current_actor(request),
            _slug(request),
            form.get("count", ""),
            settings.code_pepper,
            settings.base_url,
            settings.site_name,
        )
    except Invalid as error:
        errors = form_errors(request, error)
        return await _codes_page(request, errors=errors, typed=form, status_code=422)
    context = {
        "round": made.round,
        "letters": made.letters,
        "codes_field": " ".join(codes.display(c) for c in made.codes),
        "count": len(made.codes),
        "also": made.also,
    }
    return render(request, "codes/letters.html", context, headers=NO_STORE)


async def download_csv(request: Request) -> Response:
    """The codes the letters page sent back, as a CSV file for mail merge."""
    form = await read_form(request)
    slug = _slug(request)
    typed = form.get(CODES_FIELD, "").split()
    text = await call(
        request,
        codes.codes_csv,
        current_actor(request),
        slug,
        typed,
        get_settings(request).code_pepper,
    )
    day = utcnow().astimezone(TIMEZONE).date().isoformat()
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="codes-{slug}-{day}.csv"',
            **NO_STORE,
        },
    )


async def revoke(request: Request) -> Response:
    form = await read_form(request)
    slug = _slug(request)
    try:
        await call(
            request,
            codes.revoke,
            current_actor(request),
            slug,
            form.get("code", ""),
            get_settings(request).code_pepper,
        )
    except Invalid as error:
        errors = form_errors(request, error)
        return await _codes_page(request, errors=errors, typed=form, status_code=422)
    path = request.app.url_path_for("staff_codes", slug=slug)
    return hx_redirect(request, f"{path}?{urlencode({'melding': 'ingetrokken'})}")


# -- Paper ballots ---------------------------------------------------------------------------


async def paper_page(request: Request) -> Response:
    return await _paper_page(request, {}, notice=_notice(request))


async def paper_total(request: Request) -> Response:
    """The total of what is ticked so far: an htmx fragment, or the whole form without JS."""
    async with request.form() as form:
        choices = _choices(form)
        typed = _typed(form)
    return await _paper_page(request, choices, typed=typed, show_total=True)


async def paper_enter(request: Request) -> Response:
    async with request.form() as form:
        choices = _choices(form)
        typed = _typed(form)
    settings = get_settings(request)
    if isinstance(choices, Invalid):
        errors = {"keuzes": error_text(request, choices)}
        return await _paper_page(request, {}, typed=typed, errors=errors, status_code=422)
    checker = codes.Checker(
        email=typed.get("controle_email", ""),
        password=typed.get("controle_wachtwoord", ""),
        totp=typed.get("controle_code", ""),
    )
    now = utcnow()
    try:
        await call(
            request,
            codes.enter_paper,
            current_actor(request),
            _slug(request),
            typed.get("code", ""),
            choices,
            settings.code_pepper,
            now.date(),
            checker,
            client_ip(request),
            settings.secret_key,
            now,
            settings.production,
        )
    except (Invalid, InvalidForm, TooManyAttempts) as error:
        errors = _paper_errors(request, error)
        return await _paper_page(
            request, choices, typed=typed, errors=errors, show_total=True, status_code=422
        )
    path = request.app.url_path_for("staff_paper", slug=_slug(request))
    return hx_redirect(request, f"{path}?{urlencode({'melding': 'opgeslagen'})}")


def _choices(form: FormData) -> dict[str, int] | Invalid:
    try:
        read = Choices(form)
    except Invalid as refused:
        return refused
    if read.bad:
        return Invalid("choices", NOT_A_NUMBER)
    return read.chosen


def _typed(form: FormData) -> dict[str, str]:
    """What was typed, to show again; never the checker's password."""
    keep = ("code", "controle_email", "controle_wachtwoord", "controle_code")
    typed = {k: v for k in keep if isinstance(v := form.get(k), str)}
    typed |= {
        k: v for k, v in form.multi_items() if k.startswith(CHOICE_PREFIX) and isinstance(v, str)
    }
    return typed


def _paper_errors(request: Request, error: DomainError) -> dict[str, str]:
    if isinstance(error, TooManyAttempts):
        return {"controle_email": error_text(request, error)}
    assert isinstance(error, Invalid | InvalidForm)
    found = form_errors(request, error)
    out: dict[str, str] = {}
    for field, message in found.items():
        if field == "checked_by":
            out["controle_email"] = message
        elif field in CHECKER_FIELDS:
            out[CHECKER_FIELDS[field]] = message
        elif field == "choices":
            out["keuzes"] = message
        else:
            out[field or "code"] = message
    return out


async def _paper_page(
    request: Request,
    choices: dict[str, int] | Invalid,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    show_total: bool = False,
    status_code: int = 200,
) -> Response:
    chosen = choices if isinstance(choices, dict) else {}
    ballot = await call(
        request,
        codes.paper_ballot,
        current_actor(request),
        _slug(request),
        chosen,
    )
    problem = ballot.state.problem
    if isinstance(choices, Invalid):
        problem = choices
    typed = dict(typed or {})
    typed.pop("controle_wachtwoord", None)
    context: dict[str, Any] = {
        "ballot": ballot,
        "round": ballot.round,
        "chosen": chosen,
        "typed": typed,
        "errors": errors or {},
        "notice": notice,
        "show_total": show_total,
        "problem": error_text(request, problem) if problem is not None and show_total else None,
    }
    response = render_page(
        request, "codes/paper.html", "codes/_paper_total.html", context, status_code
    )
    response.headers.update(NO_STORE)
    return response


# -- Turnout ---------------------------------------------------------------------------------


async def turnout_page(request: Request) -> Response:
    page = await call(request, codes.turnout_page, current_actor(request), _slug(request))
    context = {
        "page": page,
        "round": page.round,
        "turnout": page.turnout,
        "moment": moment_formatter(request),
        "chart": _chart(page),
    }
    return vary_on_htmx(render(request, "codes/turnout.html", context))


def _chart(page: codes.TurnoutPage) -> list[dict[str, Any]]:
    """Bars for the SVG chart: per day, ballots and used codes as heights out of 100."""
    top = page.busiest or 1
    return [
        {
            "day": day.day,
            "ballots": round(day.ballots * 100 / top),
            "codes": round(day.codes_used * 100 / top),
        }
        for day in page.days
    ]


STAFF = Policy.STAFF
POST = ("POST",)

routes = [
    staff_route(f"{ROUND}/codes", codes_page, policy=STAFF, name="staff_codes"),
    staff_route(
        f"{ROUND}/codes", generate, policy=STAFF, name="staff_codes_generate", methods=POST
    ),
    staff_route(
        f"{ROUND}/codes/csv", download_csv, policy=STAFF, name="staff_codes_csv", methods=POST
    ),
    staff_route(
        f"{ROUND}/codes/intrekken", revoke, policy=STAFF, name="staff_codes_revoke", methods=POST
    ),
    staff_route(f"{ROUND}/papier", paper_page, policy=STAFF, name="staff_paper"),
    staff_route(
        f"{ROUND}/papier", paper_enter, policy=STAFF, name="staff_paper_enter", methods=POST
    ),
    staff_route(
        f"{ROUND}/papier/totaal", paper_total, policy=STAFF, name="staff_paper_total", methods=POST
    ),
    staff_route(f"{ROUND}/opkomst", turnout_page, policy=STAFF, name="staff_turnout"),
]
