"""Print-ready letters (PDF, one A4 page each) for the mail house: the address where the window of
a Dutch window envelope shows it, the gemeente, the letter number, the code with its QR code, and
the instructions with the round's dates as they stand when printed.

The window: 20 mm from the left and 50 mm from the top of the page, 90 by 40 mm (the usual
window of a C5/6 or EA5/6 envelope, with an A4 folded in three); the address sits inside it with
a margin of a few millimetres, as PostNL asks: postcode, two spaces, the town in capitals.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from fpdf import FPDF

from proeftuin.i18n import N_
from proeftuin.models import Round
from proeftuin.services import codes, letters, pdf
from proeftuin.services.address_list import Address

WINDOW = (20.0, 50.0, 90.0, 40.0)  # x, y, width, height in mm
INSIDE = 4.0  # the address keeps this far from the window's edges
QR_MM = 30.0
TEXT_WIDTH = 125.0  # the instructions, beside the QR code
# Stands for the code while the instructions are wrapped: W is Helvetica's widest character.
PLACEHOLDER = "WWWW-WWWW-WWWW"


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    address: Address
    code: str  # plain, in the answer only
    replaces: int | None = None  # the number of the lost letter this one replaces


def render(
    round_: Round,
    pages: Sequence[Page],
    base_url: str,
    sender: letters.Sender,
    language: str,
    now: dt.datetime,
) -> bytes:
    def say(message: str, **params: object) -> str:
        return pdf.say(message, language, **params)

    doc = pdf.document(say(N_("Brieven: {title}"), title=round_.title), language, now)
    doc.set_auto_page_break(auto=False)
    text = pdf.Paragraphs(doc)
    heading = say(N_("Stem mee over {title}"), title=round_.title)
    number_label = say(N_("Briefnummer"))
    code_label = say(N_("Uw code"))
    to = say(N_("Aan de bewoners van"))
    steps = [
        "- " + pdf.fit(step)
        for step in letters.instructions(round_, base_url, PLACEHOLDER, language, now)
    ]
    for page in pages:
        doc.add_page()
        _head(doc, sender)
        doc.set_font(pdf.FONT, size=9)
        number = f"{number_label} {page.number}"
        doc.set_xy(210 - pdf.MARGIN_MM - doc.get_string_width(number), 20)
        pdf.one_line(doc, 5, number)
        _address(doc, to, page.address)
        doc.set_xy(pdf.MARGIN_MM, 100)
        doc.set_font(pdf.FONT, style="B", size=15)
        text.write(170, 7, heading)
        if page.replaces is not None:
            doc.set_font(pdf.FONT, size=10)
            text.write(170, 5, say(N_("Deze brief vervangt brief {number}."), number=page.replaces))
        doc.ln(3)
        shown = codes.display(page.code)
        url = letters.voting_url(base_url, shown)
        top = doc.get_y()
        pdf.qr(doc, url, 210 - pdf.MARGIN_MM - QR_MM, top, QR_MM)
        doc.set_font(pdf.FONT, style="B", size=16)
        pdf.one_line(doc, 9, f"{code_label}: {shown}")
        doc.ln(2)
        doc.set_font(pdf.FONT, size=11)
        for step in steps:
            text.write(TEXT_WIDTH, 5.5, step, (PLACEHOLDER, shown))
        if sender.contact:
            doc.ln(3)
            doc.set_font(pdf.FONT, size=9)
            for line in sender.contact:
                text.write(170, 4.5, pdf.fit(line))
        doc.set_font(pdf.FONT, size=8)
        doc.set_xy(pdf.MARGIN_MM, 297 - 15)
        pdf.one_line(doc, 4, number)
    return pdf.to_bytes(doc)


def _head(doc: FPDF, sender: letters.Sender) -> None:
    doc.set_xy(pdf.MARGIN_MM, 15)
    if sender.logo is not None:
        doc.image(io.BytesIO(sender.logo), x=pdf.MARGIN_MM, y=15, h=15)
        return
    doc.set_font(pdf.FONT, style="B", size=14)
    pdf.one_line(doc, 8, pdf.fit(sender.gemeente))


def _address(doc: FPDF, to: str, address: Address) -> None:
    x, y, width, _height = WINDOW
    doc.set_font(pdf.FONT, size=11)
    doc.set_xy(x + INSIDE, y + INSIDE)
    lines = (
        to,
        f"{address.street} {address.number}",
        f"{address.postcode}  {address.town.upper()}",
    )
    room = width - 2 * INSIDE
    for line in map(pdf.fit, lines):
        # A long street name gets a smaller letter rather than running out of the window.
        size = 11.0
        while size > 7 and doc.get_string_width(line) > room:
            size -= 0.5
            doc.set_font_size(size)
        pdf.one_line(doc, 5.5, line)
        doc.set_font_size(11)
