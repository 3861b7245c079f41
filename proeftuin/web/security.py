"""The security base every request passes: headers, body limit, CSRF, and the client's address.

All middleware here is pure ASGI (no BaseHTTPMiddleware), so responses stream and context
variables set by outer layers stay visible inside.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import re
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proeftuin.i18n import N_
from proeftuin.web.state import get_settings

log = logging.getLogger(__name__)

# Renders a refusal as a page in the visitor's language: (request, status, Dutch msgid) -> response.
Refuse = Callable[[Request, int, str | None], Response]  # None: the status's own message

CSRF_SESSION_KEY = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

CSRF_REFUSED = N_(
    "Dit formulier is verlopen of kwam niet van deze website. Ga terug, laad de pagina "
    "opnieuw en probeer het nog eens."
)
FORM_UNREADABLE = N_("Het formulier kon niet worden gelezen. Probeer het opnieuw.")
BODY_TOO_LARGE = N_(
    "Wat u verstuurt is te groot. Maak het kleiner, bijvoorbeeld met een kleinere foto, "
    "en probeer het opnieuw."
)

# The forms that send a photo: the body may be larger (a 10 MB photo and the form around it),
# and the file's bytes may hold NUL (the text fields of these forms are checked by their route).
UPLOAD_PATHS = re.compile(r"^(?:/beheer/rondes/[^/]+)?/plannen/[^/]+/fotos$")
UPLOAD_MAX_BYTES = 10 * 1024 * 1024 + 64 * 1024


def takes_upload(scope: Scope) -> bool:
    return scope["method"] == "POST" and UPLOAD_PATHS.match(scope["path"]) is not None


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{images}; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def content_security_policy(image_origin: str = "") -> str:
    """The policy; ``image_origin`` (the map tiles' host, from the settings) may serve images."""
    origin = origin_of(image_origin)
    return CONTENT_SECURITY_POLICY.format(images=f" {origin}" if origin else "")


def security_headers(production: bool, image_origin: str = "") -> list[tuple[str, str]]:
    headers = [
        ("Content-Security-Policy", content_security_policy(image_origin)),
        ("X-Content-Type-Options", "nosniff"),
        # same-origin keeps the Origin header on our own form posts (no-referrer would null it).
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if production:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


def add_security_headers(response: Response, production: bool, image_origin: str = "") -> Response:
    """For responses sent outside the middleware (the 500 page is sent by Starlette's outermost
    error layer, around all of ours)."""
    for name, value in security_headers(production, image_origin):
        response.headers.setdefault(name, value)
    return response


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, production: bool, image_origin: str = "") -> None:
        self.app = app
        self.headers = security_headers(production, image_origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
                _private_if_cookie(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _private_if_cookie(headers: MutableHeaders) -> None:
    """A response that sets a cookie is never for a shared cache: it would hand one visitor's
    session (and CSRF token) to the next. The first page of a visit sets the session cookie,
    also when that page is otherwise public (the results, say)."""
    cache = headers.get("cache-control", "")
    if "set-cookie" in headers and "public" in cache.lower():
        headers["Cache-Control"] = re.sub(r"\bpublic\b", "private", cache, flags=re.IGNORECASE)


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with a 413 page, before anything buffers them."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, refuse: Refuse) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = max(self.max_bytes, UPLOAD_MAX_BYTES) if takes_upload(scope) else self.max_bytes
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.refuse(Request(scope), 413, BODY_TOO_LARGE)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


class NullByteMiddleware:
    """Refuse a NUL character anywhere in the address or in a form, before any route reads it.

    No person types one, and PostgreSQL refuses it in text (where SQLite would store it): let
    through, it crashes the first query that sees it. A form is read whole here; the body
    limit, outside this layer, bounds it. In a multipart form only the text fields are checked:
    an uploaded file (a logo, an address list) is bytes, and holds NULs as a matter of course.
    The photo forms (up to 10 MB) are not read twice: their routes check their text fields.
    """

    def __init__(self, app: ASGIApp, *, refuse: Refuse) -> None:
        self.app = app
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query: bytes = scope["query_string"]
        if "\x00" in scope["path"]:
            await self.refuse(Request(scope), 404, None)(scope, receive, send)
            return
        if b"\x00" in query or b"%00" in query:
            await self.refuse(Request(scope), 400, None)(scope, receive, send)
            return
        content_type = _media_type(Headers(scope=scope))
        if (
            scope["method"] in SAFE_METHODS
            or not content_type.startswith(FORM_TYPES)
            or (takes_upload(scope) and content_type.startswith(FORM_TYPES[1]))
        ):
            await self.app(scope, receive, send)
            return
        messages = await _read_body(receive)
        if messages[-1]["type"] == "http.disconnect":
            return
        body = b"".join(message.get("body", b"") for message in messages)
        if content_type.startswith(FORM_TYPES[1]):
            refused = await _nul_in_text_fields(scope, _replay(messages, receive))
        else:
            refused = b"\x00" in body or b"%00" in body
        if refused:
            await self.refuse(Request(scope), 400, FORM_UNREADABLE)(scope, receive, send)
            return
        await self.app(scope, _replay(messages, receive), send)


async def _nul_in_text_fields(scope: Scope, receive: Receive) -> bool:
    """Whether a multipart form has a NUL in a field name, a text field or a file name (or
    cannot be read at all)."""
    try:
        async with Request(scope, receive).form() as form:
            for name, value in form.multi_items():
                text = value if isinstance(value, str) else value.filename or ""
                if "\x00" in name or "\x00" in text:
                    return True
    except HTTPException:
        return True
    return False


def _media_type(headers: Headers) -> str:
    """The Content-Type as Starlette's form parser reads it: case does not matter."""
    return headers.get("content-type", "").strip().lower()


def csrf_token(conn: HTTPConnection) -> str:
    """The session's CSRF token, created on first use."""
    token = conn.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        conn.session[CSRF_SESSION_KEY] = token
    return token


def rotate_csrf_token(conn: HTTPConnection) -> str:
    """A fresh token, e.g. when someone signs in, so a token seen before is worthless after."""
    conn.session.pop(CSRF_SESSION_KEY, None)
    return csrf_token(conn)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` in lower case, without the default port."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not scheme or not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return ""
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


class CSRFMiddleware:
    """Every state-changing request must carry the session's token and come from our origin.

    The token comes in the ``X-CSRF-Token`` header (htmx, set by ``hx-headers`` on <body>) or in
    the ``csrf_token`` form field. When the browser names an Origin (or, failing that, a Referer)
    it must be ``base_url``'s. There is no per-route opt-out: ``exempt_paths`` exists so that an
    exemption would be explicit and visible, and a test keeps it empty.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        base_url: str,
        refuse: Refuse,
        exempt_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.origin = origin_of(base_url)
        self.refuse = refuse
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or scope["path"] in self.exempt_paths
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not self._same_origin(headers):
            seen = headers.get("origin") or headers.get("referer")
            why = (
                f"the browser sent the form from {origin_of(seen or '') or seen!r}, but "
                f"PROEFTUIN_BASE_URL is {self.origin!r}: open the site at that address, or set "
                "PROEFTUIN_BASE_URL to the address you serve"
            )
            await self._refuse(scope, receive, send, 403, CSRF_REFUSED, why)
            return
        supplied = headers.get(CSRF_HEADER)
        if supplied is None and headers.get("content-type", "").strip().lower().startswith(
            FORM_TYPES
        ):
            messages = await _read_body(receive)
            if messages[-1]["type"] == "http.disconnect":
                return
            receive = _replay(messages, receive)
            try:
                supplied = await _form_token(scope, _replay(messages, receive))
            except HTTPException:
                await self._refuse(scope, receive, send, 400, FORM_UNREADABLE, "unreadable form")
                return
        expected = scope["session"].get(CSRF_SESSION_KEY)
        if not (
            isinstance(expected, str)
            and expected
            and supplied
            and hmac.compare_digest(supplied.encode(), expected.encode())
        ):
            if not supplied:
                why = "no CSRF token in the form field nor in the X-CSRF-Token header"
            elif not expected:
                why = "the session has no CSRF token (no session cookie: expired, or blocked)"
            else:
                why = "the CSRF token is not this session's (a page from an earlier session)"
            await self._refuse(scope, receive, send, 403, CSRF_REFUSED, why)
            return
        await self.app(scope, receive, send)

    def _same_origin(self, headers: Headers) -> bool:
        origin = headers.get("origin")
        if origin is not None:
            # "null" (sandboxed frames, privacy redirects) never matches.
            return origin_of(origin) == self.origin
        referer = headers.get("referer")
        if referer is not None:
            return origin_of(referer) == self.origin
        return True  # no browser hint either way: the token alone decides

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, message: str, why: str
    ) -> None:
        # The page says only "this form has expired"; the log tells a developer why.
        log.warning("refused %s %s: %s", scope["method"], scope["path"], why)
        await self.refuse(Request(scope), status, message)(scope, receive, send)


async def _read_body(receive: Receive) -> list[Message]:
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


async def _form_token(scope: Scope, receive: Receive) -> str | None:
    async with Request(scope, receive).form() as form:
        value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def client_ip(conn: HTTPConnection) -> str:
    """The visitor's address. X-Forwarded-For counts only when our direct peer is a proxy we
    trust, and then only up to the first address that is not one of our proxies: anything to
    its left was written by the visitor and can be forged."""
    peer = conn.client.host if conn.client else ""
    trusted = client_networks(get_settings(conn).trusted_proxies)
    if not _in(peer, trusted):
        return peer or "unknown"
    forwarded = ",".join(conn.headers.getlist("x-forwarded-for"))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    address = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        address = hop
        if not _in(hop, trusted):
            break
    return address


@functools.cache
def client_networks(
    proxies: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _in(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def local_path(value: object, default: str = "/") -> str:
    """``value`` when it is a path on this site, else ``default``: never an open redirect."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 32 for c in value):
        return default
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else default
