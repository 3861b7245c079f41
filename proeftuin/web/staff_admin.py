"""The staff dashboard, and the admin's pages: areas, staff members and the audit log."""

from __future__ import annotations

from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from proeftuin import vocabulary
from proeftuin.db import utcnow
from proeftuin.errors import Invalid, InvalidForm
from proeftuin.i18n import TIMEZONE
from proeftuin.services.pages import staff_admin
from proeftuin.services.pages.staff_admin import AreaChange, AreaInput, AreaKind, AreaOverview
from proeftuin.vocabulary import ROLE_NAMES
from proeftuin.web.downloads import FORMAT_FIELD, staff_download
from proeftuin.web.helpers import NO_STORE, call, form_errors, read_form
from proeftuin.web.htmx import hx_redirect, is_htmx, render_page, vary_on_htmx
from proeftuin.web.policy import Policy, current_actor, staff_route
from proeftuin.web.templating import render

ID_DIGITS = 9  # a row id that fits PostgreSQL's 32-bit integer (and SQLite's 64-bit one)


def _row_id(typed: str, default: int = 0) -> int:
    """A number from a form or the query: ASCII digits only (``int("²")`` fails) and short
    enough for the database (a longer one would crash the query instead of finding nothing)."""
    ok = typed.isascii() and typed.isdigit() and len(typed) <= ID_DIGITS
    return int(typed) if ok else default


class RowId(Convertor[int]):
    """``{name:id}`` in a path: a row id as ``_row_id`` takes it; anything longer is a 404."""

    regex = f"[0-9]{{1,{ID_DIGITS}}}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", RowId())


# -- Dashboard -------------------------------------------------------------------------------------


async def dashboard(request: Request) -> Response:
    actor = current_actor(request)
    found = await call(request, staff_admin.dashboard, actor)
    notice = request.query_params.get("melding", "")
    context = {
        "areas": found.areas,
        "work": found.work,
        "kind_names": vocabulary.AREA_KIND_NAMES,
        "notice": notice,
    }
    return render(request, "beheer/dashboard.html", context)


# -- Areas -----------------------------------------------------------------------------------------


async def area_list(request: Request) -> Response:
    overview = await call(request, staff_admin.overview, current_actor(request))
    notice = request.query_params.get("melding", "")
    context = {"areas": overview, "kind_names": vocabulary.AREA_KIND_NAMES, "notice": notice}
    return render(request, "beheer/areas.html", context)


async def area_new(request: Request) -> Response:
    return _area_form(request, AreaInput(), area=None)


async def area_create(request: Request) -> Response:
    data = _area_input(await read_form(request))
    try:
        await call(request, staff_admin.create_area, current_actor(request), data)
    except (Invalid, InvalidForm) as error:
        return _area_form(request, data, None, form_errors(request, error))
    return hx_redirect(request, "/beheer/gebieden?melding=aangemaakt")


async def area_edit(request: Request) -> Response:
    area_id = request.path_params["area_id"]
    area = await call(request, staff_admin.area, current_actor(request), area_id)
    return _area_form(request, staff_admin.as_input(area), area)


async def area_update(request: Request) -> Response:
    actor = current_actor(request)
    area_id = request.path_params["area_id"]
    area = await call(request, staff_admin.area, actor, area_id)
    data = _area_input(await read_form(request))
    try:
        await call(request, staff_admin.update_area, actor, area_id, data)
    except (Invalid, InvalidForm) as error:
        return _area_form(request, data, area, form_errors(request, error))
    return hx_redirect(request, "/beheer/gebieden?melding=gewijzigd")


async def area_delete(request: Request) -> Response:
    area_id = request.path_params["area_id"]
    await call(request, staff_admin.delete_area, current_actor(request), area_id)
    return hx_redirect(request, "/beheer/gebieden?melding=verwijderd")


def _area_input(form: dict[str, str]) -> AreaInput:
    return AreaInput(
        name=form.get("name", ""),
        slug=form.get("slug", ""),
        kind=form.get("kind", ""),
        council_name=form.get("council_name", ""),
        postcodes=form.get("postcodes", ""),
    )


def _area_form(
    request: Request,
    data: AreaInput,
    area: AreaOverview | None,
    errors: dict[str, str] | None = None,
) -> Response:
    context = {
        "data": data,
        "area": area,
        "errors": errors or {},
        "kinds": [(k.value, vocabulary.AREA_KIND_NAMES[k]) for k in AreaKind],
    }
    return render(request, "beheer/area_form.html", context, status_code=422 if errors else 200)


# -- Staff members ---------------------------------------------------------------------------------


async def member_list(request: Request) -> Response:
    members = await call(request, staff_admin.members, current_actor(request))
    context = {"members": members, "role_names": ROLE_NAMES}
    return render(request, "beheer/members.html", context)


async def member_new(request: Request) -> Response:
    return await _invite_form(request, {})


async def member_invite(request: Request) -> Response:
    async with request.form() as form:
        fields = {k: str(form.get(k, "")) for k in ("email", "name", "role")}
        chosen = [str(v) for v in form.getlist("area_ids")]
    area_ids = tuple(_row_id(v) for v in chosen if v.isdigit())
    try:
        invited = await call(
            request,
            staff_admin.invite,
            current_actor(request),
            fields["email"],
            fields["name"],
            fields["role"],
            area_ids,
        )
    except (Invalid, InvalidForm) as error:
        return await _invite_form(request, fields, chosen, form_errors(request, error))
    # Shown once, right here: the password is not stored and this page is not cached.
    context = {"member": invited.member, "password": invited.password, "reset": False}
    return render(request, "beheer/one_time_password.html", context, headers=NO_STORE)


async def _invite_form(
    request: Request,
    fields: dict[str, str],
    chosen: list[str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    all_areas = await call(request, staff_admin.all_areas, current_actor(request))
    context = {
        "fields": fields,
        "chosen": chosen or [],
        "areas": all_areas,
        "errors": errors or {},
        "roles": list(ROLE_NAMES.items()),
    }
    return render(request, "beheer/invite.html", context, status_code=422 if errors else 200)


async def member_detail(request: Request) -> Response:
    return await _member_page(request)


async def _member_page(
    request: Request, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    actor = current_actor(request)
    staff_id = request.path_params["staff_id"]
    detail = await call(request, staff_admin.member, actor, staff_id)
    context: dict[str, Any] = {
        "detail": detail,
        "member": detail.member,
        "role_names": ROLE_NAMES,
        "errors": errors or {},
        "is_self": detail.member.id == actor.staff_id,
        "area_options": [(a.id, a.name) for a in detail.other_areas],
    }
    return render_page(
        request, "beheer/member.html", "beheer/_member_areas.html", context, status_code
    )


async def member_assign(request: Request) -> Response:
    form = await read_form(request)
    typed = form.get("area_id", "")
    return await _member_change(
        request,
        staff_admin.assign_area,
        _row_id(typed),
    )


async def member_unassign(request: Request) -> Response:
    return await _member_change(request, staff_admin.unassign_area, request.path_params["area_id"])


async def _member_change(request: Request, change: AreaChange, area_id: int) -> Response:
    """Assign or unassign: htmx gets the updated list of areas, a plain form the page again."""
    staff_id = request.path_params["staff_id"]
    try:
        await call(request, change, current_actor(request), staff_id, area_id)
    except Invalid as error:
        return await _member_page(request, form_errors(request, error), 422)
    if is_htmx(request):
        return await _member_page(request)
    return vary_on_htmx(RedirectResponse(f"/beheer/medewerkers/{staff_id}", status_code=303))


async def member_active(request: Request) -> Response:
    form = await read_form(request)
    staff_id = request.path_params["staff_id"]
    try:
        await call(
            request,
            staff_admin.set_active,
            current_actor(request),
            staff_id,
            form.get("active") == "1",
            utcnow(),
        )
    except Invalid as error:
        return await _member_page(request, form_errors(request, error), 422)
    return hx_redirect(request, f"/beheer/medewerkers/{staff_id}")


async def member_reset_password(request: Request) -> Response:
    staff_id = request.path_params["staff_id"]
    try:
        reset = await call(
            request, staff_admin.reset_password, current_actor(request), staff_id, utcnow()
        )
    except Invalid as error:
        return await _member_page(request, form_errors(request, error), 422)
    context = {"member": reset.member, "password": reset.password, "reset": True}
    return render(request, "beheer/one_time_password.html", context, headers=NO_STORE)


# -- Audit log -------------------------------------------------------------------------------------


async def audit_log(request: Request) -> Response:
    typed = request.query_params.get("pagina", "1")
    page = _row_id(typed, default=1)
    log = await call(request, staff_admin.audit_page, current_actor(request), page)
    context = {"log": log, "timezone": TIMEZONE}
    return render_page(request, "beheer/audit_log.html", "beheer/_audit_rows.html", context)


async def audit_export(request: Request) -> Response:
    form = await read_form(request)
    actor = current_actor(request)
    found = await call(request, staff_admin.audit_export, actor, form.get(FORMAT_FIELD, ""))
    return staff_download(found, "logboek")


STAFF, ADMIN = Policy.STAFF, Policy.ADMIN
AREA = "/beheer/gebieden/{area_id:id}"
MEMBER = "/beheer/medewerkers/{staff_id:id}"

routes = [
    staff_route("/beheer", dashboard, policy=STAFF, name="staff_dashboard"),
    staff_route("/beheer/gebieden", area_list, policy=ADMIN, name="staff_areas"),
    staff_route(
        "/beheer/gebieden", area_create, policy=ADMIN, name="staff_area_create", methods=["POST"]
    ),
    staff_route("/beheer/gebieden/nieuw", area_new, policy=ADMIN, name="staff_area_new"),
    staff_route(AREA, area_edit, policy=ADMIN, name="staff_area"),
    staff_route(AREA, area_update, policy=ADMIN, name="staff_area_update", methods=["POST"]),
    staff_route(
        f"{AREA}/verwijderen",
        area_delete,
        policy=ADMIN,
        name="staff_area_delete",
        methods=["POST"],
    ),
    staff_route("/beheer/medewerkers", member_list, policy=ADMIN, name="staff_members"),
    staff_route(
        "/beheer/medewerkers",
        member_invite,
        policy=ADMIN,
        name="staff_member_invite",
        methods=["POST"],
    ),
    staff_route("/beheer/medewerkers/nieuw", member_new, policy=ADMIN, name="staff_member_new"),
    staff_route(MEMBER, member_detail, policy=ADMIN, name="staff_member"),
    staff_route(
        f"{MEMBER}/gebieden",
        member_assign,
        policy=ADMIN,
        name="staff_member_assign",
        methods=["POST"],
    ),
    staff_route(
        f"{MEMBER}/gebieden/{{area_id:id}}/verwijderen",
        member_unassign,
        policy=ADMIN,
        name="staff_member_unassign",
        methods=["POST"],
    ),
    staff_route(
        f"{MEMBER}/actief",
        member_active,
        policy=ADMIN,
        name="staff_member_active",
        methods=["POST"],
    ),
    staff_route(
        f"{MEMBER}/wachtwoord",
        member_reset_password,
        policy=ADMIN,
        name="staff_member_reset_password",
        methods=["POST"],
    ),
    staff_route("/beheer/logboek", audit_log, policy=ADMIN, name="audit_log"),
    # A POST: the export is itself written to the log, and a GET must not change anything.
    staff_route(
        "/beheer/logboek/export",
        audit_export,
        policy=ADMIN,
        name="audit_log_export",
        methods=["POST"],
    ),
]
