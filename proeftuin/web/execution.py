"""After the vote: what happened to a published round's funded plans (with its CSV and Atom
feed, and an Atom feed per area), and the staff pages that record it.

The public pages are 404 until the round is published. Staff of the plan's area (and admins)
record a funded plan's state and post dated updates; the page tier checks the area.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proeftuin import i18n
from proeftuin.errors import Invalid, InvalidForm
from proeftuin.i18n import N_
from proeftuin.services.pages import execution
from proeftuin.services.pages.execution import ExecutionInput
from proeftuin.vocabulary import EXECUTION_LABELS
from proeftuin.web.browse import labels
from proeftuin.web.helpers import NO_STORE, call, form_errors, read_form
from proeftuin.web.htmx import hx_redirect
from proeftuin.web.language import language
from proeftuin.web.policy import Policy, current_actor, staff_route
from proeftuin.web.results import _download
from proeftuin.web.state import get_settings
from proeftuin.web.templating import render

STATUSES = tuple(EXECUTION_LABELS.items())
ATOM_TYPE = "application/atom+xml; charset=utf-8"
FEED_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}
STAFF_ROUND = "/beheer/rondes/{slug}/uitvoering"
STAFF_PLAN = "/beheer/rondes/{slug}/uitvoering/{public_id}"
NOTICES = {"opgeslagen": N_("De stand is opgeslagen."), "bericht": N_("Het bericht staat online.")}


# -- public ---------------------------------------------------------------------------------------


async def round_page(request: Request) -> Response:
    view = await call(request, execution.round_execution, request.path_params["slug"])
    return render(request, "execution/round.html", labels(view=view))


async def round_csv(request: Request) -> Response:
    return _download(await call(request, execution.execution_csv, request.path_params["slug"]))


async def round_feed(request: Request) -> Response:
    base = get_settings(request).base_url
    content = await call(request, execution.round_feed, request.path_params["slug"], base)
    return Response(content, media_type=ATOM_TYPE, headers=FEED_HEADERS)


async def area_feed(request: Request) -> Response:
    base = get_settings(request).base_url
    content = await call(request, execution.area_feed, request.path_params["slug"], base)
    return Response(content, media_type=ATOM_TYPE, headers=FEED_HEADERS)


# -- staff ----------------------------------------------------------------------------------------


async def staff_round(request: Request) -> Response:
    view = await call(request, execution.staff_round, current_actor(request), _slug(request))
    return render(request, "execution/staff_round.html", labels(view=view), headers=NO_STORE)


async def staff_plan(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    failed: str = "",
    status_code: int = 200,
) -> Response:
    view = await call(
        request, execution.staff_plan, current_actor(request), _slug(request), _public_id(request)
    )
    lang = language(request)
    context = labels(
        view=view,
        errors=errors or {},
        typed=typed or {},
        failed=failed,
        notice=NOTICES.get(request.query_params.get("melding", "")),
        status_options=[
            (code, i18n.gettext(name, lang)) for code, name in EXECUTION_LABELS.items()
        ],
    )
    return render(
        request, "execution/staff_plan.html", context, status_code=status_code, headers=NO_STORE
    )


async def record(request: Request) -> Response:
    form = await read_form(request)
    data = ExecutionInput.from_form(form)
    args = (current_actor(request), _slug(request), _public_id(request))
    try:
        await call(request, execution.record, *args, data)
    except (Invalid, InvalidForm) as error:
        errors = form_errors(request, error)
        return await staff_plan(request, errors=errors, typed=form, failed="state", status_code=422)
    return _back(request, "opgeslagen")


async def post_update(request: Request) -> Response:
    form = await read_form(request)
    args = (current_actor(request), _slug(request), _public_id(request))
    try:
        await call(request, execution.post_update, *args, form.get("body", ""))
    except (Invalid, InvalidForm) as error:
        errors = form_errors(request, error)
        return await staff_plan(
            request, errors=errors, typed=form, failed="update", status_code=422
        )
    return _back(request, "bericht")


def _back(request: Request, notice: str) -> Response:
    path = STAFF_PLAN.format(slug=_slug(request), public_id=_public_id(request))
    return hx_redirect(request, f"{path}?{urlencode({'melding': notice})}")


def _slug(request: Request) -> str:
    return str(request.path_params["slug"])


def _public_id(request: Request) -> str:
    return str(request.path_params["public_id"])


STAFF, POST = Policy.STAFF, ("POST",)

routes = [
    Route("/rondes/{slug}/uitvoering", round_page, methods=["GET"], name="execution_page"),
    Route("/rondes/{slug}/uitvoering.csv", round_csv, methods=["GET"], name="execution_csv"),
    Route("/rondes/{slug}/uitvoering.atom", round_feed, methods=["GET"], name="execution_feed"),
    Route("/wijken/{slug}/uitvoering.atom", area_feed, methods=["GET"], name="area_feed"),
    staff_route(STAFF_ROUND, staff_round, policy=STAFF, name="staff_execution"),
    staff_route(STAFF_PLAN, staff_plan, policy=STAFF, name="staff_execution_plan"),
    staff_route(
        f"{STAFF_PLAN}/stand", record, policy=STAFF, name="staff_execution_record", methods=POST
    ),
    staff_route(
        f"{STAFF_PLAN}/bericht",
        post_update,
        policy=STAFF,
        name="staff_execution_update",
        methods=POST,
    ),
]
