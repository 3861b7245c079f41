"""The gemeente's look: its colours (as NL Design System tokens) and its logo.

Colours are #rrggbb and go out as CSS custom properties that override the example theme's tokens
(docs/decisions.md, *The gemeente's look*). A pair of colours that would put text on a background
with less contrast than WCAG AA asks for text (4.5 : 1) is refused when saved, with the measured
ratio in the message. A logo must be a real raster image (PNG, JPEG or WebP, as Pillow reads it);
it is decoded and written anew as a PNG of at most ``LOGO_MAX_HEIGHT`` pixels high, so nothing
of the uploaded file but its pixels is ever served. An SVG is refused: it can carry script.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass, fields

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, InvalidForm, _
from proeftuin.models import SiteProfile
from proeftuin.services import audit, permissions, site_content
from proeftuin.services.permissions import Actor

HEX_COLOUR = re.compile(r"#[0-9a-f]{6}")
MIN_CONTRAST = 4.5  # WCAG 2.x AA for normal text (1.4.3)
LOGO_MAX_BYTES = 500_000
LOGO_MAX_PIXELS = 4_000 * 4_000  # larger images are refused before they are decoded
LOGO_MAX_HEIGHT = 160  # pixels of the stored PNG: twice the 80 px it is shown at, for sharp screens
LOGO_FORMATS = ("PNG", "JPEG", "WEBP")
PAGE_BACKGROUND = "#ffffff"  # the example theme's page, where links are read

# The example theme's values (@nl-design-system-unstable/voorbeeld-design-tokens), for a pair of
# which only one colour is set.
EXAMPLE = {
    "colour_button": "#5115ef",
    "colour_button_text": "#ffffff",
    "colour_link": "#00568b",
    "colour_footer": "#f9f9fa",
    "colour_footer_text": "#001a40",
}
# The tokens each colour sets.
TOKENS = {
    "colour_button": (
        "--utrecht-button-primary-action-background-color",
        "--utrecht-button-primary-action-border-color",
        "--utrecht-button-primary-action-hover-background-color",
        "--utrecht-button-primary-action-hover-border-color",
        "--utrecht-button-primary-action-active-background-color",
        "--utrecht-button-primary-action-active-border-color",
        "--utrecht-button-primary-action-focus-background-color",
        "--utrecht-button-primary-action-focus-border-color",
    ),
    "colour_button_text": (
        "--utrecht-button-primary-action-color",
        "--utrecht-button-primary-action-hover-color",
        "--utrecht-button-primary-action-active-color",
        "--utrecht-button-primary-action-focus-color",
    ),
    "colour_link": (
        "--utrecht-link-color",
        "--utrecht-link-hover-color",
        "--utrecht-link-active-color",
    ),
    "colour_footer": ("--proeftuin-footer-bg",),
    "colour_footer_text": ("--utrecht-page-footer-color",),
}
# (text, background, field that gets the message): the pairs a resident reads.
PAIRS = (
    ("colour_button_text", "colour_button", "colour_button_text"),
    ("colour_link", None, "colour_link"),
    ("colour_footer_text", "colour_footer", "colour_footer_text"),
)


@dataclass(frozen=True)
class LookInput:
    """The colours an admin typed ("" keeps the example theme's)."""

    colour_button: str = ""
    colour_button_text: str = ""
    colour_link: str = ""
    colour_footer: str = ""
    colour_footer_text: str = ""


@dataclass(frozen=True)
class Look:
    """What pages need of the look: the stylesheet (empty: the example theme) and the logo."""

    colours: LookInput
    logo_sha256: str  # "" when there is no logo
    tokens: str = ""  # the gemeente's own NL Design System theme (a tokens file), if any

    @property
    def css(self) -> str:
        """The tokens file first, so the colours set in /beheer win over it."""
        return self.tokens + theme_css(self.colours)

    @property
    def version(self) -> str:
        """Changes with the stylesheet, for its cache-busting address ("" without one)."""
        css = self.css
        return hashlib.sha256(css.encode()).hexdigest()[:16] if css else ""


@dataclass(frozen=True)
class Logo:
    content: bytes
    sha256: str
    media_type: str


def look(profile: SiteProfile | None, tokens: str = "") -> Look:
    return Look(look_input(profile), profile.logo_sha256 if profile is not None else "", tokens)


def look_input(profile: SiteProfile | None) -> LookInput:
    if profile is None:
        return LookInput()
    return LookInput(**{f.name: getattr(profile, f.name) for f in fields(LookInput)})


def theme_css(colours: LookInput) -> str:
    """The custom properties that override the example theme's tokens ("" when none is set)."""
    lines = [
        f"{token}:{value}"
        for f in fields(LookInput)
        if (value := getattr(colours, f.name))
        for token in TOKENS[f.name]
    ]
    return ":root{" + ";".join(lines) + "}\n" if lines else ""


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.x contrast ratio of two #rrggbb colours, from 1 (same) to 21 (black on white)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: str) -> float:
    """Relative luminance (WCAG 2.x): the sRGB channels linearised and weighted."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def update_look(session: Session, actor: Actor, data: LookInput) -> LookInput:
    permissions.require_admin(actor)
    clean = _checked_look(data)
    row = site_content.ensure_profile(session)
    changed = {
        f.name: getattr(clean, f.name)
        for f in fields(LookInput)
        if getattr(row, f.name) != getattr(clean, f.name)
    }
    for name, value in changed.items():
        setattr(row, name, value)
    session.flush()
    if changed:
        audit.record(session, actor.staff_id, "site.look_update", "site", None, **changed)
    return clean


def _checked_look(data: LookInput) -> LookInput:
    values = {}
    errors = []
    for f in fields(LookInput):
        typed = getattr(data, f.name).strip().lower()
        if typed and not HEX_COLOUR.fullmatch(typed):
            errors.append(
                Invalid(
                    f.name,
                    _(
                        "Vul een kleur in als # met zes tekens 0-9 of a-f, bijvoorbeeld #1a5e9b, "
                        "of laat het leeg."
                    ),
                )
            )
        values[f.name] = typed
    if errors:
        raise InvalidForm(errors)
    for text, background, field in PAIRS:
        if not values[text] and not (background and values[background]):
            continue
        front = values[text] or EXAMPLE[text]
        back = (values[background] or EXAMPLE[background]) if background else PAGE_BACKGROUND
        ratio = contrast_ratio(front, back)
        if ratio < MIN_CONTRAST:
            errors.append(
                Invalid(
                    field,
                    _(
                        "Te weinig contrast: {front} op {back} is {ratio} : 1. Voor tekst is "
                        "minstens 4,5 : 1 nodig. Kies een donkerder of lichtere kleur."
                    ),
                    front=front,
                    back=back,
                    ratio=f"{int(ratio * 100) / 100:.2f}".replace(".", ","),
                )
            )
    if errors:
        raise InvalidForm(errors)
    return LookInput(**values)


# -- The logo --------------------------------------------------------------------------------

NOT_AN_IMAGE = _(
    "Dit bestand is geen afbeelding die wij kunnen gebruiken. Kies een PNG-, JPEG- of "
    "WebP-bestand. Een SVG kan niet, omdat daar programmacode in kan staan."
)


def update_logo(session: Session, actor: Actor, content: bytes) -> Look:
    permissions.require_admin(actor)
    png = checked_logo(content)
    row = site_content.ensure_profile(session)
    row.logo = png
    row.logo_type = "image/png"
    row.logo_sha256 = hashlib.sha256(png).hexdigest()
    session.flush()
    audit.record(session, actor.staff_id, "site.logo_update", "site", None, sha256=row.logo_sha256)
    return look(row)


def remove_logo(session: Session, actor: Actor) -> Look:
    permissions.require_admin(actor)
    row = site_content.ensure_profile(session)
    if row.logo_sha256:
        row.logo, row.logo_type, row.logo_sha256 = None, "", ""
        session.flush()
        audit.record(session, actor.staff_id, "site.logo_remove", "site", None)
    return look(row)


def logo(session: Session) -> Logo | None:
    found = session.execute(
        select(SiteProfile.logo, SiteProfile.logo_sha256, SiteProfile.logo_type).where(
            SiteProfile.id == site_content.PROFILE_ID
        )
    ).first()
    if found is None or not found.logo:
        return None
    return Logo(bytes(found.logo), found.logo_sha256, found.logo_type)


def checked_logo(content: bytes) -> bytes:
    """The uploaded image as a fresh PNG, or ``Invalid`` in Dutch."""
    if not content:
        raise Invalid("logo", _("Kies een bestand met het logo."))
    if len(content) > LOGO_MAX_BYTES:
        raise Invalid(
            "logo",
            _("Het logo is te groot: hoogstens {limit} kB."),
            limit=LOGO_MAX_BYTES // 1000,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=LOGO_FORMATS) as image:
                if image.width * image.height > LOGO_MAX_PIXELS:
                    raise Invalid("logo", NOT_AN_IMAGE)
                image.load()
                picture = image.convert("RGBA")
    except Invalid:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,
    ):
        raise Invalid("logo", NOT_AN_IMAGE) from None
    if picture.height > LOGO_MAX_HEIGHT:
        width = max(1, round(picture.width * LOGO_MAX_HEIGHT / picture.height))
        picture = picture.resize((width, LOGO_MAX_HEIGHT), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()
