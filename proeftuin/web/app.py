"""The application factory: settings in, a Starlette app out.

A web module adds its pages by ending in ``routes = [...]`` and being listed in ``ROUTE_MODULES``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

from jinja2.utils import htmlsafe_json_dumps
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute
from starlette_compress import CompressMiddleware

from proeftuin import jobs
from proeftuin.config import Settings
from proeftuin.db import Database, connect
from proeftuin.web import (
    accounts,
    api,
    browse,
    codes,
    comments,
    errors,
    events,
    execution,
    home,
    language,
    moderation,
    ops,
    photos,
    places,
    plans,
    residents,
    results,
    site,
    staff_admin,
    subscriptions,
    voting,
)
from proeftuin.web.assets import Assets, StaticFilesMiddleware
from proeftuin.web.htmx import HTMX_CONFIG
from proeftuin.web.language import LanguageMiddleware
from proeftuin.web.security import (
    BodyLimitMiddleware,
    CSRFMiddleware,
    NullByteMiddleware,
    SecurityHeadersMiddleware,
    client_networks,
)
from proeftuin.web.site_cache import SiteMiddleware, read_tokens
from proeftuin.web.templating import create_templates
from proeftuin.web.voting_nav import VotingNavMiddleware

ROUTE_MODULES: tuple[ModuleType, ...] = (
    home,
    language,
    accounts,
    staff_admin,
    voting,
    events,
    browse,
    execution,
    plans,
    comments,
    photos,
    places,
    residents,
    moderation,
    codes,
    ops,
    results,
    api,
    subscriptions,
    site,
)

SESSION_COOKIE = "proeftuin_session"
SESSION_MAX_AGE = 12 * 60 * 60  # the absolute limit; staff sessions also expire server-side


def create_app(settings: Settings, database: Database | None = None) -> Starlette:
    """``database``, when given, belongs to the caller (tests, the CLI) and stays open."""
    client_networks(settings.trusted_proxies)  # a bad PROEFTUIN_TRUSTED_PROXIES fails at start

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if database is not None:
            async with jobs.scheduled(database, settings):
                yield
            return
        app.state.database = connect(settings.database_url)
        try:
            async with jobs.scheduled(app.state.database, settings):
                yield
        finally:
            app.state.database.dispose()

    routes: list[BaseRoute] = [route for module in ROUTE_MODULES for route in module.routes]
    assets = Assets(required=settings.production)
    if settings.access_log:
        ops.configure_access_log()

    app = Starlette(
        routes=routes,
        # Outermost first. Starlette's own 500 layer sits around all of these, which is why
        # errors.server_error adds the security headers itself.
        middleware=[
            *([Middleware(ops.AccessLogMiddleware)] if settings.access_log else []),
            Middleware(
                SecurityHeadersMiddleware,
                production=settings.production,
                image_origin=settings.map_tiles,
            ),
            # Pages compressed as they go out (brotli, gzip; static files come compressed).
            Middleware(CompressMiddleware, zstd=False),
            Middleware(StaticFilesMiddleware, assets=assets),
            # The gemeente's name, contact details and look, for every page (error pages too).
            Middleware(SiteMiddleware, tokens=read_tokens(settings.instance_path)),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_MAX_AGE,
                same_site="lax",
                https_only=settings.production,
            ),
            Middleware(LanguageMiddleware),
            Middleware(VotingNavMiddleware),
            Middleware(
                BodyLimitMiddleware, max_bytes=settings.max_body_bytes, refuse=errors.refuse
            ),
            Middleware(NullByteMiddleware, refuse=errors.refuse),
            Middleware(
                CSRFMiddleware,
                base_url=settings.base_url,
                refuse=errors.refuse,
                exempt_paths=subscriptions.ONE_CLICK_PATHS,
            ),
        ],
        exception_handlers=errors.EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    # As JSON once, not on every page.
    htmx_config = htmlsafe_json_dumps(HTMX_CONFIG, sort_keys=True)
    app.state.templates = create_templates(
        settings,
        {
            "htmx_config": htmx_config,
            "static_url": assets.url,
            "map_tiles": settings.map_tiles,
            "map_attribution": settings.map_attribution,
        },
    )
    return app
