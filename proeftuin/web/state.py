"""Typed access to what ``create_app`` puts on the application: settings and the database."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from proeftuin.config import Settings
from proeftuin.db import Database


def get_settings(conn: HTTPConnection) -> Settings:
    settings: Settings = conn.app.state.settings
    return settings


def get_database(conn: HTTPConnection) -> Database:
    database: Database = conn.app.state.database
    return database
