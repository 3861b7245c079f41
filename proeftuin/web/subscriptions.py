"""News by e-mail about a round or an area: the form, the confirmation (double opt-in) and the
stop page. Every mail names the stop address in its List-Unsubscribe headers; a mail program
POSTs to it without a CSRF token (RFC 8058 one-click), so that one path is exempt from the CSRF
check: the secret token in its address is what allows the stop, and a stop is all it can do.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proeftuin.errors import Invalid
from proeftuin.services.pages import subscriptions
from proeftuin.web.helpers import NO_STORE, call, form_errors, read_form
from proeftuin.web.security import client_ip
from proeftuin.web.state import get_settings
from proeftuin.web.templating import render

FORM_PATH = "/berichten"
CONFIRM_PATH = "/berichten/bevestigen"
STOP_PATH = "/berichten/stoppen"
ONE_CLICK_PATHS = frozenset({STOP_PATH})  # see the module docstring
KINDS = ("ronde", "wijk")


def _kind_and_slug(values: dict[str, str]) -> tuple[str, str]:
    for kind in KINDS:
        if values.get(kind):
            return kind, values[kind][:80]
    return "", ""


async def form_page(request: Request) -> Response:
    kind, slug = _kind_and_slug(dict(request.query_params))
    target = await call(request, subscriptions.subject, kind, slug)
    return render(request, "subscriptions/form.html", {"target": target, "errors": {}, "typed": {}})


async def subscribe(request: Request) -> Response:
    form = await read_form(request)
    kind, slug = _kind_and_slug(form)
    email = form.get("email", "")[:320]
    settings = get_settings(request)
    ip_key = subscriptions.hash_key(settings.secret_key, client_ip(request))
    try:
        target = await call(
            request, subscriptions.subscribe, kind, slug, email, settings.base_url, ip_key
        )
    except Invalid as error:
        target = await call(request, subscriptions.subject, kind, slug)
        context = {"target": target, "errors": form_errors(request, error), "typed": form}
        return render(request, "subscriptions/form.html", context, status_code=422)
    # The same answer whether or not the address was known, confirmed or recently mailed.
    return render(request, "subscriptions/sent.html", {"target": target}, headers=NO_STORE)


async def confirm_page(request: Request) -> Response:
    token = request.query_params.get("t", "")[:64]
    context = {"token": token, "error": ""}
    return render(request, "subscriptions/confirm.html", context, headers=NO_STORE)


async def confirm(request: Request) -> Response:
    form = await read_form(request)
    try:
        await call(request, subscriptions.confirm, form.get("t", "")[:64])
    except Invalid as error:
        context = {"token": "", "error": form_errors(request, error).get("", "")}
        return render(request, "subscriptions/confirm.html", context, 404, headers=NO_STORE)
    return render(request, "subscriptions/done.html", {"stopped": False}, headers=NO_STORE)


async def stop_page(request: Request) -> Response:
    token = request.query_params.get("t", "")[:64]
    return render(request, "subscriptions/stop.html", {"token": token}, headers=NO_STORE)


async def stop(request: Request) -> Response:
    await call(request, subscriptions.unsubscribe, request.query_params.get("t", "")[:64])
    return render(request, "subscriptions/done.html", {"stopped": True}, headers=NO_STORE)


routes = [
    Route(FORM_PATH, form_page, methods=["GET"], name="subscribe_form"),
    Route(FORM_PATH, subscribe, methods=["POST"], name="subscribe"),
    Route(CONFIRM_PATH, confirm_page, methods=["GET"], name="subscribe_confirm_page"),
    Route(CONFIRM_PATH, confirm, methods=["POST"], name="subscribe_confirm"),
    Route(STOP_PATH, stop_page, methods=["GET"], name="unsubscribe_page"),
    Route(STOP_PATH, stop, methods=["POST"], name="unsubscribe"),
]
