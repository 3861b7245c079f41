"""Languages: Dutch is the source language (msgids are Dutch), English is a translation.

Catalogs live in ``proeftuin/locale/<lang>/LC_MESSAGES/messages.po``; ``make translations`` compiles
them to ``.mo``. A checkout without compiled catalogs (or with a ``.po`` newer than its ``.mo``)
still works: the ``.po`` is compiled in memory, so a fresh clone never shows untranslated pages.

The language of the current request is kept in a context variable set by the web layer, so that
translations work in imported Jinja macros and error pages too, which do not see the request.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from contextvars import ContextVar
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from babel.support import NullTranslations, Translations

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
# English dates read "3 March 2027", as in British English, not "March 3, 2027".
LOCALES = {"nl": "nl_NL", "en": "en_GB"}
TIMEZONE = ZoneInfo("Europe/Amsterdam")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"

# What `pybabel extract` reads as a message besides gettext calls: the domain errors' messages,
# so the services can raise plain Dutch text and still be translated (Makefile and tests use this).
EXTRACT_KEYWORDS = (
    "N_",
    "Invalid:2",
    "PhaseClosed",
    "NotAllowed",
    "NotFound",
    "DomainError",
)

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated later, where the language is known."""
    return message


def normalise_language(value: str | None) -> str | None:
    """A supported language code for ``value`` ("EN", "en-GB" → "en"), or None."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


@functools.cache
def translations(language: str) -> NullTranslations:
    if language == DEFAULT_LANGUAGE or language not in LANGUAGES:
        return NullTranslations()
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext(message: str, language: str | None = None, **params: object) -> str:
    """``message`` in ``language`` (default: the current one), with ``{params}`` filled in."""
    text = translations(language or current_language.get()).gettext(message)
    return text.format(**params) if params else text


def ngettext(
    singular: str, plural: str, n: int, language: str | None = None, **params: object
) -> str:
    text = translations(language or current_language.get()).ngettext(singular, plural, n)
    return text.format(n=n, **params)


def format_euro(amount: int, language: str | None = None) -> str:
    """Whole euros in the language's notation: ``€ 12.500`` (nl), ``€12,500`` (en)."""
    return _format_euro(amount, language or current_language.get())


@functools.lru_cache(maxsize=4096)
def _format_euro(amount: int, language: str) -> str:
    # Babel parses the locale and the pattern on every call; a ballot page shows dozens of
    # amounts, and the same budgets and costs on every page.
    locale = Locale.parse(LOCALES[language])
    pattern = locale.currency_formats["standard"].pattern.replace(".00", "")
    return format_currency(amount, "EUR", format=pattern, locale=locale, currency_digits=False)


def format_date(value: dt.date, language: str | None = None) -> str:
    """``3 maart 2027`` / ``3 March 2027``; a datetime is first put in Dutch local time."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime; use timezone-aware UTC")
        value = value.astimezone(TIMEZONE).date()
    locale = LOCALES[language or current_language.get()]
    return babel_format_date(value, format="long", locale=locale)


def format_moment(
    value: dt.datetime,
    language: str | None = None,
    *,
    now: dt.datetime | None = None,
    relative: bool = True,
) -> str:
    """A deadline as residents read it, in Dutch local time: ``zondag 27 december 2026, 18:00
    uur``, led by ``vandaag`` or ``morgen`` when it is today or tomorrow (``relative``; off for
    what is printed). Every date with a time on a page, mail or letter goes through here."""
    if value.tzinfo is None:
        raise ValueError("naive datetime; use timezone-aware UTC")
    language = language or current_language.get()
    local = value.astimezone(TIMEZONE)
    day = babel_format_date(local.date(), format="EEEE d MMMM y", locale=LOCALES[language])
    text = gettext(N_("{day}, {time} uur"), language, day=day, time=f"{local:%H:%M}")
    if not relative:
        return text
    today = (now or dt.datetime.now(dt.UTC)).astimezone(TIMEZONE).date()
    days = (local.date() - today).days
    if days == 0:
        return gettext(N_("vandaag, {moment}"), language, moment=text)
    if days == 1:
        return gettext(N_("morgen, {moment}"), language, moment=text)
    return text
