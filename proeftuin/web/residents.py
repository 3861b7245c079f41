"""Residents: sign in with an e-mail link, sign out, the profile (name and postcode), "mijn
plannen", and in development the outbox where the sign-in mail can be read.

The signed cookie holds only the resident's id. Signing in starts a fresh session (against session
fixation) that keeps the language, and a fresh CSRF token. The link in the mail opens a page with
one button: a mail scanner that opens every link must not use up the single-use link.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from proeftuin import vocabulary
from proeftuin.db import utcnow
from proeftuin.errors import Invalid
from proeftuin.services.pages import residents
from proeftuin.services.pages.residents import ResidentView
from proeftuin.web.auth import start_signed_in_session
from proeftuin.web.helpers import NO_STORE, call, error_text
from proeftuin.web.htmx import hx_redirect
from proeftuin.web.security import client_ip, local_path, rotate_csrf_token
from proeftuin.web.state import get_database, get_settings
from proeftuin.web.templating import render

RESIDENT_KEY = "resident"
SIGN_IN_PATH = "/inloggen"
DEFAULT_NEXT = "/mijn-plannen"

# -- The session -----------------------------------------------------------------------------


def resident_id(conn: HTTPConnection) -> int | None:
    """The signed-in resident's id from the cookie (the account may since have gone)."""
    if "session" not in conn.scope:
        return None
    value = conn.session.get(RESIDENT_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def start_resident_session(conn: HTTPConnection, resident: int) -> None:
    start_signed_in_session(conn, RESIDENT_KEY, resident)


def end_resident_session(conn: HTTPConnection) -> None:
    conn.session.pop(RESIDENT_KEY, None)
    rotate_csrf_token(conn)


def sign_in_url(next_path: str) -> str:
    return f"{SIGN_IN_PATH}?{urlencode({'next': next_path})}"


def to_sign_in(request: Request, next_path: str) -> Response:
    """Send a signed-out visitor to the sign-in page; they come back to ``next_path``."""
    return hx_redirect(request, sign_in_url(next_path))


async def form_of(request: Request) -> dict[str, str]:
    async with request.form() as form:
        return text_fields(form)


def text_fields(form: FormData) -> dict[str, str]:
    return {name: value for name, value in form.items() if isinstance(value, str)}


# -- Sign in ---------------------------------------------------------------------------------


async def sign_in(request: Request) -> Response:
    next_path = local_path(request.query_params.get("next"), DEFAULT_NEXT)
    if resident_id(request) is not None:
        return RedirectResponse(next_path, status_code=303)
    return _sign_in_form(request, next_path)


def _sign_in_form(
    request: Request, next_path: str, email: str = "", error: str | None = None
) -> Response:
    context = {"next": next_path, "email": email, "errors": {"email": error} if error else {}}
    return render(request, "residents/sign_in.html", context, status_code=422 if error else 200)


async def send_link(request: Request) -> Response:
    form = await form_of(request)
    email = form.get("email", "")
    next_path = local_path(form.get("next"), DEFAULT_NEXT)
    settings = get_settings(request)
    ip_key = residents.hash_key(settings.secret_key, client_ip(request))
    try:
        await call(
            request,
            residents.request_sign_in_link,
            settings.secret_key,
            settings.base_url,
            email,
            ip_key,
            utcnow(),
            next_path,
            settings.site_name,
        )
    except Invalid as error:
        return _sign_in_form(request, next_path, email, error_text(request, error))
    # SMTP can be slow or down: the resident gets the page now, the mail goes out afterwards.
    response = render(
        request,
        "residents/sent.html",
        {"email": email.strip(), "next": next_path, "outbox": dev_outbox_enabled(request)},
        headers=NO_STORE,
    )
    response.background = BackgroundTask(residents.deliver_pending, get_database(request), settings)
    return response


async def link_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    return render(request, "residents/link.html", {"token": token, "error": None}, headers=NO_STORE)


async def redeem_link(request: Request) -> Response:
    form = await form_of(request)
    token = form.get("token", "")
    settings = get_settings(request)
    try:
        signed_in = await call(
            request,
            residents.redeem_sign_in_link,
            settings.secret_key,
            token,
            utcnow(),
        )
    except Invalid as error:
        context = {"token": "", "error": error_text(request, error)}
        return render(request, "residents/link.html", context, status_code=400, headers=NO_STORE)
    start_resident_session(request, signed_in.resident_id)
    return RedirectResponse(local_path(signed_in.next_path, DEFAULT_NEXT), status_code=303)


async def sign_out(request: Request) -> Response:
    end_resident_session(request)
    return hx_redirect(request, "/")


# -- Profile and my plans --------------------------------------------------------------------


async def profile(request: Request) -> Response:
    rid = resident_id(request)
    next_path = local_path(request.query_params.get("next"), DEFAULT_NEXT)
    if rid is None:
        return to_sign_in(request, request.url.path + _query(request))
    resident = await call(request, residents.resident_view, rid)
    if resident is None:
        end_resident_session(request)
        return to_sign_in(request, request.url.path + _query(request))
    values = {"display_name": resident.display_name, "postcode": resident.postcode}
    return _profile_form(request, resident, values, next_path)


def _profile_form(
    request: Request,
    resident: ResidentView,
    values: dict[str, str],
    next_path: str,
    errors: dict[str, str] | None = None,
) -> Response:
    context = {"resident": resident, "values": values, "next": next_path, "errors": errors or {}}
    return render(request, "residents/profile.html", context, status_code=422 if errors else 200)


async def save_profile(request: Request) -> Response:
    rid = resident_id(request)
    form = await form_of(request)
    next_path = local_path(form.get("next"), DEFAULT_NEXT)
    if rid is None:
        return to_sign_in(request, f"/profiel?{urlencode({'next': next_path})}")
    values = {"display_name": form.get("display_name", ""), "postcode": form.get("postcode", "")}
    try:
        await call(
            request, residents.update_profile, rid, values["display_name"], values["postcode"]
        )
    except Invalid as error:
        resident = await call(request, residents.resident_view, rid)
        if resident is None:
            raise
        errors = {error.field: error_text(request, error)}
        return _profile_form(request, resident, values, next_path, errors)
    return hx_redirect(request, next_path)


async def my_plans(request: Request) -> Response:
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, request.url.path)
    resident = await call(request, residents.resident_view, rid)
    if resident is None:
        end_resident_session(request)
        return to_sign_in(request, request.url.path)
    items = await call(request, residents.my_plans, rid)
    context = {"resident": resident, "plans": items, "status_labels": vocabulary.STATUS_LABELS}
    return render(request, "residents/my_plans.html", context)


def _query(request: Request) -> str:
    return f"?{request.url.query}" if request.url.query else ""


# -- Development outbox ----------------------------------------------------------------------


def dev_outbox_enabled(conn: HTTPConnection) -> bool:
    settings = get_settings(conn)
    return settings.env == "development" and not settings.smtp_host


URL = re.compile(r"https?://\S+")


async def dev_outbox(request: Request) -> Response:
    if not dev_outbox_enabled(request):
        raise HTTPException(404)
    base_url = get_settings(request).base_url
    mails = await call(request, residents.recent_mail)
    shown = [
        {
            "recipient": m.recipient,
            "subject": m.subject,
            "created_at": m.created_at,
            "body": m.body,
            # Links as paths on this server, so they work whatever port the dev server runs on.
            "links": [
                local_path(link.removeprefix(base_url), link) for link in URL.findall(m.body)
            ],
        }
        for m in mails
    ]
    return render(request, "residents/outbox.html", {"mails": shown}, headers=NO_STORE)


routes = [
    Route(SIGN_IN_PATH, sign_in, methods=["GET"], name="resident_sign_in"),
    Route(SIGN_IN_PATH, send_link, methods=["POST"], name="resident_send_link"),
    Route("/inloggen/link", link_page, methods=["GET"], name="resident_link"),
    Route("/inloggen/link", redeem_link, methods=["POST"], name="resident_redeem_link"),
    Route("/uitloggen", sign_out, methods=["POST"], name="resident_sign_out"),
    Route("/profiel", profile, methods=["GET"], name="resident_profile"),
    Route("/profiel", save_profile, methods=["POST"], name="resident_save_profile"),
    Route("/mijn-plannen", my_plans, methods=["GET"], name="my_plans"),
    Route("/ontwikkel/outbox", dev_outbox, methods=["GET"], name="dev_outbox"),
]
