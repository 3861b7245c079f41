"""The built front-end assets (``make assets``): only the CSS the pages use, yet all of that."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from proeftuin.web.assets import Assets, MissingAssets, build_dir, load_manifest
from proeftuin.web.templating import resource_dir
from tests.web.clients import csrf

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "node_modules" / "@utrecht" / "component-library-css" / "dist" / "index.css"
STYLESHEETS = ("resident.css", "staff.css")
# A class name in a template; one that a template completes ("utrecht-form-field--{{ kind }}")
# ends in "-" and is left out.
TEMPLATE_CLASS = re.compile(r"\butrecht-[a-z0-9_-]*[a-z0-9_](?![a-z0-9_-]|\{\{)")
CSS_CLASS = re.compile(r"\.(utrecht-[a-zA-Z0-9_-]+)")


def built(name: str) -> str:
    path = resource_dir("static") / "vendor" / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make assets` first", pytrace=False)
    return path.read_text(encoding="utf-8")


def template_classes() -> dict[str, set[str]]:
    """Each utrecht-* class the templates use, with the templates that use it."""
    found: dict[str, set[str]] = {}
    templates = resource_dir("templates")
    for path in sorted(templates.rglob("*.html")):
        for name in TEMPLATE_CLASS.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(str(path.relative_to(templates)))
    return found


def applicable_library_classes(used: set[str]) -> set[str]:
    """The library's classes in rules that can apply to our pages: rules whose selector names
    only classes the templates use (``.utrecht-checkbox--custom.utrecht-checkbox--invalid``
    cannot, as no template uses ``utrecht-checkbox--custom``)."""
    if not LIBRARY.is_file():
        pytest.fail(f"{LIBRARY} is missing: run `make assets` first", pytrace=False)
    found = set()
    pieces = re.findall(r"[^{}]*[{}]", LIBRARY.read_text(encoding="utf-8"))
    for prelude in (piece for piece in pieces if piece.endswith("{")):
        for selector in prelude.split(","):
            classes = set(CSS_CLASS.findall(selector))
            if classes and classes <= used:
                found |= classes
    return found


@pytest.mark.parametrize("stylesheet", STYLESHEETS)
def test_every_library_class_a_template_uses_is_in_the_built_css(stylesheet: str) -> None:
    used = template_classes()
    assert len(used) > 40  # the scanner finds the templates' classes at all
    expected = applicable_library_classes(set(used))
    assert len(expected) > 40
    kept = set(CSS_CLASS.findall(built(stylesheet)))
    missing = {name: sorted(used[name]) for name in expected - kept}
    assert not missing, f"{stylesheet} lacks classes the templates use: {missing}"


@pytest.mark.parametrize("stylesheet", STYLESHEETS)
def test_the_built_css_leaves_out_what_no_page_uses(stylesheet: str) -> None:
    css = built(stylesheet)
    assert ".utrecht-calendar" not in css  # a library component no template uses
    assert "--lux-login-link-hover-color" not in css  # a token no rule uses
    assert "--utrecht-button-background-color" in css  # a token the buttons use
    assert len(css) < len(LIBRARY.read_text(encoding="utf-8")) // 2


# --- serving: compressed, under hashed names, cached for a year --------------------------------

HASHED = re.compile(r"^/static/[\w.-]+\.[0-9a-f]{12}\.(css|js)$")


def linked(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_link_the_hashed_stylesheet_and_script(client: TestClient) -> None:
    html = client.get("/").text
    links = linked(html)
    manifest = load_manifest()
    assert links == [f"/static/{manifest['resident.css']}", f"/static/{manifest['htmx.min.js']}"]
    assert all(HASHED.match(link) for link in links)


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_static_files_come_compressed_from_the_build_and_cached_for_a_year(
    client: TestClient, encoding: str
) -> None:
    for name in ("resident.css", "htmx.min.js"):
        hashed = load_manifest()[name]
        response = client.get(f"/static/{hashed}", headers={"Accept-Encoding": encoding})
        assert response.status_code == 200
        assert response.headers["content-encoding"] == encoding
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "Accept-Encoding" in response.headers["vary"]
        assert "set-cookie" not in response.headers
        suffix = {"br": ".br", "gzip": ".gz"}[encoding]
        stored = (build_dir() / f"{hashed}{suffix}").read_bytes()
        assert int(response.headers["content-length"]) == len(stored)  # sent as built
        assert response.content == (build_dir() / hashed).read_bytes()  # decoded by the client


def test_a_static_file_without_compression_for_a_client_that_asks_none(client: TestClient) -> None:
    hashed = load_manifest()["resident.css"]
    response = client.get(f"/static/{hashed}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert response.content == (build_dir() / hashed).read_bytes()


def test_static_files_get_no_session_cookie(client: TestClient) -> None:
    client.get("/")  # a visit with a session
    client.post("/taal", data={"lang": "en", "csrf_token": csrf(client)})
    assert client.cookies
    hashed = load_manifest()["resident.css"]
    response = client.get(f"/static/{hashed}")
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_pages_are_compressed_on_the_fly_and_keep_their_headers(
    client: TestClient, encoding: str
) -> None:
    plain = client.get("/stem", headers={"Accept-Encoding": "identity"})
    packed = client.get("/stem", headers={"Accept-Encoding": encoding})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["vary"]
    assert int(packed.headers["content-length"]) < len(packed.content) // 2
    assert packed.text.startswith("<!doctype html>")
    for name in ("cache-control", "content-security-policy", "x-frame-options", "content-type"):
        assert packed.headers.get(name) == plain.headers.get(name), name


def test_unknown_and_unhashed_static_paths_are_not_found(client: TestClient) -> None:
    for path in ("/static/resident.css", "/static/staticfiles.json", "/static/../pyproject.toml"):
        assert client.get(path).status_code == 404, path


# --- nothing holds up the first paint but one stylesheet -----------------------------------------


@pytest.mark.parametrize(
    ("path", "stylesheet"),
    [("/", "resident.css"), ("/stem", "resident.css"), ("/beheer/inloggen", "staff.css")],
)
def test_one_stylesheet_blocks_rendering_and_scripts_are_deferred(
    client: TestClient, path: str, stylesheet: str
) -> None:
    html = client.get(path).text
    head = html.split("</head>")[0]
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert sheets == [f"/static/{load_manifest()[stylesheet]}"]
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "htmx is linked"
    assert all(" defer" in s and " src=" in s for s in scripts), scripts
    assert "<style" not in html
    assert re.findall(r"<link\b[^>]*>", head) == [
        '<link rel="icon" href="data:,">',
        f'<link rel="stylesheet" href="/static/{load_manifest()[stylesheet]}">',
    ]


def test_production_refuses_to_start_without_built_assets(tmp_path: Path) -> None:
    with pytest.raises(MissingAssets, match="make assets"):
        Assets(required=True, folder=tmp_path)
    # Elsewhere pages still render, linking the plain name (which is not served).
    assert Assets(required=False, folder=tmp_path).url("resident.css") == "/static/resident.css"
    (tmp_path / "staticfiles.json").write_text('{"paths": {"a.css": "a.0123456789ab.css"}}')
    assert Assets(required=True, folder=tmp_path).url("a.css") == "/static/a.0123456789ab.css"
