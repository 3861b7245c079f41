"""Every staff route states who may reach it; nothing under /beheer exists without a policy.

``staff_route`` wraps an endpoint: it checks the server-side staff session (docs/decisions.md,
Sessions) and the role before the endpoint runs, and puts the ``Actor`` on
``request.state.actor``. Which *areas* an actor may touch is decided by the services
(``services.permissions``), never here alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proeftuin.db import utcnow
from proeftuin.errors import NotAllowed
from proeftuin.i18n import N_, TIMEZONE
from proeftuin.services.pages import accounts
from proeftuin.services.permissions import Actor
from proeftuin.web.auth import end_staff_session, staff_session_token
from proeftuin.web.helpers import call
from proeftuin.web.htmx import hx_redirect, is_htmx

LOGIN_PATH = "/beheer/inloggen"
TOTP_SETUP_PATH = "/beheer/tweestapsverificatie"
# Set at sign-in when an admin in production has no second factor yet: until it is set up, only
# routes built with ``during_totp_setup=True`` (the set-up page, sign-out) are reachable.
TOTP_SETUP_KEY = "staff_totp_setup"


class Policy(StrEnum):
    STAFF = "staff"  # any signed-in staff member; area checks happen in the services
    ADMIN = "admin"  # admins of the gemeente only


Endpoint = Callable[[Request], Awaitable[Response]]


def staff_route(
    path: str,
    endpoint: Endpoint,
    *,
    policy: Policy,
    name: str,
    methods: Sequence[str] = ("GET",),
    during_totp_setup: bool = False,
) -> Route:
    async def guarded(request: Request) -> Response:
        token = staff_session_token(request)
        if token is None:
            return _to_login(request)
        now = utcnow()
        try:
            actor = await call(request, accounts.check_session, token, now)
        except NotAllowed:
            end_staff_session(request)
            return _to_login(request)
        if request.session.get(TOTP_SETUP_KEY) and not during_totp_setup:
            if request.method != "GET" and not is_htmx(request):
                raise NotAllowed(N_("Stel eerst de tweestapsverificatie in."))
            return hx_redirect(request, TOTP_SETUP_PATH)
        if policy is Policy.ADMIN and not actor.is_admin:
            raise NotAllowed("Alleen een beheerder van de gemeente kan dit doen.")
        request.state.actor = actor
        # For the session notice in the layout.
        request.state.session_until = (now + accounts.SESSION_LEFT).astimezone(TIMEZONE)
        return await endpoint(request)

    route = Route(path, guarded, methods=list(methods), name=name)
    route.policy = policy  # type: ignore[attr-defined]  # read by the authorization matrix test
    return route


def current_actor(request: Request) -> Actor:
    actor: Actor = request.state.actor
    return actor


def _to_login(request: Request) -> Response:
    if request.method != "GET" and not is_htmx(request):
        raise NotAllowed("U bent niet (meer) ingelogd. Log opnieuw in.")
    return hx_redirect(request, f"{LOGIN_PATH}?{urlencode({'next': request.url.path})}")
