"""The visitor's language: ``?lang=en|nl`` on any page, or the switch in the header; the choice is
remembered in the session. Dutch by default."""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from proeftuin.errors import Invalid
from proeftuin.i18n import DEFAULT_LANGUAGE, N_, current_language, normalise_language
from proeftuin.web.security import local_path

SESSION_KEY = "lang"
SCOPE_KEY = "proeftuin.language"


def language(conn: HTTPConnection) -> str:
    value = conn.scope.get(SCOPE_KEY)
    return value if isinstance(value, str) else DEFAULT_LANGUAGE


class LanguageMiddleware:
    """Decides the language once per request; runs inside the session middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        session = scope["session"]
        requested = normalise_language(QueryParams(scope["query_string"]).get("lang"))
        if requested and session.get(SESSION_KEY) != requested:
            session[SESSION_KEY] = requested
        chosen = requested or normalise_language(session.get(SESSION_KEY)) or DEFAULT_LANGUAGE
        scope[SCOPE_KEY] = chosen
        token = current_language.set(chosen)
        try:
            await self.app(scope, receive, send)
        finally:
            current_language.reset(token)


async def switch_language(request: Request) -> Response:
    async with request.form() as form:
        chosen = normalise_language(str(form.get("lang", "")))
        next_path = local_path(form.get("next"))
    if chosen is None:
        raise Invalid("lang", N_("Kies Nederlands of Engels."))
    request.session[SESSION_KEY] = chosen
    return RedirectResponse(next_path, status_code=303)


routes = [Route("/taal", switch_language, methods=["POST"], name="switch_language")]
