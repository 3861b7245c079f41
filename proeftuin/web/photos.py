"""A plan's photos: the page where its author (or staff) adds and removes them, and the photos
themselves, served as JPEG with their real type and never as a page.

The upload form is multipart; its size limit (10 MB for the photo) is the body limit of these
paths (web/security.py ``UPLOAD_PATHS``), and its text fields are checked here for NUL, which
the NUL layer leaves to the upload routes.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from proeftuin.errors import Invalid, InvalidForm, _
from proeftuin.services.pages import photos
from proeftuin.services.pages.photos import Upload
from proeftuin.web.helpers import NO_STORE, call, form_errors
from proeftuin.web.policy import Policy, current_actor, staff_route
from proeftuin.web.residents import resident_id, to_sign_in
from proeftuin.web.templating import render

STAFF_PHOTOS = "/beheer/rondes/{slug}/plannen/{public_id}/fotos"
READ_LIMIT = 10 * 1024 * 1024 + 1  # one byte more than allowed, so too large shows as such
UNREADABLE = _("Het formulier kon niet worden gelezen. Probeer het opnieuw.")
# A photo that anyone may see is kept by browsers and caches for a day; its address changes
# when it is replaced (a new photo gets a new id), so it never goes stale.
PUBLIC_CACHE = "public, max-age=86400"


async def _upload(request: Request) -> Upload:
    async with request.form(max_files=1, max_fields=5) as form:
        alt = form.get("alt", "")
        file = form.get("photo")
        if not isinstance(alt, str) or "\x00" in alt:
            raise Invalid("alt", UNREADABLE)
        if not isinstance(file, UploadFile):
            return Upload(b"", "", alt)
        data = await file.read(READ_LIMIT)
        return Upload(data, file.filename or "", alt)


def _page(
    request: Request,
    page: photos.PhotosPage,
    *,
    staff: bool,
    errors: dict[str, str] | None = None,
    alt: str = "",
) -> Response:
    context: dict[str, Any] = {
        "page": page,
        "staff": staff,
        "errors": errors or {},
        "alt": alt,
        "max_photos": photos.MAX_PHOTOS,
        "alt_max": photos.ALT_MAX,
    }
    status = 422 if errors else 200
    return render(request, "photos/manage.html", context, status_code=status, headers=NO_STORE)


# -- The author ---------------------------------------------------------------------------------


async def authors_page(request: Request) -> Response:
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, request.url.path)
    page = await call(request, photos.authors_page, request.path_params["public_id"], rid)
    return _page(request, page, staff=False)


async def author_add(request: Request) -> Response:
    public_id = request.path_params["public_id"]
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, request.url.path)
    upload = Upload(b"", "", "")
    try:
        upload = await _upload(request)
        prepared = await call(request, photos.prepare_as_author, public_id, rid, upload)
        await call(request, photos.add_as_author, public_id, rid, prepared)
    except (Invalid, InvalidForm) as error:
        page = await call(request, photos.authors_page, public_id, rid)
        errors = form_errors(request, error)
        return _page(request, page, staff=False, errors=errors, alt=upload.alt)
    return RedirectResponse(request.url.path, status_code=303)


async def author_remove(request: Request) -> Response:
    public_id = request.path_params["public_id"]
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, request.url.path)
    photo_id = request.path_params["photo_id"]
    await call(request, photos.remove_as_author, public_id, rid, photo_id)
    return RedirectResponse(request.url_for("plan_photos", public_id=public_id).path, 303)


# -- Staff --------------------------------------------------------------------------------------


async def staff_page(request: Request) -> Response:
    slug, public_id = request.path_params["slug"], request.path_params["public_id"]
    page = await call(request, photos.staff_page, current_actor(request), slug, public_id)
    return _page(request, page, staff=True)


async def staff_add(request: Request) -> Response:
    slug, public_id = request.path_params["slug"], request.path_params["public_id"]
    actor = current_actor(request)
    upload = Upload(b"", "", "")
    try:
        upload = await _upload(request)
        prepared = await call(request, photos.prepare_as_staff, actor, slug, public_id, upload)
        await call(request, photos.add_as_staff, actor, slug, public_id, prepared)
    except (Invalid, InvalidForm) as error:
        page = await call(request, photos.staff_page, actor, slug, public_id)
        errors = form_errors(request, error)
        return _page(request, page, staff=True, errors=errors, alt=upload.alt)
    return RedirectResponse(request.url.path, status_code=303)


async def staff_remove(request: Request) -> Response:
    slug, public_id = request.path_params["slug"], request.path_params["public_id"]
    photo_id = request.path_params["photo_id"]
    await call(request, photos.remove_as_staff, current_actor(request), slug, public_id, photo_id)
    back = request.url_for("staff_plan_photos", slug=slug, public_id=public_id).path
    return RedirectResponse(back, status_code=303)


# -- The photos ---------------------------------------------------------------------------------


def _jpeg(data: bytes, public: bool) -> Response:
    cache = PUBLIC_CACHE if public else "private, no-store"
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type="image/jpeg", headers=headers)


async def photo(request: Request) -> Response:
    photo_id, size = request.path_params["photo_id"], request.path_params["size"]
    data, public = await call(request, photos.served, photo_id, size, resident_id(request), None)
    return _jpeg(data, public)


async def staff_photo(request: Request) -> Response:
    photo_id, size = request.path_params["photo_id"], request.path_params["size"]
    actor = current_actor(request)
    data, _public = await call(request, photos.served, photo_id, size, None, actor)
    return _jpeg(data, public=False)


STAFF, POST = Policy.STAFF, ("POST",)

routes = [
    Route("/fotos/{photo_id}/{size}.jpg", photo, methods=["GET"], name="photo"),
    Route("/plannen/{public_id}/fotos", authors_page, methods=["GET"], name="plan_photos"),
    Route("/plannen/{public_id}/fotos", author_add, methods=["POST"], name="plan_photos_add"),
    Route(
        "/plannen/{public_id}/fotos/{photo_id}/weghalen",
        author_remove,
        methods=["POST"],
        name="plan_photo_remove",
    ),
    staff_route(
        "/beheer/fotos/{photo_id}/{size}.jpg", staff_photo, policy=STAFF, name="staff_photo"
    ),
    staff_route(STAFF_PHOTOS, staff_page, policy=STAFF, name="staff_plan_photos"),
    staff_route(STAFF_PHOTOS, staff_add, policy=STAFF, name="staff_plan_photos_add", methods=POST),
    staff_route(
        f"{STAFF_PHOTOS}/{{photo_id}}/weghalen",
        staff_remove,
        policy=STAFF,
        name="staff_plan_photo_remove",
        methods=POST,
    ),
]
