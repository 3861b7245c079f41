from __future__ import annotations

import datetime as dt

import segno

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


def test_the_qr_code_draws_one_rectangle_per_run_of_dark_modules() -> None:
    url = "https://example.nl/stem?code=ABCD-EFGH-JKMN"
    doc = pdf.document("QR", "nl", CREATED)
    doc.set_compression(False)
    doc.add_page()
    pdf.qr(doc, url, 20, 40, 30)
    content = pdf.to_bytes(doc)
    runs = 0
    for row in segno.make(url, error="m", micro=False).matrix_iter(scale=1, border=0):
        cells = list(row)
        runs += sum(1 for i, dark in enumerate(cells) if dark and (i == 0 or not cells[i - 1]))
    assert content.count(b" re f") == runs
