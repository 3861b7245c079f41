"""Colours (WCAG contrast), the stylesheet of tokens, and the logo."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, InvalidForm
from proeftuin.models import Role
from proeftuin.services import site_content, theme
from proeftuin.services.permissions import Actor
from proeftuin.services.theme import LookInput
from tests.factories import make_staff


@pytest.fixture
def admin(db: Database) -> Actor:
    return transact(db, make_staff, Role.ADMIN.value)


@pytest.mark.parametrize(
    ("first", "second", "ratio"),
    [
        ("#000000", "#ffffff", 21.0),
        ("#ffffff", "#ffffff", 1.0),
        ("#767676", "#ffffff", 4.54),  # the lightest grey that passes on white
        ("#777777", "#ffffff", 4.48),
        ("#5115ef", "#ffffff", 7.77),  # the example theme's buttons
    ],
)
def test_the_contrast_ratio_is_wcags(first: str, second: str, ratio: float) -> None:
    assert theme.contrast_ratio(first, second) == pytest.approx(ratio, abs=0.01)
    assert theme.contrast_ratio(second, first) == theme.contrast_ratio(first, second)


def test_a_pair_is_checked_with_the_example_colour_where_only_one_is_set(
    db: Database, admin: Actor
) -> None:
    with pytest.raises(InvalidForm) as raised:
        transact(db, theme.update_look, admin, LookInput(colour_button="#eeeeee"))
    error = raised.value.errors["colour_button_text"]
    assert error.params["front"] == "#ffffff" and error.params["ratio"] == "1,16"


def test_colours_become_tokens_and_the_version_follows_them(db: Database, admin: Actor) -> None:
    empty = theme.look(None)
    assert empty.css == "" and empty.version == ""
    transact(db, theme.update_look, admin, LookInput(colour_link="#1A5E9B"))
    found = read(db, lambda s: theme.look(site_content.profile(s)))
    assert found.css == (
        ":root{--utrecht-link-color:#1a5e9b;--utrecht-link-hover-color:#1a5e9b;"
        "--utrecht-link-active-color:#1a5e9b}\n"
    )
    assert len(found.version) == 16


@pytest.mark.parametrize("typed", ["red", "#fff", "#12345g", "#1234567", "1a5e9b"])
def test_only_rrggbb_is_a_colour(db: Database, admin: Actor, typed: str) -> None:
    with pytest.raises(InvalidForm):
        transact(db, theme.update_look, admin, LookInput(colour_link=typed))


def _image(kind: str, size: tuple[int, int] = (100, 50)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 80, 160)).save(out, format=kind)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP"])
def test_a_raster_logo_becomes_a_fresh_png(kind: str) -> None:
    png = theme.checked_logo(_image(kind, (800, 400)))
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size == (320, 160)


@pytest.mark.parametrize(
    "content",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"GIF89a not really",
        b"BM" + b"\x00" * 60,
        _image("BMP"),  # a real image, but not one of the kinds we take
    ],
)
def test_anything_else_is_refused(content: bytes) -> None:
    with pytest.raises(Invalid, match="geen afbeelding"):
        theme.checked_logo(content)


def test_a_logo_too_large_is_refused_before_it_is_read() -> None:
    with pytest.raises(Invalid, match="te groot"):
        theme.checked_logo(b"\x89PNG" + b"\x00" * theme.LOGO_MAX_BYTES)


def test_a_logo_is_stored_served_and_removed(db: Database, admin: Actor) -> None:
    transact(db, theme.update_logo, admin, _image("PNG"))
    found = read(db, theme.logo)
    assert found is not None and found.media_type == "image/png"
    transact(db, theme.remove_logo, admin)
    assert read(db, theme.logo) is None
