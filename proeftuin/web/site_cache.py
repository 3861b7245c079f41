"""What every page shows of the gemeente (its name, contact details and look), kept per process.

``SiteMiddleware`` reads it before a request when it is older than ``SITE_TTL``; templates get it
as ``site`` (web/templating.py), error pages too, without a database call of their own. A save in
/beheer makes its own process read it again at once; other processes follow within ``SITE_TTL``
(docs/decisions.md, *The gemeente's own site*).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from proeftuin.services.pages import site
from proeftuin.services.pages.declare import perform
from proeftuin.services.pages.site import EMPTY_SITE, SiteInfo
from proeftuin.web.state import get_database

SITE_TTL = 30.0  # seconds

log = logging.getLogger(__name__)


@dataclass
class SiteCache:
    info: SiteInfo = EMPTY_SITE
    loaded_at: float = float("-inf")

    def stale(self) -> bool:
        return time.monotonic() - self.loaded_at > SITE_TTL

    def forget(self) -> None:
        self.loaded_at = float("-inf")


def site_cache(app: object) -> SiteCache:
    state = getattr(app, "state")  # noqa: B009 - a Starlette app, typed loosely for templating
    cache = getattr(state, "site_cache", None)
    if cache is None:
        cache = SiteCache()
        state.site_cache = cache
    assert isinstance(cache, SiteCache)
    return cache


def site_info(conn: HTTPConnection) -> SiteInfo:
    """The gemeente's details as last read: never a database call."""
    return site_cache(conn.app).info


class SiteMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            conn = HTTPConnection(scope)
            cache = site_cache(conn.app)
            if cache.stale():
                cache.loaded_at = time.monotonic()  # one reader at a time; the rest use the last
                try:
                    cache.info = await perform(get_database(conn), site.site_info)
                except Exception:
                    # A database that does not answer: the page itself says so (or /healthz);
                    # meanwhile pages show what was read last.
                    log.warning("the gemeente's details could not be read", exc_info=True)
                    cache.forget()
        await self.app(scope, receive, send)
