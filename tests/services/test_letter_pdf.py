from __future__ import annotations

import datetime as dt

from proeftuin.models import Area, Phase, Round
from proeftuin.services import codes, letter_pdf, letters
from proeftuin.services.address_list import Address
from tests.factories import pdf_text

NOW = dt.datetime(2027, 2, 10, 12, 0, tzinfo=dt.UTC)


def a_round() -> Round:
    round_ = Round(
        title="Buurtbudget Noord",
        budget=50_000,
        phase=Phase.BEOORDELEN.value,
        voting_starts_at=dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC),
        voting_ends_at=dt.datetime(2027, 3, 17, 21, 0, tzinfo=dt.UTC),
    )
    round_.area = Area(name="Noord", slug="noord", kind="wijk")
    return round_


def test_a_letter_page_has_the_address_number_code_and_dates() -> None:
    code = codes.generate_code()
    page = letter_pdf.Page(7, Address("Kerkweg", "3 a", "1234 AB", "Veenhoven"), code)
    sender = letters.Sender("Gemeente Veenhoven", ("Bel 14 0123",), None)
    content = letter_pdf.render(a_round(), [page], "https://stem.veenhoven.nl", sender, "nl", NOW)
    shown = pdf_text(content).splitlines()
    # The address block, in the order PostNL reads it, then the rest.
    start = shown.index("Aan de bewoners van")
    assert shown[start + 1 : start + 3] == ["Kerkweg 3 a", "1234 AB  VEENHOVEN"]
    assert "Briefnummer 7" in shown and "Gemeente Veenhoven" in shown
    assert f"Uw code: {codes.display(code)}" in shown
    # The one sentence with the code, wrapped like any other (the placeholder is replaced).
    assert f"stem.veenhoven.nl/stem en typ uw code: {codes.display(code)}." in " ".join(shown)
    assert letter_pdf.PLACEHOLDER not in " ".join(shown)
    assert "- Stemmen kan vanaf maandag 1 maart 2027, 09:00 uur." in shown
    assert "Bel 14 0123" in shown


def test_the_address_sits_in_the_envelope_window() -> None:
    x, y, width, height = letter_pdf.WINDOW
    assert (x, y) == (20.0, 50.0)  # from the left and top of an A4 page, in mm
    assert width >= 85 and height >= 35
