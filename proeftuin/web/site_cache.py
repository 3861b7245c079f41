"""What every page shows of the gemeente (its name, contact details and look), kept per process.

``SiteMiddleware`` reads it before a request when it is older than ``SITE_TTL``; templates get it
as ``site`` (web/templating.py), error pages too, without a database call of their own. A save in
/beheer makes its own process read it again at once; other processes follow within ``SITE_TTL``
(docs/decisions.md, *The gemeente's own site*). A gemeente's NL Design System theme, as a tokens
file ``huisstijl.css`` in the instance folder, is read once at start and served before the
colours set in /beheer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from proeftuin.config import ConfigError
from proeftuin.services.pages import site
from proeftuin.services.pages.declare import perform
from proeftuin.services.pages.site import EMPTY_SITE, SiteInfo
from proeftuin.web.state import get_database

SITE_TTL = 30.0  # seconds
TOKENS_FILE = "huisstijl.css"
TOKENS_LIMIT = 200_000  # characters: a whole theme's tokens are some 60,000

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


def read_tokens(instance: Path) -> str:
    """The gemeente's NL Design System theme: ``huisstijl.css`` in the instance folder, read once
    at start ("" without one). Custom properties only matter; the file is the operator's own."""
    path = instance / TOKENS_FILE
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    if len(text) > TOKENS_LIMIT:
        raise ConfigError(f"{path} is larger than {TOKENS_LIMIT} characters")
    return text.rstrip() + "\n"


class SiteMiddleware:
    def __init__(self, app: ASGIApp, tokens: str = "") -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            conn = HTTPConnection(scope)
            cache = site_cache(conn.app)
            if cache.stale():
                cache.loaded_at = time.monotonic()  # one reader at a time; the rest use the last
                try:
                    cache.info = await perform(get_database(conn), site.site_info, self.tokens)
                except Exception:
                    # A database that does not answer: the page itself says so (or /healthz);
                    # meanwhile pages show what was read last.
                    log.warning("the gemeente's details could not be read", exc_info=True)
                    cache.forget()
        await self.app(scope, receive, send)
