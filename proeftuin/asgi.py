"""Entry point for ASGI servers: ``uvicorn --factory proeftuin.asgi:create``."""

from __future__ import annotations

from starlette.applications import Starlette

from proeftuin.config import load_settings
from proeftuin.services import voting
from proeftuin.web.app import create_app


def create() -> Starlette:
    settings = load_settings()
    if settings.env == "test":
        # Process-wide on purpose: each served worker process sets it once (tests/trust races).
        voting.TEST_CAST_DELAY_SECONDS = settings.test_cast_delay_ms / 1000
    return create_app(settings)
