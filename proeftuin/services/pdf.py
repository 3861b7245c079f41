"""The printed PDFs' shared parts (fpdf2): an A4 document, text that fits the PDF core fonts,
paragraphs wrapped once for many pages, and QR codes.

The core fonts (Helvetica) need no font files, so the PDFs build the same everywhere; they cover
Windows-1252, which holds Dutch and English (é, ë, €, typographic quotes). A character outside it
prints as "?" rather than failing the whole print.
"""

from __future__ import annotations

import datetime as dt

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image

from proeftuin.i18n import gettext

ENCODING = "windows-1252"
FONT = "helvetica"
MARGIN_MM = 20
# Any of the eight masks is a valid QR code; choosing the best one per code takes six times as
# long as making it, which counts with ten thousand letters.
QR_MASK = 4
QR_PIXELS = 8


def document(title: str, language: str, created: dt.datetime) -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=MARGIN_MM)
    pdf.set_title(fit(title))
    pdf.set_lang(language)
    pdf.set_creator("Proeftuin")
    # A fixed date: the same input gives the same file.
    pdf.set_creation_date(created)
    pdf.set_font(FONT, size=11)
    return pdf


def say(message: str, language: str, **params: object) -> str:
    """A msgid translated into ``language``, with its parameters, as the core fonts print it."""
    return fit(gettext(message, language, **params))


def fit(text: str) -> str:
    """``text`` with what the core fonts cannot print replaced by "?"."""
    return text.encode(ENCODING, "replace").decode(ENCODING)


def line(pdf: FPDF, height: float, text: str) -> None:
    """A paragraph the width of the page, wrapped, the next one below it."""
    pdf.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


class Paragraphs:
    """Writes wrapped paragraphs, wrapping each distinct one once: ten thousand letters share
    most of their sentences, and wrapping is what takes the time."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self._lines: dict[tuple[str, str, float, float, str], list[str]] = {}

    def write(
        self, width: float, height: float, text: str, fill: tuple[str, str] = ("", "")
    ) -> None:
        """``text`` wrapped to ``width``; ``fill`` replaces a placeholder after wrapping (the
        placeholder as wide as anything it stands for), so text that differs only there is
        wrapped once."""
        doc = self.pdf
        key = (doc.font_family, doc.font_style, doc.font_size_pt, width, text)
        if key not in self._lines:
            wrapped = doc.multi_cell(width, height, text, dry_run=True, output="LINES")
            assert isinstance(wrapped, list)
            self._lines[key] = [str(line) for line in wrapped]
        lines = self._lines[key]
        placeholder, value = fill
        for line in lines:
            one_line(doc, height, line.replace(placeholder, value) if placeholder else line)


def one_line(pdf: FPDF, height: float, text: str) -> None:
    """One line of text at the cursor, ``height`` high, the cursor then on the next line.

    Placed with ``FPDF.text`` rather than a cell: a tenth of the time, which counts when ten
    thousand letters have twenty lines each. Nothing wraps: the caller knows the line fits.
    """
    x, y = pdf.get_x(), pdf.get_y()
    # The baseline of text centred in the line, as a cell would place it.
    pdf.text(x, y + height / 2 + 0.35 * pdf.font_size, text)
    pdf.set_xy(x, y + height)


def qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    """A QR code for ``url``, ``size`` mm wide, its top left corner at (x, y).

    A black-and-white image with QR_PIXELS per module, built straight from the code's matrix:
    sharp at any zoom and on paper, and much faster to place than a rectangle per module.
    """
    code = segno.make(url, error="m", micro=False, mask=QR_MASK)
    rows = [bytes(0 if dark else 255 for dark in row) for row in code.matrix]
    width = len(rows)
    image = Image.frombytes("L", (width, width), b"".join(rows)).convert("1")
    side = width * QR_PIXELS
    pdf.image(image.resize((side, side), Image.Resampling.NEAREST), x=x, y=y, w=size, h=size)


def to_bytes(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
