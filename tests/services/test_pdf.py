from __future__ import annotations

import datetime as dt

from proeftuin.services import pdf
from tests.factories import pdf_text

CREATED = dt.datetime(2027, 3, 4, 9, 0, tzinfo=dt.UTC)


def test_text_outside_the_core_fonts_prints_as_a_question_mark() -> None:
    assert pdf.fit("Café € “ok” ≠") == "Café € “ok” ?"


def test_a_document_is_the_same_for_the_same_input() -> None:
    def make() -> bytes:
        doc = pdf.document("Stembiljet", "nl", CREATED)
        doc.add_page()
        pdf.line(doc, 6, "Één regel met € 4.000")
        pdf.qr(doc, "https://example.nl/stem?code=ABCD-EFGH-JKMN", 20, 40, 30)
        return pdf.to_bytes(doc)

    first = make()
    assert first == make()
    assert "Één regel met € 4.000" in pdf_text(first)


def test_the_qr_code_is_an_image_of_the_url() -> None:
    doc = pdf.document("QR", "nl", CREATED)
    doc.add_page()
    pdf.qr(doc, "https://example.nl/stem?code=ABCD-EFGH-JKMN", 20, 40, 30)
    content = pdf.to_bytes(doc)
    assert content.count(b"/Subtype /Image") == 1
    # Black and white, QR_PIXELS per module: 33 modules (version 4) for this URL.
    width = 33 * pdf.QR_PIXELS
    assert b"/BitsPerComponent 1" in content
    assert f"/Width {width}".encode() in content and f"/Height {width}".encode() in content
