"""Settings, read from the environment in this one place (nothing else reads ``os.environ``).

Every setting is documented in README.md; a test fails when one is not.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

ENVIRONMENTS = ("development", "test", "production")
DEFAULT_JOBS_INTERVAL = 60  # seconds
# The Dutch government's background map (PDOK, BRT-Achtergrondkaart), as XYZ tiles in Web Mercator.
DEFAULT_MAP_TILES = (
    "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png"
)
DEFAULT_MAP_ATTRIBUTION = "Kaartgegevens © Kadaster"
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    code_pepper: str
    base_url: str = "http://127.0.0.1:8000"
    env: str = "development"
    instance_path: Path = Path("instance")
    site_name: str = "Gemeente Proeftuin"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Proeftuin <noreply@localhost>"
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    max_body_bytes: int = 1_000_000
    # Off unless the environment asks (load_settings turns both on by default), so that an app
    # made in code, as in the tests, starts no background loop and writes no access log.
    jobs_interval: int = 0
    access_log: bool = False
    map_tiles: str = DEFAULT_MAP_TILES
    map_attribution: str = DEFAULT_MAP_ATTRIBUTION

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


# Setting name -> (attribute, one-line description). README.md documents each one.
SETTINGS: dict[str, str] = {
    "PROEFTUIN_ENV": "development (default), test or production",
    "PROEFTUIN_INSTANCE_PATH": "folder for the SQLite file and generated keys (default ./instance)",
    "PROEFTUIN_DATABASE_URL": "SQLAlchemy URL; default a SQLite file in the instance folder",
    "PROEFTUIN_SECRET_KEY": "signs cookies and links; generated into the instance folder if unset",
    "PROEFTUIN_CODE_PEPPER": "HMAC key for letter codes and voter keys; kept out of the database",
    "PROEFTUIN_BASE_URL": "public address, used in mails and letters (https in production)",
    "PROEFTUIN_SITE_NAME": "name of the gemeente shown on every page",
    "PROEFTUIN_SMTP_HOST": "SMTP server; empty writes mail to the development outbox",
    "PROEFTUIN_SMTP_PORT": "SMTP port (default 25)",
    "PROEFTUIN_SMTP_USER": "SMTP user name (optional)",
    "PROEFTUIN_SMTP_PASSWORD": "SMTP password (optional)",
    "PROEFTUIN_SMTP_STARTTLS": "1 to use STARTTLS",
    "PROEFTUIN_MAIL_FROM": "sender address of outgoing mail",
    "PROEFTUIN_TRUSTED_PROXIES": "comma-separated proxy IPs whose X-Forwarded-For is trusted",
    "PROEFTUIN_MAX_BODY_BYTES": "largest request body accepted (default 1000000)",
    "PROEFTUIN_JOBS_INTERVAL": "seconds between scheduled-job runs per server; 0 turns it off",
    "PROEFTUIN_ACCESS_LOG": "1 (default): one JSON line per request on stdout; 0: none",
    "PROEFTUIN_MAP_TILES": "map tile URL template with {z}, {x}, {y} (default PDOK BRT)",
    "PROEFTUIN_MAP_ATTRIBUTION": "credit line shown on every map (default the one PDOK requires)",
}


def follow_served_address(
    host: str, port: int, environ: MutableMapping[str, str] | None = None
) -> str | None:
    """In development with no ``PROEFTUIN_BASE_URL``, make the address ``serve`` listens on the
    base URL (written into the environment, which the server's workers read): the origin check
    on every form compares with it, so ``make run PORT=8765`` works. The address set, or None.
    A wildcard host is shown as 127.0.0.1, the address a developer opens."""
    env_vars = os.environ if environ is None else environ
    if env_vars.get("PROEFTUIN_ENV", "development") != "development":
        return None
    if env_vars.get("PROEFTUIN_BASE_URL"):
        return None
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    if ":" in shown:
        shown = f"[{shown}]"
    url = f"http://{shown}" if port == 80 else f"http://{shown}:{port}"
    env_vars["PROEFTUIN_BASE_URL"] = url
    return url


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env_vars = os.environ if environ is None else environ
    env = env_vars.get("PROEFTUIN_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"PROEFTUIN_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}.")
    instance = Path(env_vars.get("PROEFTUIN_INSTANCE_PATH", "instance")).resolve()
    base_url = env_vars.get("PROEFTUIN_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    production = env == "production"
    if production:
        _require_production(env_vars, base_url)
    return Settings(
        database_url=env_vars.get("PROEFTUIN_DATABASE_URL")
        or f"sqlite:///{instance / 'proeftuin.db'}",
        secret_key=_secret(env_vars, "PROEFTUIN_SECRET_KEY", instance, "secret_key", production),
        code_pepper=_secret(env_vars, "PROEFTUIN_CODE_PEPPER", instance, "code_pepper", production),
        base_url=base_url,
        env=env,
        instance_path=instance,
        site_name=env_vars.get("PROEFTUIN_SITE_NAME", "Gemeente Proeftuin"),
        smtp_host=env_vars.get("PROEFTUIN_SMTP_HOST", ""),
        smtp_port=_int(env_vars, "PROEFTUIN_SMTP_PORT", 25),
        smtp_user=env_vars.get("PROEFTUIN_SMTP_USER", ""),
        smtp_password=env_vars.get("PROEFTUIN_SMTP_PASSWORD", ""),
        smtp_starttls=env_vars.get("PROEFTUIN_SMTP_STARTTLS", "") in ("1", "true", "yes"),
        mail_from=env_vars.get("PROEFTUIN_MAIL_FROM", "Proeftuin <noreply@localhost>"),
        trusted_proxies=tuple(
            p.strip() for p in env_vars.get("PROEFTUIN_TRUSTED_PROXIES", "").split(",") if p.strip()
        ),
        max_body_bytes=_int(env_vars, "PROEFTUIN_MAX_BODY_BYTES", 1_000_000),
        jobs_interval=_non_negative(env_vars, "PROEFTUIN_JOBS_INTERVAL", DEFAULT_JOBS_INTERVAL),
        access_log=_flag(env_vars, "PROEFTUIN_ACCESS_LOG", True),
        map_tiles=env_vars.get("PROEFTUIN_MAP_TILES", DEFAULT_MAP_TILES),
        map_attribution=env_vars.get("PROEFTUIN_MAP_ATTRIBUTION", DEFAULT_MAP_ATTRIBUTION),
    )


def _require_production(env_vars: Mapping[str, str], base_url: str) -> None:
    problems = []
    for name in ("PROEFTUIN_SECRET_KEY", "PROEFTUIN_CODE_PEPPER"):
        if len(env_vars.get(name, "")) < 32:
            problems.append(f"{name} must be set to a random value of at least 32 characters")
    if not base_url.startswith("https://"):
        problems.append("PROEFTUIN_BASE_URL must be an https:// address")
    if not env_vars.get("PROEFTUIN_DATABASE_URL"):
        problems.append("PROEFTUIN_DATABASE_URL must be set explicitly")
    if problems:
        raise ConfigError("Production configuration is incomplete:\n- " + "\n- ".join(problems))


def _secret(
    env_vars: Mapping[str, str], name: str, instance: Path, filename: str, production: bool
) -> str:
    value = env_vars.get(name, "")
    if value or production:
        return value
    # Development: a random key per instance folder, created once and kept, never a fixed default.
    path = instance / filename
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def _int(env_vars: Mapping[str, str], name: str, default: int) -> int:
    raw = env_vars.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None


def _non_negative(env_vars: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env_vars, name, default)
    if value < 0:
        raise ConfigError(f"{name} must be 0 or more, not {value}.")
    return value


def _flag(env_vars: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env_vars.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in TRUE_WORDS + FALSE_WORDS:
        return raw in TRUE_WORDS
    raise ConfigError(f"{name} must be 1 or 0, not {raw!r}.")
