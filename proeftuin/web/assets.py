"""Static files as ``make assets`` builds them: content-hashed names, compressed once, cached for
a year.

``make assets`` writes ``static/vendor/`` (the two stylesheets and htmx, see package.json) and then
``servestatic --hash --manifest --compress`` turns that into ``static/dist/``: every file as
``name.<12 hex digits>.ext`` with its ``.br`` and ``.gz`` beside it, and ``staticfiles.json``, which
maps each name to its hashed name. Templates link a file with ``static_url("resident.css")``.

ServeStatic serves them, in front of the session (a stylesheet needs no cookie, and a response
that sets one may not be cached as public): the compressed file the browser accepts, with
``Vary: Accept-Encoding``, and ``Cache-Control: public, max-age=31536000, immutable``, as a
hashed name never gets other content.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from wsgiref.headers import Headers

from servestatic import ServeStaticASGI
from starlette.types import ASGIApp

from proeftuin.web.templating import resource_dir

PREFIX = "/static/"
BUILD_DIR = "dist"
MANIFEST = "staticfiles.json"
IMMUTABLE = "public, max-age=31536000, immutable"


class MissingAssets(RuntimeError):
    pass


def build_dir() -> Path:
    return resource_dir("static") / BUILD_DIR


def load_manifest(folder: Path | None = None) -> dict[str, str]:
    """Name -> hashed name; empty when the assets were not built."""
    path = (folder or build_dir()) / MANIFEST
    if not path.is_file():
        return {}
    paths: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["paths"]
    return paths


class Assets:
    def __init__(self, *, required: bool, folder: Path | None = None) -> None:
        """``required``: refuse to start without built assets (in production); elsewhere pages
        still render, linking names that are not there."""
        self.folder = folder or build_dir()
        self.paths = load_manifest(self.folder)
        self.hashed = frozenset(hashed for name, hashed in self.paths.items() if hashed != name)
        if required and not self.paths:
            raise MissingAssets(f"no {MANIFEST} in {self.folder}: run `make assets`")

    def url(self, name: str) -> str:
        return PREFIX + self.paths.get(name, name)

    def middleware_options(self) -> dict[str, Any]:
        return {
            "root": self.folder if self.folder.is_dir() else None,
            "prefix": PREFIX,
            "max_age": None,
            "allow_all_origins": False,
            "immutable_file_test": self._hashed,
            "add_headers_function": _cache_forever,
        }

    def _hashed(self, path: str, url: str) -> bool:
        return url.removeprefix(PREFIX) in self.hashed


def _cache_forever(headers: Headers, path: str, url: str) -> None:
    # ServeStatic sends ten years; a year is the longest that HTTP asks caches to keep anything.
    if "immutable" in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = IMMUTABLE


class StaticFilesMiddleware(ServeStaticASGI):  # type: ignore[misc]  # untyped library
    """ServeStatic as Starlette middleware: a known file under /static/ is served, anything else
    goes on to the app (an unknown /static/ path then gets the site's own 404 page)."""

    def __init__(self, app: ASGIApp, assets: Assets) -> None:
        super().__init__(app, **assets.middleware_options())
        self.files.pop(PREFIX + MANIFEST, None)  # for the app, not for visitors
