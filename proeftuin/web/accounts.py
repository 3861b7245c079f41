"""Staff accounts in the browser: sign in and out, the second factor, the password, and the
warning before an idle session ends (docs/decisions.md, Sessions)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

import segno
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from proeftuin import i18n
from proeftuin.db import utcnow
from proeftuin.errors import Invalid, InvalidForm
from proeftuin.services.pages import accounts
from proeftuin.web.auth import end_staff_session, staff_session_token, start_staff_session
from proeftuin.web.helpers import NO_STORE, call, form_errors, read_form
from proeftuin.web.htmx import hx_redirect
from proeftuin.web.language import language
from proeftuin.web.policy import (
    LOGIN_PATH,
    TOTP_SETUP_KEY,
    TOTP_SETUP_PATH,
    Policy,
    current_actor,
    staff_route,
)
from proeftuin.web.security import client_ip, local_path
from proeftuin.web.state import get_settings
from proeftuin.web.templating import render

DASHBOARD_PATH = "/beheer"
SESSION_PATH = "/beheer/sessie"
SESSION_STATUS_PATH = f"{LOGIN_PATH}/sessie"
CHANGE_PATH = "/beheer/wachtwoord"
TOTP_PENDING_KEY = "staff_totp_pending"  # True while a second factor is being set up
WARN_BEFORE = dt.timedelta(minutes=5)


# -- Signing in and out ----------------------------------------------------------------------------


async def sign_in_page(request: Request) -> Response:
    notice = {"uitgelogd": "signed_out", "wachtwoord": "password_changed", "verlopen": "expired"}
    return _sign_in_form(
        request,
        next_path=local_path(request.query_params.get("next"), DASHBOARD_PATH),
        notice=notice.get(request.query_params.get("melding", ""), ""),
    )


async def sign_in(request: Request) -> Response:
    form = await read_form(request)
    settings = get_settings(request)
    next_path = local_path(form.get("next"), DASHBOARD_PATH)
    try:
        signed_in = await call(
            request,
            accounts.sign_in,
            form.get("email", ""),
            form.get("password", ""),
            form.get("totp", ""),
            accounts.hash_key(settings.secret_key, client_ip(request)),
            settings.secret_key,
            utcnow(),
            settings.production,
        )
    except Invalid as error:
        return _sign_in_form(
            request, next_path, email=form.get("email", ""), errors=form_errors(request, error)
        )
    start_staff_session(request, signed_in.token)
    if signed_in.needs_totp_setup:
        request.session[TOTP_SETUP_KEY] = True
        return RedirectResponse(TOTP_SETUP_PATH, status_code=303)
    return RedirectResponse(next_path, status_code=303)


def _sign_in_form(
    request: Request,
    next_path: str,
    *,
    email: str = "",
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> Response:
    context = {"next": next_path, "email": email, "errors": errors or {}, "notice": notice}
    status = 422 if errors else 200
    return render(request, "accounts/sign_in.html", context, status_code=status, headers=NO_STORE)


async def sign_out(request: Request) -> Response:
    token = staff_session_token(request)
    if token is not None:
        await call(request, accounts.sign_out, token, utcnow())
    _forget(request)
    return hx_redirect(request, f"{LOGIN_PATH}?melding=uitgelogd")


def _forget(request: Request) -> None:
    end_staff_session(request)
    request.session.pop(TOTP_SETUP_KEY, None)
    request.session.pop(TOTP_PENDING_KEY, None)


# -- The second factor -----------------------------------------------------------------------------


async def totp_page(request: Request) -> Response:
    return await _totp_form(request)


async def totp_enable(request: Request) -> Response:
    form = await read_form(request)
    if request.session.get(TOTP_PENDING_KEY) is not True:
        return RedirectResponse(TOTP_SETUP_PATH, status_code=303)  # the page starts it again
    try:
        await call(
            request,
            accounts.enable_second_factor,
            current_actor(request),
            _pending_secret(request),
            form.get("totp", ""),
        )
    except Invalid as error:
        return await _totp_form(request, form_errors(request, error))
    request.session.pop(TOTP_PENDING_KEY, None)
    request.session.pop(TOTP_SETUP_KEY, None)
    return hx_redirect(request, f"{DASHBOARD_PATH}?melding=totp")


async def _totp_form(request: Request, errors: dict[str, str] | None = None) -> Response:
    account = await call(request, accounts.own_account, current_actor(request))
    context: dict[str, Any] = {
        "account": account,
        "errors": errors or {},
        "required": bool(request.session.get(TOTP_SETUP_KEY)),
    }
    if not account.has_totp:
        if request.session.get(TOTP_PENDING_KEY) is not True:
            request.session[TOTP_PENDING_KEY] = True
        secret = _pending_secret(request)
        uri = accounts.totp_uri(secret, account.email, get_settings(request).site_name)
        title = i18n.gettext("QR-code voor uw app", language(request))
        context |= {
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "qr_svg": segno.make(uri, error="m")
            .svg_inline(scale=5, title=title, svgclass="beheer-qr", lineclass=None, omitsize=True)
            .replace("<svg ", '<svg role="img" ', 1),
        }
    status = 422 if errors else 200
    return render(request, "accounts/totp.html", context, status_code=status, headers=NO_STORE)


def _pending_secret(request: Request) -> str:
    """The secret being set up, derived on the server from this session's random token: the
    cookie is signed, not encrypted, so the seed of a second factor must never travel in it. It
    stays the same on every reload of the page, and differs per session."""
    token = staff_session_token(request) or ""
    key = get_settings(request).secret_key.encode()
    digest = hmac.new(key, f"totp-setup:{token}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()  # 160 bits, as pyotp.random_base32()


# -- The password ----------------------------------------------------------------------------------


async def password_page(request: Request) -> Response:
    return render(request, "accounts/password.html", {"errors": {}}, headers=NO_STORE)


async def password_change(request: Request) -> Response:
    form = await read_form(request)
    try:
        await call(
            request,
            accounts.change_password,
            current_actor(request),
            form.get("current", ""),
            form.get("new", ""),
            form.get("repeat", ""),
            get_settings(request).secret_key,
            utcnow(),
        )
    except (Invalid, InvalidForm) as error:
        context = {"errors": form_errors(request, error)}
        return render(request, "accounts/password.html", context, 422, NO_STORE)
    _forget(request)  # every session of the account has ended, this one too
    return hx_redirect(request, f"{LOGIN_PATH}?melding=wachtwoord")


# -- The session warning ---------------------------------------------------------------------------


async def session_status(request: Request) -> Response:
    """Fetched by htmx shortly before an idle session would end. Deliberately not a staff_route:
    that would count the fetch as activity and keep an unattended session alive."""
    token = staff_session_token(request)
    now = utcnow()
    ends = None
    if token is not None:
        ends = await call(request, accounts.session_ends_at, token, now)
    return _session_fragment(request, ends, now)


async def keep_alive(request: Request) -> Response:
    """'Ingelogd blijven': any staff request counts as activity; this one only says so."""
    now = utcnow()
    ends = now + accounts.SESSION_LEFT
    return _session_fragment(request, ends, now, renewed=True)


def _session_fragment(
    request: Request, ends: dt.datetime | None, now: dt.datetime, renewed: bool = False
) -> Response:
    context: dict[str, Any] = {"renewed": renewed, "signed_out": ends is None, "oob": True}
    if ends is not None:
        left = ends - now
        context |= {
            "until": ends.astimezone(i18n.TIMEZONE),
            "minutes_left": max(1, int(left.total_seconds() // 60)),
            "warn": left <= WARN_BEFORE and not renewed,
            # Ask again when the warning is due (at least a minute from now).
            "delay": f"{max(60, int((left - WARN_BEFORE).total_seconds()))}s",
        }
    context["login_url"] = f"{LOGIN_PATH}?{urlencode({'melding': 'verlopen'})}"
    return render(request, "accounts/_session_warning.html", context, headers=NO_STORE)


routes = [
    Route(LOGIN_PATH, sign_in_page, methods=["GET"], name="staff_sign_in"),
    Route(LOGIN_PATH, sign_in, methods=["POST"], name="staff_sign_in_submit"),
    Route(SESSION_STATUS_PATH, session_status, methods=["GET"], name="staff_session_status"),
    staff_route(
        "/beheer/uitloggen",
        sign_out,
        policy=Policy.STAFF,
        name="staff_sign_out",
        methods=["POST"],
        during_totp_setup=True,
    ),
    staff_route(
        TOTP_SETUP_PATH, totp_page, policy=Policy.STAFF, name="staff_totp", during_totp_setup=True
    ),
    staff_route(
        TOTP_SETUP_PATH,
        totp_enable,
        policy=Policy.STAFF,
        name="staff_totp_enable",
        methods=["POST"],
        during_totp_setup=True,
    ),
    staff_route(CHANGE_PATH, password_page, policy=Policy.STAFF, name="staff_password"),
    staff_route(
        CHANGE_PATH,
        password_change,
        policy=Policy.STAFF,
        name="staff_password_change",
        methods=["POST"],
    ),
    staff_route(SESSION_PATH, keep_alive, policy=Policy.STAFF, name="staff_keep_alive"),
]
