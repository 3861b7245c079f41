"""The conversation on plans: residents comment, answer, edit, delete and report under a plan;
staff of the plan's area answer, approve, hide and pin, from the round's queue and the plan's
discussion page, and download it as CSV.

Every form works without JavaScript (a POST answered with 303 back to the discussion, or the page
again with the message). With htmx a new comment replaces the discussion block in place.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from proeftuin.db import utcnow
from proeftuin.errors import Invalid
from proeftuin.i18n import N_
from proeftuin.services.pages import comments
from proeftuin.services.pages.comments import CommentInput
from proeftuin.web.downloads import FORMAT_FIELD, staff_download
from proeftuin.web.helpers import NO_STORE, call, error_text, read_form
from proeftuin.web.htmx import hx_redirect, is_htmx, vary_on_htmx
from proeftuin.web.markdown import render_markdown
from proeftuin.web.policy import Policy, current_actor, staff_route
from proeftuin.web.residents import end_resident_session, resident_id, to_sign_in
from proeftuin.web.security import client_ip, local_path
from proeftuin.web.state import get_settings
from proeftuin.web.templating import render

ANCHOR = "reacties"
COMMENT_FIELD = "reactie"
STAFF_PLAN = "/beheer/rondes/{slug}/plannen/{public_id}/reacties"
NOTICES = {
    "geplaatst": N_("Uw reactie is geplaatst."),
    "wacht": N_("Dank u wel. De wijkraad bekijkt uw reactie eerst; daarna ziet iedereen haar."),
    "aangepast": N_("Uw reactie is aangepast."),
    "verwijderd": N_("Uw reactie is verwijderd."),
    "gemeld": N_("Dank u wel. De wijkraad bekijkt de reactie die u meldde."),
    "besloten": N_("Uw besluit is opgeslagen."),
}


def _public_id(request: Request) -> str:
    return str(request.path_params["public_id"])


def _plan_path(request: Request, notice: str = "") -> str:
    path = request.url_for("plan_page", public_id=_public_id(request)).path
    query = f"?{urlencode({'melding': notice})}" if notice else ""
    return f"{path}{query}#{ANCHOR}"


def discussion_context(request: Request, discussion: comments.Discussion) -> dict[str, Any]:
    """What templates/plans/_discussion.html needs besides the plan page's own context."""
    notice = NOTICES.get(request.query_params.get("melding", ""))
    return {
        "discussion": discussion,
        "markdown": render_markdown,
        "comment_values": CommentInput(""),
        "comment_errors": {},
        "comment_notice": notice,
    }


async def plan_discussion(request: Request, public_id: str) -> dict[str, Any]:
    """For the plan page: the discussion as this visitor sees it."""
    found = await call(request, comments.discussion, public_id, resident_id(request), utcnow())
    return discussion_context(request, found)


async def _signed_in(request: Request) -> int | Response:
    """The resident's id, or where to send them first: to sign in, or to give their name."""
    come_back = _plan_path(request)
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, come_back)
    name = await call(request, comments.commenter_name, rid)
    if name is None:
        end_resident_session(request)
        return to_sign_in(request, come_back)
    if not name:
        profile = request.url_for("resident_profile").path
        return hx_redirect(request, f"{profile}?{urlencode({'next': come_back})}")
    return rid


async def post(request: Request) -> Response:
    who = await _signed_in(request)
    if isinstance(who, Response):
        return who
    form = await read_form(request)
    values = CommentInput(
        body=form.get("tekst", ""),
        kind=form.get("soort", "reactie"),
        parent_id=form.get("antwoord_op", ""),
    )
    settings = get_settings(request)
    try:
        await call(
            request,
            comments.post,
            _public_id(request),
            who,
            values,
            secret_key=settings.secret_key,
            ip_key=comments.hash_key(settings.secret_key, client_ip(request)),
            now=utcnow(),
            base_url=settings.base_url,
        )
    except Invalid as error:
        return await _again(request, who, values, {error.field: error_text(request, error)})
    found = await call(request, comments.discussion, _public_id(request), who, utcnow())
    notice = "wacht" if found.premoderated else "geplaatst"
    if not is_htmx(request):
        return vary_on_htmx(RedirectResponse(_plan_path(request, notice), status_code=303))
    context = {**discussion_context(request, found), "signed_in": True}
    context["comment_notice"] = NOTICES[notice]
    return vary_on_htmx(render(request, "plans/_discussion.html", context, headers=NO_STORE))


async def _again(
    request: Request, who: int, values: CommentInput, errors: dict[str, str]
) -> Response:
    """The form again with its message: the discussion block for htmx, else a page with it."""
    found = await call(request, comments.discussion, _public_id(request), who, utcnow())
    context = {**discussion_context(request, found), "signed_in": True}
    context.update(comment_values=values, comment_errors=errors)
    template = "plans/_discussion.html" if is_htmx(request) else "comments/form.html"
    return vary_on_htmx(render(request, template, context, status_code=422, headers=NO_STORE))


async def edit_form(request: Request) -> Response:
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, _plan_path(request))
    comment_id = request.query_params.get(COMMENT_FIELD, "")
    found = await call(
        request, comments.own_comment, _public_id(request), comment_id, rid, utcnow()
    )
    return _edit_page(request, found, found.body)


def _edit_page(
    request: Request, found: comments.CommentView, body: str, error: str | None = None
) -> Response:
    context = {
        "comment": found,
        "public_id": _public_id(request),
        "body": body,
        "errors": {"tekst": error} if error else {},
    }
    return render(
        request, "comments/edit.html", context, status_code=422 if error else 200, headers=NO_STORE
    )


async def edit(request: Request) -> Response:
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, _plan_path(request))
    form = await read_form(request)
    comment_id, body = form.get(COMMENT_FIELD, ""), form.get("tekst", "")
    try:
        await call(request, comments.edit, _public_id(request), comment_id, rid, body, utcnow())
    except Invalid as error:
        found = await call(
            request, comments.own_comment, _public_id(request), comment_id, rid, utcnow()
        )
        return _edit_page(request, found, body, error_text(request, error))
    return hx_redirect(request, _plan_path(request, "aangepast"))


async def delete(request: Request) -> Response:
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, _plan_path(request))
    form = await read_form(request)
    await call(request, comments.delete, _public_id(request), form.get(COMMENT_FIELD, ""), rid)
    return hx_redirect(request, _plan_path(request, "verwijderd"))


async def report_form(request: Request) -> Response:
    comment_id = request.query_params.get(COMMENT_FIELD, "")
    if resident_id(request) is None:
        back = f"{request.url.path}?{urlencode({COMMENT_FIELD: comment_id})}"
        return to_sign_in(request, back)
    found = await call(request, comments.reportable, _public_id(request), comment_id, utcnow())
    return _report_page(request, found, "")


def _report_page(
    request: Request, found: comments.CommentView, reason: str, error: str | None = None
) -> Response:
    context = {
        "comment": found,
        "public_id": _public_id(request),
        "reason": reason,
        "markdown": render_markdown,
        "errors": {"reden": error} if error else {},
    }
    return render(request, "comments/report.html", context, status_code=422 if error else 200)


async def report(request: Request) -> Response:
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, _plan_path(request))
    form = await read_form(request)
    comment_id, reason = form.get(COMMENT_FIELD, ""), form.get("reden", "")
    try:
        await call(request, comments.report, _public_id(request), comment_id, rid, reason)
    except Invalid as error:
        found = await call(request, comments.reportable, _public_id(request), comment_id, utcnow())
        return _report_page(request, found, reason, error_text(request, error))
    return hx_redirect(request, _plan_path(request, "gemeld"))


# -- Staff -----------------------------------------------------------------------------------


def _staff_plan_path(request: Request, notice: str = "") -> str:
    path = STAFF_PLAN.format(slug=request.path_params["slug"], public_id=_public_id(request))
    return f"{path}?{urlencode({'melding': notice})}" if notice else path


async def staff_queue(request: Request) -> Response:
    slug = str(request.path_params["slug"])
    found = await call(request, comments.comment_queue, current_actor(request), slug, utcnow())
    notice = NOTICES.get(request.query_params.get("melding", ""))
    context = {"queue": found, "round": found.round, "notice": notice, "markdown": render_markdown}
    return render(request, "comments/queue.html", context)


async def staff_discussion(request: Request) -> Response:
    return await _staff_page(request)


async def _staff_page(
    request: Request, values: CommentInput | None = None, errors: dict[str, str] | None = None
) -> Response:
    slug = str(request.path_params["slug"])
    found = await call(
        request,
        comments.staff_discussion,
        current_actor(request),
        slug,
        _public_id(request),
        utcnow(),
    )
    context = {
        **discussion_context(request, found),
        "round": found.round,
        "signed_in": False,
        "staff_slug": slug,
        "back": _staff_plan_path(request),
    }
    context.update(comment_values=values or CommentInput(""), comment_errors=errors or {})
    return render(request, "comments/staff.html", context, status_code=422 if errors else 200)


async def staff_post(request: Request) -> Response:
    form = await read_form(request)
    values = CommentInput(
        body=form.get("tekst", ""),
        kind=form.get("soort", "reactie"),
        parent_id=form.get("antwoord_op", ""),
    )
    slug = str(request.path_params["slug"])
    try:
        await call(
            request, comments.staff_post, current_actor(request), slug, _public_id(request), values
        )
    except Invalid as error:
        return await _staff_page(request, values, {error.field: error_text(request, error)})
    return hx_redirect(request, _staff_plan_path(request, "geplaatst"))


async def staff_decide(request: Request) -> Response:
    form = await read_form(request)
    slug = str(request.path_params["slug"])
    back = local_path(form.get("next"), _staff_plan_path(request))
    try:
        await call(
            request,
            comments.decide,
            current_actor(request),
            slug,
            _public_id(request),
            form.get(COMMENT_FIELD, ""),
            form.get("actie", ""),
            form.get("reden", ""),
        )
    except Invalid as error:
        return await _staff_page(request, None, {error.field: error_text(request, error)})
    path, _, _query = back.partition("?")
    return hx_redirect(request, f"{path}?{urlencode({'melding': 'besloten'})}")


async def staff_csv(request: Request) -> Response:
    slug = str(request.path_params["slug"])
    public_id = _public_id(request)
    format_ = request.query_params.get(FORMAT_FIELD, "csv")
    found = await call(
        request, comments.discussion_csv, current_actor(request), slug, public_id, format_
    )
    return staff_download(found, f"reacties-{public_id}")


STAFF, POST = Policy.STAFF, ("POST",)
PUBLIC = "/plannen/{public_id}/reacties"

routes = [
    Route(PUBLIC, post, methods=["POST"], name="post_comment"),
    Route(f"{PUBLIC}/aanpassen", edit_form, methods=["GET"], name="edit_comment"),
    Route(f"{PUBLIC}/aanpassen", edit, methods=["POST"], name="edit_comment_post"),
    Route(f"{PUBLIC}/verwijderen", delete, methods=["POST"], name="delete_comment"),
    Route(f"{PUBLIC}/melden", report_form, methods=["GET"], name="report_comment"),
    Route(f"{PUBLIC}/melden", report, methods=["POST"], name="report_comment_post"),
    staff_route(
        "/beheer/rondes/{slug}/reacties", staff_queue, policy=STAFF, name="staff_comment_queue"
    ),
    staff_route(STAFF_PLAN, staff_discussion, policy=STAFF, name="staff_discussion"),
    staff_route(STAFF_PLAN, staff_post, policy=STAFF, name="staff_comment_post", methods=POST),
    staff_route(
        f"{STAFF_PLAN}/besluit",
        staff_decide,
        policy=STAFF,
        name="staff_comment_decide",
        methods=POST,
    ),
    staff_route(f"{STAFF_PLAN}.csv", staff_csv, policy=STAFF, name="staff_comment_csv"),
]
