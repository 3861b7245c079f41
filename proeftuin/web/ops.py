"""Operations: the readiness probe, the access log, and the check of a production configuration.

``/healthz`` (home.py) says the process is alive and reaches its database; ``/readyz`` also says
the schema is at the migrations' head, so a load balancer sends no traffic to a server whose code
and database disagree (during an update, say).

The access log is one JSON line per request with the method, the path without its query string,
the status and the duration: no IP address, no cookies, no referrer, no user agent. A letter code
or a sign-in token can sit in a query string, so that is left out too.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proeftuin import migrate
from proeftuin.config import ConfigError, load_settings
from proeftuin.db import Database
from proeftuin.web.helpers import NO_STORE
from proeftuin.web.security import client_networks
from proeftuin.web.state import get_database

log = logging.getLogger(__name__)
access_log = logging.getLogger("proeftuin.access")


# -- Readiness -------------------------------------------------------------------------------


def readiness_problem(database: Database) -> str | None:
    """Why this server should not get traffic yet, or None."""
    try:
        at_head = migrate.is_at_head(database.engine)
    except SQLAlchemyError:
        log.exception("readiness: the database does not answer")
        return "database unavailable"
    return None if at_head else "database schema is not at the migrations' head"


async def readyz(request: Request) -> Response:
    problem = await anyio.to_thread.run_sync(readiness_problem, get_database(request))
    if problem is not None:
        return PlainTextResponse(problem, status_code=503, headers=NO_STORE)
    return PlainTextResponse("ready", headers=NO_STORE)


routes = [Route("/readyz", readyz, name="readyz", include_in_schema=False)]


# -- The access log --------------------------------------------------------------------------


class _StdoutHandler(logging.Handler):
    """Writes to whatever ``sys.stdout`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


def configure_access_log() -> None:
    """Lines go to standard output as they are (they are JSON), whatever the logging setup."""
    if not any(isinstance(h, _StdoutHandler) for h in access_log.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False


class AccessLogMiddleware:
    """Pure ASGI, outermost of ours: it sees the status we send, or the exception that becomes
    Starlette's 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            access_log.info(
                json.dumps(
                    {
                        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "type": "access",
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                )
            )


# -- Checking a production configuration -----------------------------------------------------


@dataclass
class ConfigReport:
    problems: list[str] = field(default_factory=list)  # it will not work (well) like this
    warnings: list[str] = field(default_factory=list)  # worth a look, may be on purpose

    @property
    def ok(self) -> bool:
        return not self.problems


def check_production(environ: Mapping[str, str]) -> ConfigReport:
    """What stands between this environment and a working production server, in plain words.

    Read-only: it connects to the database but changes nothing, and never prints a secret.
    """
    report = ConfigReport()
    env = environ.get("PROEFTUIN_ENV", "development")
    if env != "production":
        report.problems.append(
            f"PROEFTUIN_ENV is {env!r}: set it to 'production' (secure cookies, no generated keys, "
            "no development outbox)."
        )
    try:
        settings = load_settings({**environ, "PROEFTUIN_ENV": "production"})
    except ConfigError as error:
        report.problems.extend(_config_error_lines(error))
        settings = None
    if settings is not None and settings.secret_key == settings.code_pepper:
        report.problems.append(
            "PROEFTUIN_SECRET_KEY and PROEFTUIN_CODE_PEPPER are the same: make them two separate "
            "random values."
        )
    _check_mail(environ, report)
    _check_proxies(environ, report)
    if environ.get("PROEFTUIN_JOBS_INTERVAL", "").strip() == "0":
        report.warnings.append(
            "PROEFTUIN_JOBS_INTERVAL is 0: no server runs the scheduled jobs. Make sure a timer "
            "runs `proeftuin jobs run-once` every minute (deploy/systemd/proeftuin-jobs.timer)."
        )
    url = environ.get("PROEFTUIN_DATABASE_URL", "")
    if url:
        _check_database(url, report)
    return report


def _config_error_lines(error: ConfigError) -> list[str]:
    lines = str(error).splitlines()
    items = [line.removeprefix("- ") for line in lines[1:] if line.startswith("- ")]
    return [f"{item}." for item in items] if items else [str(error)]


def _check_mail(environ: Mapping[str, str], report: ConfigReport) -> None:
    if not environ.get("PROEFTUIN_SMTP_HOST", "").strip():
        report.problems.append(
            "PROEFTUIN_SMTP_HOST is not set: no mail goes out, so residents cannot sign in with "
            "their e-mail address. Set the gemeente's mail server."
        )
    if not environ.get("PROEFTUIN_MAIL_FROM", "").strip():
        report.problems.append(
            "PROEFTUIN_MAIL_FROM is not set: mail would come from noreply@localhost, which mail "
            "servers reject. Set an address of the gemeente's domain."
        )


def _check_proxies(environ: Mapping[str, str], report: ConfigReport) -> None:
    raw = environ.get("PROEFTUIN_TRUSTED_PROXIES", "")
    proxies = tuple(p.strip() for p in raw.split(",") if p.strip())
    for proxy in proxies:
        try:
            client_networks((proxy,))
        except ValueError:
            report.problems.append(
                f"PROEFTUIN_TRUSTED_PROXIES: {proxy!r} is not an IP address or network "
                "(e.g. 10.0.0.5 or 10.0.0.0/24)."
            )
    if not proxies:
        report.warnings.append(
            "PROEFTUIN_TRUSTED_PROXIES is empty: behind a reverse proxy every visitor then has "
            "the proxy's address, and one person's wrong codes would block everyone. Set the "
            "proxy's address."
        )


def _check_database(url: str, report: ConfigReport) -> None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        report.problems.append("PROEFTUIN_DATABASE_URL is not a database URL.")
        return
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        report.warnings.append(
            "The database is SQLite: fine for one server; for several app servers use PostgreSQL."
        )
        if parsed.database and not Path(parsed.database).exists():
            # Connecting would create an empty file; say what to do instead.
            report.problems.append(
                f"The database file {parsed.database} does not exist: run `proeftuin db upgrade`."
            )
            return
    engine = create_engine(parsed, poolclass=NullPool)
    try:
        at_head = migrate.is_at_head(engine)
    except SQLAlchemyError as error:
        lines = str(getattr(error, "orig", None) or error).strip().splitlines()
        reason = lines[0] if lines else type(error).__name__
        report.problems.append(f"The database {shown} cannot be reached: {reason}")
        return
    finally:
        engine.dispose()
    if not at_head:
        report.problems.append(
            f"The database {shown} is not up to date: run `proeftuin db upgrade`."
        )
