"""Jinja2: autoescaped, translated (gettext in the visitor's language), with our filters.

Every template gets ``request``, ``lang`` ("nl" | "en"), ``site_name``, ``current_path``, ``here``,
``voting_open`` (some round is in its voting phase: web/voting_nav.py),
``csrf_token()`` and ``csrf_field()`` (the hidden form field), ``site`` (the gemeente's name,
contact details and look: web/site_cache.py), ``rule_options()`` (greedy's options in words),
and the filters ``euro``, ``date``, ``moment`` (a deadline: day and time, "vandaag"/"morgen")
and ``phase_label``. Imported macros see only the globals: import a macro ``with context`` when
it needs the request (``csrf_field()`` does); translations work in macros either way.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from proeftuin import i18n
from proeftuin.config import Settings
from proeftuin.vocabulary import phase_label, rule_options
from proeftuin.web.language import language
from proeftuin.web.security import CSRF_FIELD, csrf_token
from proeftuin.web.site_cache import site_info
from proeftuin.web.voting_nav import SCOPE_KEY as VOTING_OPEN_KEY

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def resource_dir(name: str) -> Path:
    """``templates`` or ``static``: packaged as ``proeftuin/_<name>`` in a wheel, else the
    folder at the top of the checkout."""
    packaged = PACKAGE_DIR / f"_{name}"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / name


def create_templates(
    settings: Settings, extra_globals: Mapping[str, Any] | None = None
) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(resource_dir("templates")),
        autoescape=True,
        # A missing variable is a bug: fail loudly everywhere but in front of residents.
        undefined=jinja2.Undefined if settings.production else jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Checking every template file's time on every render is for editing them while the
        # development server runs; elsewhere it is a stat() per template per page for nothing.
        auto_reload=settings.env == "development",
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    env.globals["_"] = _translate  # a page calls it dozens of times: one call, not three
    env.filters.update(euro=_euro, date=_date, moment=_moment, phase_label=_phase_label)
    env.globals.update(
        site_name=settings.site_name,
        csrf_field=_csrf_field,
        url_for=_url_for,
        rule_options=rule_options,
        **(extra_globals or {}),
    )
    return Jinja2Templates(env=env, context_processors=[_request_context])


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, template, dict(context or {}), status_code=status_code, headers=headers
    )


def _request_context(request: Request) -> dict[str, Any]:
    site = site_info(request)
    context = {
        "lang": language(request),
        "current_path": request.url.path,
        "here": _here(request),
        "csrf_token": lambda: csrf_token(request),
        "voting_open": request.scope.get(VOTING_OPEN_KEY, False),
        "site": site,
    }
    if site.gemeente_name:  # the name an admin set wins over PROEFTUIN_SITE_NAME
        context["site_name"] = site.gemeente_name
    return context


def _here(request: Request) -> str:
    """This page's path and query without ``lang``, to come back to after switching language
    (after a POST there is no page to come back to: the front page then)."""
    if request.method not in ("GET", "HEAD"):
        return "/"
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"])
    return f"{request.url.path}?{query}" if query else request.url.path


def _language(context: Context) -> str:
    # Templates rendered for a request carry ``lang``; imported macros fall back to the request's
    # language held by i18n, which the language middleware sets.
    lang = context.get("lang")
    return lang if isinstance(lang, str) and lang in i18n.LANGUAGES else i18n.current_language.get()


@jinja2.pass_context
def _gettext(context: Context, message: str) -> str:
    return i18n.translations(_language(context)).gettext(message)


@jinja2.pass_context
def _translate(context: Context, message: str, **variables: Any) -> str:
    """``_()`` as jinja2.ext's newstyle gettext gives it (escaped, always a format string),
    without the two calls it makes through the context to reach ``_gettext``."""
    text = i18n.translations(_language(context)).gettext(message)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - our own catalogue; the variables below are escaped
    return text % variables


@jinja2.pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return i18n.translations(_language(context)).ngettext(singular, plural, n)


@jinja2.pass_context
def _euro(context: Context, amount: int) -> str:
    return i18n.format_euro(amount, _language(context))


@jinja2.pass_context
def _date(context: Context, value: dt.date) -> str:
    return i18n.format_date(value, _language(context))


@jinja2.pass_context
def _moment(context: Context, value: dt.datetime) -> str:
    return i18n.format_moment(value, _language(context))


@jinja2.pass_context
def _phase_label(context: Context, phase: str) -> str:
    return i18n.gettext(phase_label(phase), _language(context))


@jinja2.pass_context
def _url_for(context: Context, name: str, /, **path_params: Any) -> str:
    """A path on this site ("/taal"), not a full URL: behind a proxy the Host we see may not be
    the public one. Full URLs (mails, letters) start from ``settings.base_url``."""
    request: Request = context["request"]
    try:
        key = (request.scope.get("root_path", ""), name, tuple(sorted(path_params.items())))
        return _paths(request.app, key, lambda: request.url_for(name, **path_params).path)
    except TypeError:  # a path parameter that cannot be part of a key
        return request.url_for(name, **path_params).path


def _paths(app: object, key: Hashable, make: Callable[[], str]) -> str:
    """Starlette finds a route by trying each in turn, raising an exception for every miss: a
    simple page spent half its time there. A route's path never changes while the app runs, so
    each is worked out once per app."""
    paths: dict[Hashable, str] = _PATHS.setdefault(app, {})
    path = paths.get(key)
    if path is None:
        if len(paths) >= _PATHS_PER_APP:  # only links with ever new parameters fill it
            paths.clear()
        path = paths[key] = make()
    return path


_PATHS: weakref.WeakKeyDictionary[object, dict[Hashable, str]] = weakref.WeakKeyDictionary()
_PATHS_PER_APP = 10_000


@jinja2.pass_context
def _csrf_field(context: Context) -> Markup:
    request = context.get("request")
    if request is None:
        raise RuntimeError("csrf_field() needs the request: import this macro 'with context'")
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FIELD, csrf_token(request)
    )
