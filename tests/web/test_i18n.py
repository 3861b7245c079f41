from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from jinja2 import ChoiceLoader, DictLoader
from starlette.applications import Starlette
from starlette.testclient import TestClient

from proeftuin import i18n
from proeftuin.i18n import format_date, format_euro, gettext, normalise_language

ROOT = Path(__file__).resolve().parents[2]
NBSP = "\xa0"


@pytest.mark.parametrize(
    ("amount", "language", "expected"),
    [
        (12_500, "nl", f"€{NBSP}12.500"),
        (12_500, "en", "€12,500"),
        (25_000, "nl", f"€{NBSP}25.000"),
        (1_250_000, "nl", f"€{NBSP}1.250.000"),
        (0, "nl", f"€{NBSP}0"),
        (1_250_000, "en", "€1,250,000"),
    ],
)
def test_euro(amount: int, language: str, expected: str) -> None:
    assert format_euro(amount, language) == expected


def test_dates() -> None:
    assert format_date(dt.date(2027, 3, 3), "nl") == "3 maart 2027"
    assert format_date(dt.date(2027, 3, 3), "en") == "3 March 2027"
    late = dt.datetime(2027, 3, 2, 23, 30, tzinfo=dt.UTC)  # 00:30 on 3 March in Amsterdam
    assert format_date(late, "nl") == "3 maart 2027"
    summer = dt.datetime(2027, 7, 1, 21, 59, tzinfo=dt.UTC)  # 23:59 CEST, still 1 July
    assert format_date(summer, "en") == "1 July 2027"
    with pytest.raises(ValueError):
        format_date(dt.datetime(2027, 3, 3, 12, 0), "nl")


def test_normalise_language() -> None:
    assert normalise_language("EN") == "en"
    assert normalise_language("en-GB") == "en"
    assert normalise_language("nl_NL") == "nl"
    assert normalise_language("de") is None
    assert normalise_language("") is None
    assert normalise_language(None) is None


def test_gettext_translates_and_fills_in() -> None:
    message = "Te veel pogingen. Probeer het over {minutes} minuten opnieuw."
    assert (
        gettext(message, "nl", minutes=5) == "Te veel pogingen. Probeer het over 5 minuten opnieuw."
    )
    assert gettext(message, "en", minutes=5) == "Too many attempts. Please try again in 5 minutes."
    token = i18n.current_language.set("en")
    try:
        assert gettext("Geen toegang") == "No access"
    finally:
        i18n.current_language.reset(token)
    assert gettext("Geen toegang") == "Geen toegang"


def test_the_english_catalog_is_complete(tmp_path: Path) -> None:
    """Every message in the code and templates has an English translation that is not fuzzy and
    keeps the same {placeholders} / %(placeholders)s."""
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "--quiet",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-o",
            str(pot),
            "--no-location",
            "--omit-header",
            *(f"-k{keyword}" for keyword in i18n.EXTRACT_KEYWORDS),
            str(ROOT),
        ]
    )
    with pot.open("rb") as f:
        template = read_po(f)
    with (ROOT / "proeftuin/locale/en/LC_MESSAGES/messages.po").open("rb") as f:
        english = read_po(f, locale="en")
    ids = [m.id for m in template if m.id]
    assert len(ids) > 30  # the extraction found our messages
    problems = []
    for msgid in ids:
        entry = english.get(msgid)
        if entry is None or not entry.string:
            problems.append(f"untranslated: {msgid!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        else:
            for source, target in zip(_forms(msgid), _forms(entry.string), strict=False):
                if _placeholders(source) != _placeholders(target):
                    problems.append(f"placeholders differ: {msgid!r}")
    assert not problems, "\n".join(problems) + "\nRun `make messages` and translate in the .po."


def _forms(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}|%\((\w+)\)s", text)) if text else set()


def test_language_from_query_is_remembered(client: TestClient) -> None:
    assert '<html lang="nl"' in client.get("/").text
    assert '<html lang="en"' in client.get("/?lang=en").text
    assert '<html lang="en"' in client.get("/").text  # remembered in the session
    assert '<html lang="nl"' in client.get("/?lang=nl").text
    assert '<html lang="nl"' in client.get("/?lang=fr").text  # unknown: keep what we had


def test_language_switch_form_works_without_javascript(client: TestClient) -> None:
    html = client.get("/?gebied=ter-aa&lang=nl").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    next_path = re.search(r'name="next" value="([^"]+)"', html).group(1)
    assert next_path == "/?gebied=ter-aa"  # back to the same page, without the old ?lang
    response = client.post("/taal", data={"lang": "en", "next": next_path, "csrf_token": token})
    assert response.url.path == "/"
    assert '<html lang="en"' in response.text
    assert 'value="nl"' in response.text and ">Nederlands<" in response.text


def test_language_switch_rejects_unknown_languages_and_foreign_redirects(
    client: TestClient,
) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
    bad = client.post("/taal", data={"lang": "fr", "csrf_token": token}, follow_redirects=False)
    assert bad.status_code == 422
    away = client.post(
        "/taal",
        data={"lang": "en", "next": "https://evil.example/", "csrf_token": token},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/"


def test_imported_macros_are_translated_too(app: Starlette) -> None:
    # Imported macros do not see the page's variables; they follow the request's language.
    env = app.state.templates.env.overlay(
        loader=ChoiceLoader(
            [
                DictLoader(
                    {
                        "m.html": '{% macro label() %}{{ _("Hoofdmenu") }}{% endmacro %}',
                        "page.html": '{% from "m.html" import label %}{{ label() }}',
                    }
                ),
                app.state.templates.env.loader,
            ]
        )
    )
    token = i18n.current_language.set("en")
    try:
        assert env.get_template("page.html").render() == "Main menu"
    finally:
        i18n.current_language.reset(token)
    assert env.get_template("page.html").render() == "Hoofdmenu"


def test_a_checkout_without_compiled_catalogs_still_speaks_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    source = ROOT / "proeftuin/locale/en/LC_MESSAGES/messages.po"
    (folder / "messages.po").write_bytes(source.read_bytes())  # a .po, no .mo
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        assert gettext("Geen toegang", "en") == "No access"
    finally:
        i18n.translations.cache_clear()


def test_a_deadline_names_the_day_and_the_time_in_dutch_local_time() -> None:
    sunday_evening = dt.datetime(2026, 12, 27, 17, 0, tzinfo=dt.UTC)  # 18:00 in Amsterdam
    earlier = dt.datetime(2026, 12, 20, 9, 0, tzinfo=dt.UTC)
    assert i18n.format_moment(sunday_evening, "nl", now=earlier) == (
        "zondag 27 december 2026, 18:00 uur"
    )
    assert i18n.format_moment(sunday_evening, "en", now=earlier) == "Sunday 27 December 2026, 18:00"
    # Summer time: 16:00 UTC is 18:00 in Amsterdam in July.
    july = dt.datetime(2027, 7, 4, 16, 0, tzinfo=dt.UTC)
    assert i18n.format_moment(july, "nl", now=earlier).endswith("18:00 uur")


def test_a_deadline_today_or_tomorrow_says_so_and_a_printed_one_does_not() -> None:
    deadline = dt.datetime(2026, 12, 27, 17, 0, tzinfo=dt.UTC)
    same_day = dt.datetime(2026, 12, 27, 7, 0, tzinfo=dt.UTC)
    day_before_late = dt.datetime(2026, 12, 26, 22, 30, tzinfo=dt.UTC)  # 23:30 local
    assert i18n.format_moment(deadline, "nl", now=same_day) == (
        "vandaag, zondag 27 december 2026, 18:00 uur"
    )
    assert i18n.format_moment(deadline, "nl", now=day_before_late).startswith("morgen, zondag")
    assert i18n.format_moment(deadline, "en", now=same_day).startswith("today, Sunday")
    assert i18n.format_moment(deadline, "nl", now=same_day, relative=False).startswith("zondag")
    with pytest.raises(ValueError, match="naive"):
        i18n.format_moment(dt.datetime(2026, 12, 27, 17, 0), "nl")
