"""Entry point for ASGI servers: ``uvicorn --factory proeftuin.asgi:create``."""

from __future__ import annotations

from starlette.applications import Starlette

from proeftuin.config import load_settings
from proeftuin.web.app import create_app


def create() -> Starlette:
    return create_app(load_settings())
