"""Letter codes, printable letters, paper ballots and turnout of a round.

Plain codes are never stored, not even for a moment on the server: the generate POST answers
with the printable letters themselves, and the CSV download posts the same codes back from that
page (CSRF-protected) to an endpoint that only turns them into a file. Nothing here is cached.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_decimal
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from proeftuin import i18n
from proeftuin.db import utcnow
from proeftuin.errors import DomainError, Invalid, InvalidForm, TooManyAttempts
from proeftuin.i18n import N_
from proeftuin.services.pages import codes
from proeftuin.vocabulary import VOID_REASONS
from proeftuin.web.downloads import FORMAT_FIELD, staff_download
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
    "brief-ingetrokken": N_(
        "De brief is ingetrokken. Met de code op die brief kan niemand meer stemmen."
    ),
    "niet-geteld": N_(
        "Het papieren stembiljet is opgeslagen als blanco of ongeldig. Het telt mee voor de "
        "opkomst, niet in de uitslag."
    ),
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
    replacing: bool = False,
) -> Response:
    """The codes page; after a failed replacement (``replacing``) its errors and what was typed
    show on the replacement form only."""
    page = await call(request, codes.codes_page, current_actor(request), _slug(request))
    context = {
        "page": page,
        "round": page.round,
        "notice": notice,
        "errors": {} if replacing else errors or {},
        "replace_errors": (errors or {}) if replacing else {},
        "replacing": replacing,
        "typed": typed or {},
        "limit": format_decimal(codes.WEB_BATCH_LIMIT, locale=i18n.LOCALES[language(request)]),
        "address_limit": format_decimal(
            codes.MAX_ADDRESSES, locale=i18n.LOCALES[language(request)]
        ),
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
    """The codes the letters page sent back, as a CSV or XLSX file for mail merge."""
    form = await read_form(request)
    slug = _slug(request)
    typed = form.get(CODES_FIELD, "").split()
    found = await call(
        request,
        codes.codes_csv,
        current_actor(request),
        slug,
        typed,
        get_settings(request).code_pepper,
        form.get(FORMAT_FIELD, ""),
    )
    return staff_download(found, f"codes-{slug}")


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


# -- Letters for the mail house ----------------------------------------------------------------

ADDRESS_FIELD = "adressen"
REPLACE_FIELDS = ("nummer", "straat", "huisnummer", "postcode", "plaats")


async def make_letters(request: Request) -> Response:
    """The uploaded address list in, a ZIP with the letters and the merge file out."""
    async with request.form() as form:
        upload = form.get(ADDRESS_FIELD)
        if isinstance(upload, UploadFile):
            filename, content = upload.filename or "", await upload.read()
        else:
            filename, content = "", b""
    try:
        made = await call(
            request,
            codes.make_letters,
            current_actor(request),
            _slug(request),
            filename,
            content,
            *_printing(request),
        )
    except Invalid as error:
        return await _codes_page(request, errors=form_errors(request, error), status_code=422)
    return _download(made.content, made.media_type, made.filename)


async def revoke_letter(request: Request) -> Response:
    form = await read_form(request)
    slug = _slug(request)
    try:
        await call(
            request, codes.revoke_letter, current_actor(request), slug, form.get("nummer", "")
        )
    except Invalid as error:
        errors = form_errors(request, error)
        return await _codes_page(request, errors=errors, typed=form, status_code=422)
    path = request.app.url_path_for("staff_codes", slug=slug)
    return hx_redirect(request, f"{path}?{urlencode({'melding': 'brief-ingetrokken'})}")


async def replace_letter(request: Request) -> Response:
    """Revoke a lost letter and answer with its replacement (PDF); the address is not kept."""
    form = await read_form(request)
    try:
        made = await call(
            request,
            codes.replace_letter,
            current_actor(request),
            _slug(request),
            form.get("nummer", ""),
            {name: form.get(name, "") for name in REPLACE_FIELDS},
            *_printing(request),
        )
    except Invalid as error:
        errors = form_errors(request, error)
        return await _codes_page(
            request, errors=errors, typed=form, status_code=422, replacing=True
        )
    return _download(made.content, made.media_type, made.filename)


def _printing(request: Request) -> tuple[str, str, str, str, dt.datetime]:
    """What printing letters takes from the settings and the request: the pepper, the base URL,
    the gemeente's name, the language and the moment of printing."""
    settings = get_settings(request)
    return (
        settings.code_pepper,
        settings.base_url,
        settings.site_name,
        language(request),
        utcnow(),
    )


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
    )


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
        stored = await call(
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
            typed.get("reden", ""),
        )
    except (Invalid, InvalidForm, TooManyAttempts) as error:
        errors = _paper_errors(request, error)
        return await _paper_page(
            request, choices, typed=typed, errors=errors, show_total=True, status_code=422
        )
    # A blank or invalid ballot answers with its kind (a VoidKind, a str), a counted one a receipt.
    notice = "niet-geteld" if isinstance(stored, str) else "opgeslagen"
    path = request.app.url_path_for("staff_paper", slug=_slug(request))
    return hx_redirect(request, f"{path}?{urlencode({'melding': notice})}")


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
    keep = ("code", "reden", "controle_email", "controle_wachtwoord", "controle_code")
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
        "void_reasons": [
            (key, i18n.gettext(label, language(request))) for key, label in VOID_REASONS.items()
        ],
    }
    response = render_page(
        request, "codes/paper.html", "codes/_paper_total.html", context, status_code
    )
    response.headers.update(NO_STORE)
    return response


async def paper_ballot_pdf(request: Request) -> Response:
    """The printable paper ballot, with the round as it stands at this moment."""
    slug = _slug(request)
    content = await call(
        request,
        codes.paper_ballot_pdf,
        current_actor(request),
        slug,
        get_settings(request).site_name,
        language(request),
        utcnow(),
    )
    return _download(content, "application/pdf", f"stembiljet-{slug}.pdf")


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
    staff_route(
        f"{ROUND}/brieven", make_letters, policy=STAFF, name="staff_letters_make", methods=POST
    ),
    staff_route(
        f"{ROUND}/brieven/intrekken",
        revoke_letter,
        policy=STAFF,
        name="staff_letters_revoke",
        methods=POST,
    ),
    staff_route(
        f"{ROUND}/brieven/vervangen",
        replace_letter,
        policy=STAFF,
        name="staff_letters_replace",
        methods=POST,
    ),
    staff_route(f"{ROUND}/papier", paper_page, policy=STAFF, name="staff_paper"),
    staff_route(
        f"{ROUND}/papier", paper_enter, policy=STAFF, name="staff_paper_enter", methods=POST
    ),
    staff_route(
        f"{ROUND}/papier/totaal", paper_total, policy=STAFF, name="staff_paper_total", methods=POST
    ),
    staff_route(
        f"{ROUND}/papier/stembiljet.pdf", paper_ballot_pdf, policy=STAFF, name="staff_paper_pdf"
    ),
    staff_route(f"{ROUND}/opkomst", turnout_page, policy=STAFF, name="staff_turnout"),
]
