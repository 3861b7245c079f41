"""The gemeente's own site: contact, privacy statement, accessibility statement, "Hoe werkt het?",
the gemeente's look (its stylesheet of colours and its logo), and the admin's forms for them.

What every page shows of the gemeente comes from web/site_cache.py; a save here makes this
process read it again at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proeftuin.errors import Invalid, InvalidForm
from proeftuin.i18n import N_
from proeftuin.services.pages import site
from proeftuin.services.pages.site import ContactInput, LookInput, SitePage
from proeftuin.services.permissions import Actor
from proeftuin.vocabulary import RULE_NAMES, RULE_SUMMARIES
from proeftuin.web.helpers import call, form_errors, read_form
from proeftuin.web.htmx import hx_redirect
from proeftuin.web.language import language
from proeftuin.web.markdown import render_page_markdown
from proeftuin.web.policy import Policy, current_actor, staff_route
from proeftuin.web.site_cache import site_cache, site_info
from proeftuin.web.state import get_settings
from proeftuin.web.templating import render

T = TypeVar("T")
YEAR = {"Cache-Control": "public, max-age=31536000, immutable"}
SHORT = {"Cache-Control": "public, max-age=300"}

# Each content page: its address and its title.
PAGES: dict[SitePage, tuple[str, str]] = {
    SitePage.PRIVACY: ("privacy", N_("Privacyverklaring")),
    SitePage.ACCESSIBILITY: ("toegankelijkheid", N_("Toegankelijkheidsverklaring")),
    SitePage.HOW_IT_WORKS: ("hoe-werkt-het", N_("Hoe werkt het?")),
}
NOTICES = {
    "contact": N_("De contactgegevens zijn opgeslagen."),
    "kleuren": N_("De kleuren zijn opgeslagen."),
    "logo": N_("Het logo is opgeslagen."),
    "logo-weg": N_("Het logo is verwijderd."),
    "pagina": N_("De pagina is opgeslagen."),
}


def _changed(request: Request) -> None:
    site_cache(request.app).forget()


def gemeente_name(request: Request) -> str:
    return site_info(request).gemeente_name or get_settings(request).site_name


# -- Public pages ----------------------------------------------------------------------------


async def contact_page(request: Request) -> Response:
    return render(request, "site/contact.html", {})


def _content_route(page: SitePage) -> Route:
    path, title = PAGES[page]

    async def show(request: Request) -> Response:
        found = await call(
            request, site.content_page, page, gemeente_name(request), language(request)
        )
        context = {
            "page": found,
            "title": title,
            "markdown": render_page_markdown,
            "rule_names": RULE_NAMES,
            "rule_summaries": RULE_SUMMARIES,
        }
        return render(request, "site/page.html", context)

    return Route(f"/{path}", show, name=f"site_{page.value}")


async def theme_css(request: Request) -> Response:
    """The gemeente's colours; linked as /huisstijl.css?v=<version>, so cached for a year."""
    look = site_info(request).look
    cache = YEAR if look.version and request.query_params.get("v") == look.version else SHORT
    return Response(look.css, media_type="text/css; charset=utf-8", headers=cache)


async def logo(request: Request) -> Response:
    found = await call(request, site.logo)
    if found is None:
        return Response(status_code=404, headers=SHORT)
    cache = YEAR if request.query_params.get("v") == found.sha256 else SHORT
    return Response(found.content, media_type=found.media_type, headers=cache)


# -- /beheer ---------------------------------------------------------------------------------


async def settings_page(
    request: Request,
    *,
    contact: ContactInput | None = None,
    look: LookInput | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    found = await call(request, site.settings_page, current_actor(request))
    context = {
        "settings": found,
        "contact": contact or found.contact,
        "look": look or found.look,
        "errors": errors or {},
        "pages": PAGES,
        "default_name": get_settings(request).site_name,
        "notice": NOTICES.get(request.query_params.get("melding", "")),
    }
    return render(request, "beheer/site.html", context, status_code=status_code)


async def settings_show(request: Request) -> Response:
    return await settings_page(request)


async def contact_update(request: Request) -> Response:
    form = await read_form(request)
    data = ContactInput(**{name: form.get(name, "") for name in ContactInput.__dataclass_fields__})
    return await _save(request, site.update_contact, data, "contact", contact=data)


async def look_update(request: Request) -> Response:
    form = await read_form(request)
    data = LookInput(**{name: form.get(name, "") for name in LookInput.__dataclass_fields__})
    return await _save(request, site.update_look, data, "kleuren", look=data)


async def _save(
    request: Request,
    save: Callable[[Session, Actor, T], object],
    data: T,
    notice: str,
    **typed: Any,
) -> Response:
    """Save one of the settings forms; a refusal shows the page again with what was typed."""
    try:
        await call(request, save, current_actor(request), data)
    except (Invalid, InvalidForm) as error:
        errors = form_errors(request, error)
        return await settings_page(request, errors=errors, status_code=422, **typed)
    _changed(request)
    return hx_redirect(request, f"/beheer/website?melding={notice}")


async def logo_update(request: Request) -> Response:
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("logo")
        content = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    try:
        await call(request, site.update_logo, current_actor(request), content)
    except Invalid as error:
        return await settings_page(request, errors=form_errors(request, error), status_code=422)
    _changed(request)
    return hx_redirect(request, "/beheer/website?melding=logo")


async def logo_remove(request: Request) -> Response:
    await call(request, site.remove_logo, current_actor(request))
    _changed(request)
    return hx_redirect(request, "/beheer/website?melding=logo-weg")


def _edit_routes(page: SitePage) -> list[Route]:
    path, title = PAGES[page]

    async def form_page(
        request: Request, typed: str | None = None, errors: dict[str, str] | None = None
    ) -> Response:
        found = await call(
            request,
            site.page_for_editing,
            current_actor(request),
            page,
            gemeente_name(request),
            language(request),
        )
        context = {
            "page": found,
            "title": title,
            "path": path,
            "text": found.text if typed is None else typed,
            "errors": errors or {},
        }
        return render(request, "beheer/site_page.html", context, status_code=422 if errors else 200)

    async def show(request: Request) -> Response:
        return await form_page(request)

    async def update(request: Request) -> Response:
        form = await read_form(request)
        body = form.get("body", "")
        if form.get("default") == "1":
            body = ""
        try:
            await call(request, site.update_page, current_actor(request), page, body)
        except Invalid as error:
            return await form_page(request, body, form_errors(request, error))
        return hx_redirect(request, "/beheer/website?melding=pagina")

    beheer = f"/beheer/website/{path}"
    return [
        staff_route(beheer, show, policy=Policy.ADMIN, name=f"staff_site_{page.value}"),
        staff_route(
            beheer,
            update,
            policy=Policy.ADMIN,
            name=f"staff_site_{page.value}_update",
            methods=["POST"],
        ),
    ]


ADMIN = Policy.ADMIN
POST = ["POST"]

routes = [
    Route("/contact", contact_page, name="site_contact"),
    *(_content_route(page) for page in SitePage),
    Route("/huisstijl.css", theme_css, name="site_theme_css"),
    Route("/huisstijl/logo.png", logo, name="site_logo"),
    staff_route("/beheer/website", settings_show, policy=ADMIN, name="staff_site"),
    staff_route(
        "/beheer/website/contact",
        contact_update,
        policy=ADMIN,
        name="staff_site_contact",
        methods=POST,
    ),
    staff_route(
        "/beheer/website/kleuren", look_update, policy=ADMIN, name="staff_site_look", methods=POST
    ),
    staff_route(
        "/beheer/website/logo", logo_update, policy=ADMIN, name="staff_site_logo", methods=POST
    ),
    staff_route(
        "/beheer/website/logo/verwijderen",
        logo_remove,
        policy=ADMIN,
        name="staff_site_logo_remove",
        methods=POST,
    ),
    *(route for page in SitePage for route in _edit_routes(page)),
]
