"""The default statements quote the numbers the code really keeps, in either language."""

from __future__ import annotations

import pytest

from proeftuin.models import SitePage
from proeftuin.services import residents, retention, site_statements, staff_sessions


def test_the_privacy_statement_quotes_the_retention_and_the_limits() -> None:
    text = site_statements.default_text(SitePage.PRIVACY, "Gemeente Veenhoven", "nl")
    assert text.startswith("# Wie is verantwoordelijk?")
    assert "Gemeente Veenhoven is verantwoordelijk" in text
    assert f"{retention.RETENTION.days} dagen nadat de uitslag" in text
    assert f"werkt {residents.LINK_MINUTES} minuten" in text
    assert f"na {int(staff_sessions.IDLE.total_seconds() // 60)} minuten" in text
    assert "{" not in text  # every placeholder filled in


def test_the_numbers_follow_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "RETENTION", retention.RETENTION * 2)
    text = site_statements.default_text(SitePage.PRIVACY, "G", "nl")
    assert f"{retention.RETENTION.days} dagen nadat de uitslag" in text


@pytest.mark.parametrize("page", list(SitePage))
@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_default_is_complete_in_both_languages(page: SitePage, language: str) -> None:
    text = site_statements.default_text(page, "Gemeente Veenhoven", language)
    assert len(text) > 300 and "{" not in text


def test_the_accessibility_statement_follows_the_model_statement() -> None:
    text = site_statements.default_text(SitePage.ACCESSIBILITY, "G", "nl")
    for heading in ("# Nalevingsstatus", "# Hoe testen wij?", "# Handhavingsprocedure"):
        assert heading in text
    assert "axe-core" in text and "Chromium" in text
