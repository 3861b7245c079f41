"""Server-side htmx support, our own and small.

Every page works without JavaScript; htmx only swaps a fragment (``_name.html``) that the full page
also includes, so there is one markup source. A response that differs for htmx says so with
``Vary: HX-Request``, so that no cache serves a fragment as a page or the other way round.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from proeftuin.web.templating import render

# Read by htmx from <meta name="htmx-config">. Our CSP has no 'unsafe-eval' and no inline styles,
# so htmx must neither eval (hx-on, js: values, event filters) nor inject its indicator <style>.
# No page snapshots in localStorage: a shared computer in a community centre must not keep one
# resident's choices for the next; a history miss reloads the page from the server instead.
# 4xx/5xx responses are swapped too: a 422 re-renders its form fragment, and our error pages
# retarget themselves to the message region (see errors.py).
HTMX_CONFIG: dict[str, Any] = {
    "allowEval": False,
    "allowScriptTags": False,
    "includeIndicatorStyles": False,
    "selfRequestsOnly": True,
    "historyCacheSize": 0,
    # Never carry inline styles across a swap: the CSP forbids them.
    "attributesToSettle": ["class", "width", "height"],
    "refreshOnHistoryMiss": True,
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "[45]..", "swap": True, "error": True},
    ],
}

MESSAGE_REGION = "#meldingen"


def is_htmx(conn: HTTPConnection) -> bool:
    """An htmx request that wants a fragment (a history restore or a boosted link wants a page)."""
    headers = conn.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-history-restore-request") != "true"
        and headers.get("hx-boosted") != "true"
    )


def vary_on_htmx(response: Response) -> Response:
    vary = [v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()]
    if "hx-request" not in {v.lower() for v in vary}:
        vary.append("HX-Request")
    response.headers["Vary"] = ", ".join(vary)
    return response


def render_page(
    request: Request,
    page: str,
    fragment: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The ``fragment`` template for htmx, else the full ``page`` (which includes the fragment)."""
    template = fragment if is_htmx(request) else page
    return vary_on_htmx(render(request, template, context, status_code=status_code))


def hx_redirect(request: Request, url: str) -> Response:
    """After a successful POST: htmx follows ``HX-Redirect``; a plain form gets 303 See Other."""
    if is_htmx(request):
        return vary_on_htmx(Response(status_code=200, headers={"HX-Redirect": url}))
    return vary_on_htmx(RedirectResponse(url, status_code=303))


def hx_trigger(response: Response, event: str, detail: Any = None) -> Response:
    """Ask htmx to fire ``event`` (with ``detail``) on the element that made the request."""
    existing = response.headers.get("hx-trigger")
    events: dict[str, Any] = {}
    if existing:
        if existing.lstrip().startswith("{"):
            events = json.loads(existing)
        else:
            events = {name.strip(): None for name in existing.split(",") if name.strip()}
    events[event] = detail
    response.headers["HX-Trigger"] = json.dumps(events, separators=(",", ":"))
    return response
