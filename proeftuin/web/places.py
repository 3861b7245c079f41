"""A plan's place on the map: the page where its author, or staff, set the point (the map sets
two fields; without JavaScript they can be typed), and the page where an admin uploads an area's
boundary (GeoJSON)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from proeftuin.errors import Invalid
from proeftuin.services.pages import places
from proeftuin.web.helpers import NO_STORE, call, form_errors, read_form
from proeftuin.web.policy import Policy, current_actor, staff_route
from proeftuin.web.residents import resident_id, to_sign_in
from proeftuin.web.staff_admin import AREA  # (and the path convertor "id" it registers)
from proeftuin.web.templating import render

STAFF_PLACE = "/beheer/rondes/{slug}/plannen/{public_id}/plek"
BOUNDARY = f"{AREA}/grens"
BOUNDARY_READ_LIMIT = 600_000  # more than services.places takes, so too large says so


def _page(
    request: Request,
    page: places.PlacePage,
    *,
    staff: bool,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    saved: bool = False,
) -> Response:
    context: dict[str, Any] = {
        "page": page,
        "staff": staff,
        "errors": errors or {},
        "typed": typed,
        "saved": saved,
    }
    template = "places/staff.html" if staff else "places/place.html"
    status = 422 if errors else 200
    return render(request, template, context, status_code=status, headers=NO_STORE)


async def _typed(request: Request) -> dict[str, str]:
    """The two fields as typed (or as the map set them); both empty to take the point away."""
    form = await read_form(request)
    if form.get("weghalen"):
        return {"latitude": "", "longitude": ""}
    return {name: form.get(name, "") for name in ("latitude", "longitude")}


# -- The author ---------------------------------------------------------------------------------


async def authors_page(request: Request) -> Response:
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, request.url.path)
    page = await call(request, places.authors_page, request.path_params["public_id"], rid)
    return _page(request, page, staff=False)


async def author_set(request: Request) -> Response:
    public_id = request.path_params["public_id"]
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, request.url.path)
    typed = await _typed(request)
    try:
        point = places.parse_point(typed["latitude"], typed["longitude"])
        await call(request, places.set_as_author, public_id, rid, point)
    except Invalid as error:
        page = await call(request, places.authors_page, public_id, rid)
        return _page(request, page, staff=False, errors=form_errors(request, error), typed=typed)
    return RedirectResponse(request.url_for("plan_page", public_id=public_id).path, 303)


# -- Staff --------------------------------------------------------------------------------------


async def staff_page(request: Request) -> Response:
    slug, public_id = request.path_params["slug"], request.path_params["public_id"]
    page = await call(request, places.staff_page, current_actor(request), slug, public_id)
    return _page(request, page, staff=True)


async def staff_set(request: Request) -> Response:
    slug, public_id = request.path_params["slug"], request.path_params["public_id"]
    actor = current_actor(request)
    typed = await _typed(request)
    try:
        point = places.parse_point(typed["latitude"], typed["longitude"])
        page = await call(request, places.set_as_staff, actor, slug, public_id, point)
    except Invalid as error:
        page = await call(request, places.staff_page, actor, slug, public_id)
        return _page(request, page, staff=True, errors=form_errors(request, error), typed=typed)
    return _page(request, page, staff=True, saved=True)


# -- An area's boundary -------------------------------------------------------------------------


def _boundary_page(
    request: Request, page: places.BoundaryPage, errors: dict[str, str] | None = None
) -> Response:
    context = {"page": page, "errors": errors or {}}
    status = 422 if errors else 200
    return render(request, "places/boundary.html", context, status_code=status, headers=NO_STORE)


async def boundary_page(request: Request) -> Response:
    area_id = request.path_params["area_id"]
    page = await call(request, places.boundary_page, current_actor(request), area_id)
    return _boundary_page(request, page)


async def boundary_set(request: Request) -> Response:
    area_id = request.path_params["area_id"]
    actor = current_actor(request)
    async with request.form(max_files=1, max_fields=5) as form:
        file = form.get("boundary")
        raw = await file.read(BOUNDARY_READ_LIMIT) if isinstance(file, UploadFile) else b""
    try:
        await call(request, places.set_boundary, actor, area_id, raw)
    except Invalid as error:
        page = await call(request, places.boundary_page, actor, area_id)
        return _boundary_page(request, page, form_errors(request, error))
    return RedirectResponse(request.url.path, status_code=303)


STAFF, ADMIN, POST = Policy.STAFF, Policy.ADMIN, ("POST",)

routes = [
    Route("/plannen/{public_id}/plek", authors_page, methods=["GET"], name="plan_place"),
    Route("/plannen/{public_id}/plek", author_set, methods=["POST"], name="plan_place_set"),
    staff_route(STAFF_PLACE, staff_page, policy=STAFF, name="staff_plan_place"),
    staff_route(STAFF_PLACE, staff_set, policy=STAFF, name="staff_plan_place_set", methods=POST),
    staff_route(BOUNDARY, boundary_page, policy=ADMIN, name="staff_area_boundary"),
    staff_route(BOUNDARY, boundary_set, policy=ADMIN, name="staff_area_boundary_set", methods=POST),
]
