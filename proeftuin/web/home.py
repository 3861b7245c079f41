"""The front page (areas and their rounds) and the health check."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from proeftuin.services.pages import home as home_page
from proeftuin.web.helpers import call
from proeftuin.web.htmx import render_page

log = logging.getLogger(__name__)


async def home(request: Request) -> Response:
    chosen = request.query_params.get("gebied", "")
    areas = await call(request, home_page.areas_with_rounds)
    matched = [a for a in areas if a.slug == chosen]
    return render_page(
        request,
        "home/index.html",
        "home/_areas.html",
        {"areas": areas, "shown": matched or areas, "chosen": chosen if matched else ""},
    )


async def healthz(request: Request) -> Response:
    try:
        await call(request, home_page.ping)
    except Exception:
        log.exception("health check: the database does not answer")
        return PlainTextResponse("database unavailable", status_code=503)
    return PlainTextResponse("ok")


routes = [
    Route("/", home, name="home"),
    Route("/healthz", healthz, name="healthz", include_in_schema=False),
]
