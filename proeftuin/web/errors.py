"""Errors become pages here, and only here: domain errors, HTTP errors, and crashes.

A visitor gets a page in their own language and never a traceback. For an htmx request the
message goes into the page's message region instead (``HX-Retarget``), so it is not lost.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from proeftuin import i18n
from proeftuin.errors import DomainError, InvalidForm, TooManyAttempts
from proeftuin.i18n import N_
from proeftuin.web.htmx import MESSAGE_REGION, is_htmx, vary_on_htmx
from proeftuin.web.language import language
from proeftuin.web.security import add_security_headers
from proeftuin.web.state import get_settings
from proeftuin.web.templating import render

log = logging.getLogger(__name__)

TITLES = {
    400: N_("Dit verzoek begrijpen we niet"),
    403: N_("Geen toegang"),
    404: N_("Pagina niet gevonden"),
    405: N_("Dit kan hier niet"),
    409: N_("Dit kan nu niet"),
    413: N_("Te veel gegevens"),
    422: N_("Niet alles is goed ingevuld"),
    429: N_("Te veel pogingen"),
    500: N_("Er ging iets mis"),
    503: N_("Even niet beschikbaar"),
}
MESSAGES = {
    400: N_(
        "Er ging iets mis met wat uw browser stuurde. Ga terug naar de vorige pagina en probeer "
        "het opnieuw."
    ),
    403: N_("U heeft geen toegang tot deze pagina."),
    404: N_("Deze pagina bestaat niet."),
    405: N_("Deze pagina kan dit verzoek niet verwerken."),
    500: N_(
        "Er ging bij ons iets mis. Probeer het later opnieuw. Blijft het misgaan? "
        "Neem dan contact op met de gemeente."
    ),
    503: N_("Deze website is even niet beschikbaar. Probeer het later opnieuw."),
}


def error_response(
    request: Request,
    status_code: int,
    message: str | None = None,
    *,
    params: Mapping[str, object] | None = None,
    details: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A page (or an htmx message) for ``status_code``. ``message`` is a Dutch msgid, translated
    here, with ``params`` filling in its ``{placeholders}``; ``details`` are translated already."""
    lang = language(request)
    i18n.current_language.set(lang)  # for error pages rendered outside the language middleware
    context: dict[str, Any] = {
        "status_code": status_code,
        "title": i18n.gettext(TITLES.get(status_code, TITLES[400]), lang),
        "message": i18n.gettext(
            message or MESSAGES.get(status_code, MESSAGES[400]), lang, **(params or {})
        ),
        "details": details or [],
    }
    all_headers = dict(headers or {})
    if is_htmx(request):
        all_headers |= {"HX-Retarget": MESSAGE_REGION, "HX-Reswap": "innerHTML"}
        template, context["heading"] = "errors/_message.html", "h2"
    else:
        template, context["heading"] = "errors/error.html", "h1"
    return vary_on_htmx(render(request, template, context, status_code, all_headers))


def refuse(request: Request, status_code: int, message: str | None) -> Response:
    """For the middleware in security.py, which refuses before any route runs."""
    return error_response(request, status_code, message)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # Starlette's detail is English developer text: show our own words for the status instead.
    return error_response(request, exc.status_code, headers=exc.headers)


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    headers = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    details = []
    if isinstance(exc, InvalidForm):
        lang = language(request)
        details = [i18n.gettext(e.message, lang, **e.params) for e in exc.errors.values()]
    return error_response(
        request, exc.status_code, exc.message, params=exc.params, details=details, headers=headers
    )


async def server_error(request: Request, exc: Exception) -> Response:
    """Starlette's outermost layer calls this after a crash (and logs nothing itself: it re-raises
    to the server, which logs the traceback). Must not fail in turn."""
    settings = get_settings(request)
    try:
        response = error_response(request, 500)
    except Exception:
        log.exception("the error page itself failed")
        response = PlainTextResponse(
            "Er ging iets mis. Probeer het later opnieuw. / Something went wrong.",
            status_code=500,
        )
    return add_security_headers(response, settings.production, settings.map_tiles)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    HTTPException: http_error,
    DomainError: domain_error,
    Exception: server_error,
}
