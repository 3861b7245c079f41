"""The built front-end assets (``make assets``): only the CSS the pages use, yet all of that."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from proeftuin.web.templating import resource_dir

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
