"""Uploaded photos re-encoded: upright, without metadata, in two sizes; and every bad file refused
with its Dutch message."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image

from proeftuin.errors import Invalid
from proeftuin.services import images
from tests.factories import SERIAL, photo_file


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def refusal(data: bytes, filename: str) -> str:
    with pytest.raises(Invalid) as caught:
        images.reencode(data, filename)
    assert caught.value.field == "photo"
    return caught.value.message


@pytest.mark.parametrize(
    ("fmt", "filename"),
    [("JPEG", "foto.jpg"), ("PNG", "foto.PNG"), ("WEBP", "foto.webp"), ("HEIF", "IMG_0001.HEIC")],
)
def test_every_kind_of_photo_becomes_jpeg_without_metadata(fmt: str, filename: str) -> None:
    upload = photo_file(fmt)
    assert SERIAL.encode() in upload  # the phone's metadata is there to begin with

    encoded = images.reencode(upload, filename)

    for copy in (encoded.thumb, encoded.small, encoded.large):
        image = decoded(copy)
        assert image.format == "JPEG"
        assert len(image.getexif()) == 0
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
        assert SERIAL.encode() not in copy and b"Exif" not in copy
    assert (encoded.width, encoded.height) == (120, 80)


def test_the_orientation_is_applied_so_the_photo_stands_upright() -> None:
    # Stored wide with its left half red; orientation 6 says: turn it a quarter clockwise.
    encoded = images.reencode(photo_file(orientation=6), "foto.jpg")

    image = decoded(encoded.large).convert("RGB")
    assert (encoded.width, encoded.height) == (80, 120) == image.size
    red, _, blue = image.getpixel((40, 5))  # type: ignore[misc]
    assert red > 150 and blue < 100  # the red half is now on top
    red, _, blue = image.getpixel((40, 115))  # type: ignore[misc]
    assert blue > 150 and red < 100


def test_large_photos_come_in_a_small_and_a_large_size() -> None:
    encoded = images.reencode(photo_file(size=(4000, 3000)), "foto.jpeg")

    assert decoded(encoded.large).size == (images.LARGE_EDGE, 1200) == (encoded.width, 1200)
    assert decoded(encoded.small).size == (images.SMALL_EDGE, 360)
    assert decoded(encoded.thumb).size == (images.THUMB_EDGE, 150)
    assert len(encoded.thumb) < len(encoded.small) < len(encoded.large)


def test_a_transparent_png_gets_a_white_background() -> None:
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")

    copy = decoded(images.reencode(out.getvalue(), "logo.png").large).convert("RGB")

    assert min(copy.getpixel((20, 20))) > 240  # type: ignore[arg-type]


def test_a_file_that_is_not_an_image_is_refused() -> None:
    assert refusal(b"Dit is een brief, geen foto.", "brief.jpg") == images.WRONG_TYPE
    assert refusal(b"", "leeg.jpg") == images.EMPTY


def test_a_file_type_we_do_not_take_is_refused() -> None:
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    assert refusal(gif.getvalue(), "foto.gif") == images.WRONG_TYPE
    assert refusal(gif.getvalue(), "foto.jpg") == images.WRONG_TYPE
    assert refusal(photo_file(), "foto.exe") == images.WRONG_TYPE


def test_an_svg_with_script_is_refused() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert refusal(svg, "tekening.svg") == images.WRONG_TYPE
    assert refusal(svg, "tekening.png") == images.NOT_ONLY_IMAGE


def test_a_wrong_extension_is_refused() -> None:
    assert refusal(photo_file("PNG"), "foto.jpg") == images.WRONG_EXTENSION
    assert refusal(photo_file("JPEG"), "foto.webp") == images.WRONG_EXTENSION


def test_a_truncated_image_is_refused() -> None:
    whole = photo_file(size=(600, 400))
    assert refusal(whole[: len(whole) // 2], "foto.jpg") == images.UNREADABLE


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that says it is ``width`` × ``height``, as a decompression bomb does."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_an_image_of_30000_by_30000_pixels_is_refused_before_decoding() -> None:
    bomb = _png_header_only(30_000, 30_000)
    assert len(bomb) < 2_000
    assert refusal(bomb, "bom.png") == images.TOO_MANY_PIXELS


def test_a_photo_that_is_also_a_zip_is_refused() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("lees-mij.txt", "verborgen")
    polyglot = photo_file() + archive.getvalue()
    assert refusal(polyglot, "foto.jpg") == images.NOT_ONLY_IMAGE


def test_a_photo_that_is_also_a_web_page_is_refused() -> None:
    jpeg = photo_file()
    comment = b"<html><script>alert(document.cookie)</script></html>"
    # A JPEG comment segment (COM) right after the start marker: still a valid photo.
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    polyglot = jpeg[:2] + segment + jpeg[2:]
    assert decoded(polyglot).size == (120, 80)
    assert refusal(polyglot, "foto.jpg") == images.NOT_ONLY_IMAGE


def test_an_upload_over_10_mb_is_refused() -> None:
    assert refusal(b"\xff" * (images.MAX_UPLOAD_BYTES + 1), "groot.jpg") == images.TOO_LARGE
