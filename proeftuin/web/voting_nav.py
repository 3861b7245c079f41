"""Whether some round is in its voting phase: then every page's navigation offers "Stemmen".

Asked of the database at most once per ``VOTING_NAV_SECONDS`` per app (a phase change shows in
the navigation within that time), not on every page: the answer sits in the request scope under
``SCOPE_KEY`` for the templates (``voting_open`` in web/templating.py).
"""

from __future__ import annotations

import time

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from proeftuin.services.pages import home as home_page
from proeftuin.web.helpers import call

VOTING_NAV_SECONDS = 30.0
SCOPE_KEY = "proeftuin.voting_open"


class VotingNavMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.answer = False
        self.expires = 0.0  # monotonic seconds; 0: never asked

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[SCOPE_KEY] = await self._voting_open(HTTPConnection(scope))
        await self.app(scope, receive, send)

    async def _voting_open(self, conn: HTTPConnection) -> bool:
        now = time.monotonic()
        if now >= self.expires:
            try:
                self.answer = await call(conn, home_page.voting_open)
            except Exception:  # the page itself says what is wrong (healthz: 503)
                return False
            self.expires = now + VOTING_NAV_SECONDS
        return self.answer
