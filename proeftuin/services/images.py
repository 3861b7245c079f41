"""Reading an uploaded photo and making the copies the site serves: nothing of the upload's own
bytes leaves the server, only pixels decoded and encoded again here.

An upload is refused, with a Dutch message, when it is larger than ``MAX_UPLOAD_BYTES``, is not a
JPEG, PNG, WebP or HEIC image (SVG, HTML and everything else), has a file name whose extension
says another type, is also a ZIP file or holds HTML (a polyglot), is cut off, or would decode to
more than ``MAX_PIXELS`` pixels (a decompression bomb). What is kept: the pixels, turned upright
(the EXIF orientation applied), in three JPEG sizes without any metadata (no GPS position, camera
serial or colour profile). docs/decisions.md, "Photos on plans", has the numbers.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from proeftuin.errors import Invalid, _

register_heif_opener()

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo passes; 30,000 x 30,000 does not
THUMB_EDGE = 200  # the ballot: only to recognise the plan, and light on a slow phone
SMALL_EDGE = 480  # the cards
LARGE_EDGE = 1600  # the plan page
JPEG_QUALITY = 80
THUMB_QUALITY = 70

# Pillow's format name -> the file name extensions that may carry it.
FORMATS: dict[str, tuple[str, ...]] = {
    "JPEG": (".jpg", ".jpeg", ".jfif"),
    "PNG": (".png",),
    "WEBP": (".webp",),
    "HEIF": (".heic", ".heif"),
}
EXTENSIONS = frozenset(ext for exts in FORMATS.values() for ext in exts)
# Markup a browser would run if it took the file for a page.
MARKUP = re.compile(rb"<(?:html|script|svg|body|iframe|object|embed|!doctype)\b", re.IGNORECASE)

TOO_LARGE = _("De foto is groter dan 10 MB. Kies een kleinere foto.")
EMPTY = _("Kies een foto.")
WRONG_TYPE = _("Dit bestand is geen foto. Kies een foto van het type JPEG, PNG, WebP of HEIC.")
WRONG_EXTENSION = _(
    "De naam van het bestand past niet bij wat erin zit. Kies de foto opnieuw, zonder de naam "
    "te veranderen."
)
UNREADABLE = _("De foto is beschadigd of niet helemaal verstuurd. Probeer het opnieuw.")
TOO_MANY_PIXELS = _("De foto is te groot (te veel pixels). Kies een foto van hooguit 50 megapixel.")
NOT_ONLY_IMAGE = _(
    "Dit bestand bevat meer dan een foto. Kies een gewone foto van uw telefoon of camera."
)


@dataclass(frozen=True)
class Encoded:
    """The copies the site keeps of one photo: JPEG bytes without metadata."""

    thumb: bytes
    small: bytes
    large: bytes
    width: int  # of the large copy
    height: int


def reencode(data: bytes, filename: str, field: str = "photo") -> Encoded:
    """The photo's served copies, or Invalid(field, …) saying why the upload was refused."""
    if not data:
        raise Invalid(field, EMPTY)
    if len(data) > MAX_UPLOAD_BYTES:
        raise Invalid(field, TOO_LARGE)
    extension = PurePosixPath(filename.lower()).suffix
    if extension not in EXTENSIONS:
        raise Invalid(field, WRONG_TYPE)
    if zipfile.is_zipfile(io.BytesIO(data)) or MARKUP.search(data):
        raise Invalid(field, NOT_ONLY_IMAGE)
    image = _decoded(data, extension, field)
    upright = ImageOps.exif_transpose(image)
    rgb = _flattened(upright)
    large = _encode(rgb, LARGE_EDGE)
    small = _encode(rgb, SMALL_EDGE)
    thumb = _encode(rgb, THUMB_EDGE, THUMB_QUALITY)
    return Encoded(thumb=thumb[0], small=small[0], large=large[0], width=large[1], height=large[2])


def _decoded(data: bytes, extension: str, field: str) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            if extension not in FORMATS.get(image.format or "", ()):
                raise Invalid(field, WRONG_EXTENSION)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise Invalid(field, TOO_MANY_PIXELS)
            if image.format == "JPEG":
                image.draft("RGB", (LARGE_EDGE * 2, LARGE_EDGE * 2))  # decode at a smaller scale
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise Invalid(field, TOO_MANY_PIXELS) from error
        except UnidentifiedImageError as error:
            raise Invalid(field, WRONG_TYPE) from error
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise Invalid(field, UNREADABLE) from error
    return image


def _flattened(image: Image.Image) -> Image.Image:
    """RGB pixels; a transparent background becomes white (JPEG has no transparency)."""
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _encode(image: Image.Image, edge: int, quality: int = JPEG_QUALITY) -> tuple[bytes, int, int]:
    """A copy that fits ``edge`` × ``edge``, as JPEG, built from bare pixels: a new image has no
    ``info`` (EXIF, XMP, ICC, comments) to carry along."""
    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    bare = Image.frombytes("RGB", copy.size, copy.tobytes())
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue(), bare.width, bare.height
