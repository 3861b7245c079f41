"""What every route module shares: calling the page tier, reading a form, showing its errors.

Routes parse input, call one page function and render. ``call`` is the only way a route reaches
the database: it runs the page function in the transaction that function declares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection, Request

from proeftuin import i18n
from proeftuin.errors import DomainError, Invalid, InvalidForm
from proeftuin.services.pages.declare import perform
from proeftuin.web.language import language
from proeftuin.web.state import get_database

P = ParamSpec("P")
T = TypeVar("T")

# Pages with personal state (a ballot, a code, a staff page): a shared computer must not show
# them to the next person from its cache.
NO_STORE = {"Cache-Control": "no-store"}


async def call(
    conn: HTTPConnection,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run a page function (``proeftuin.services.pages``) in the transaction it declares."""
    return await perform(get_database(conn), fn, *args, **kwargs)


def form_errors(request: Request, error: Invalid | InvalidForm) -> dict[str, str]:
    """Field name → translated message, for the form macros in templates/_macros/forms.html."""
    found = error.errors.values() if isinstance(error, InvalidForm) else [error]
    lang = language(request)
    return {e.field: i18n.gettext(e.message, lang, **e.params) for e in found}


def error_text(request: Request, error: DomainError) -> str:
    """A domain error's message in the visitor's language."""
    return i18n.gettext(error.message, language(request), **error.params)


async def read_form(request: Request) -> dict[str, str]:
    async with request.form() as form:
        return {k: v for k, v in form.multi_items() if isinstance(v, str)}
