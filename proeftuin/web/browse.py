"""What anyone can read: an area with its rounds, a round (timeline, what happens next, its plans,
filtered by theme) and a plan.

During voting every visitor sees the plans in an order of their own, kept in the session, so no
plan gains from a place at the top of the list and the list does not jump about on reload.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proeftuin import vocabulary
from proeftuin.services.pages import browse
from proeftuin.web.comments import plan_discussion
from proeftuin.web.helpers import call
from proeftuin.web.htmx import render_page
from proeftuin.web.markdown import render_markdown
from proeftuin.web.residents import resident_id
from proeftuin.web.templating import render

ORDER_KEY = "volgorde"
THEME_PARAMETER = "thema"
SEARCH_PARAMETER = "zoek"
ORDER_PARAMETER = "sorteer"

# Labels templates need; pass them with ``labels()``.
LABELS: dict[str, Any] = {
    "theme_labels": vocabulary.THEME_LABELS,
    "status_labels": vocabulary.STATUS_LABELS,
    "timeline_labels": vocabulary.TIMELINE_LABELS,
    "order_labels": vocabulary.PLAN_ORDER_LABELS,
    "execution_labels": vocabulary.EXECUTION_LABELS,
    "month_names": vocabulary.MONTH_NAMES,
    "markdown": render_markdown,
}


def labels(**context: Any) -> dict[str, Any]:
    return {**LABELS, **context}


async def area_page(request: Request) -> Response:
    area = await call(request, browse.area_view, request.path_params["slug"])
    return render(request, "browse/area.html", {"area": area})


async def round_page(request: Request) -> Response:
    slug = request.path_params["slug"]
    theme = request.query_params.get(THEME_PARAMETER, "")
    view = await call(
        request,
        browse.round_view,
        slug,
        theme=theme,
        shuffle_seed=_order_seed(request),
        resident_id=resident_id(request),
        search=request.query_params.get(SEARCH_PARAMETER, ""),
        order=request.query_params.get(ORDER_PARAMETER, ""),
    )
    context = labels(view=view, signed_in=resident_id(request) is not None)
    return render_page(request, "browse/round.html", "browse/_plans.html", context)


def _order_seed(request: Request) -> str:
    """This visitor's order of the plans: random, and the same on every visit in the session."""
    seed = request.session.get(ORDER_KEY)
    if not isinstance(seed, str) or not seed:
        seed = secrets.token_hex(8)
        request.session[ORDER_KEY] = seed
    return seed


async def plan_page(request: Request) -> Response:
    public_id = request.path_params["public_id"]
    view = await call(request, browse.plan_view, public_id, resident_id(request))
    context = labels(plan=view, signed_in=resident_id(request) is not None)
    context |= await plan_discussion(request, public_id)
    return render(request, "browse/plan.html", context)


routes = [
    Route("/wijken/{slug}", area_page, methods=["GET"], name="area_page"),
    Route("/rondes/{slug}", round_page, methods=["GET"], name="round_page"),
    Route("/plannen/{public_id}", plan_page, methods=["GET"], name="plan_page"),
]
