"""Residents' own plans: propose, edit, withdraw (with a confirmation step), and support others.

Every form works without JavaScript. Support is one button: with htmx only the count and the
button are swapped; without it the form posts and the browser comes back to the page it was on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from proeftuin import i18n, vocabulary
from proeftuin.errors import InvalidForm
from proeftuin.services.pages import plans
from proeftuin.services.pages import residents as residents_page
from proeftuin.services.pages.plans import PlanInput
from proeftuin.web.browse import labels
from proeftuin.web.helpers import call, form_errors
from proeftuin.web.htmx import hx_redirect, is_htmx, vary_on_htmx
from proeftuin.web.language import language
from proeftuin.web.residents import end_resident_session, form_of, resident_id, to_sign_in
from proeftuin.web.security import local_path
from proeftuin.web.state import get_database, get_settings
from proeftuin.web.templating import render

# A new plan's form starts empty.
EMPTY = PlanInput("", "", "", "", "", "", False)


def _form_page(
    request: Request,
    *,
    round_: plans.RoundBrief,
    values: PlanInput,
    action: str,
    plan: plans.AuthorPlan | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    lang = language(request)
    context = labels(
        round=round_,
        values=values,
        action=action,
        plan=plan,
        errors=errors or {},
        theme_options=[
            (code, i18n.gettext(label, lang)) for code, label in vocabulary.THEME_LABELS.items()
        ],
    )
    return render(request, "plans/form.html", context, status_code=422 if errors else 200)


async def _signed_in_with_name(request: Request, come_back: str) -> int | Response:
    """The resident's id, or where to send them first: to sign in, or to give their name."""
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, come_back)
    proposer = await call(request, plans.proposer, rid)
    if proposer is None:
        end_resident_session(request)
        return to_sign_in(request, come_back)
    if not proposer.display_name:
        profile = request.url_for("resident_profile").path
        return hx_redirect(request, f"{profile}?{urlencode({'next': come_back})}")
    return rid


async def propose_form(request: Request) -> Response:
    slug = request.path_params["slug"]
    round_ = await call(request, plans.proposal_round, slug)
    who = await _signed_in_with_name(request, request.url.path)
    if isinstance(who, Response):
        return who
    return _form_page(request, round_=round_, values=EMPTY, action=request.url.path)


async def propose(request: Request) -> Response:
    slug = request.path_params["slug"]
    round_ = await call(request, plans.proposal_round, slug)
    who = await _signed_in_with_name(request, request.url.path)
    if isinstance(who, Response):
        return who
    values = PlanInput.from_form(await form_of(request))
    try:
        settings = get_settings(request)
        public_id = await call(
            request, plans.propose, slug, who, values, settings.base_url, settings.site_name
        )
    except InvalidForm as error:
        errors = form_errors(request, error)
        return _form_page(
            request, round_=round_, values=values, action=request.url.path, errors=errors
        )
    response = hx_redirect(request, request.url_for("plan_page", public_id=public_id).path)
    # The confirmation mail goes out after the answer, as the sign-in mail does.
    response.background = BackgroundTask(
        residents_page.deliver_pending, get_database(request), settings
    )
    return response


async def edit_form(request: Request) -> Response:
    public_id = request.path_params["public_id"]
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, request.url.path)
    plan = await call(request, plans.editable_plan, public_id, rid)
    return _form_page(
        request, round_=plan.round, values=plan.values, action=request.url.path, plan=plan
    )


async def edit(request: Request) -> Response:
    public_id = request.path_params["public_id"]
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, request.url.path)
    values = PlanInput.from_form(await form_of(request))
    try:
        await call(request, plans.edit, public_id, rid, values)
    except InvalidForm as error:
        plan = await call(request, plans.editable_plan, public_id, rid)
        errors = form_errors(request, error)
        return _form_page(
            request,
            round_=plan.round,
            values=values,
            action=request.url.path,
            plan=plan,
            errors=errors,
        )
    return hx_redirect(request, request.url_for("plan_page", public_id=public_id).path)


async def withdraw_confirm(request: Request) -> Response:
    public_id = request.path_params["public_id"]
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, request.url.path)
    plan = await call(request, plans.withdrawable_plan, public_id, rid)
    return render(request, "plans/withdraw.html", labels(plan=plan))


async def withdraw(request: Request) -> Response:
    public_id = request.path_params["public_id"]
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, request.url.path)
    await call(request, plans.withdraw, public_id, rid)
    return hx_redirect(request, request.url_for("my_plans").path)


async def support(request: Request) -> Response:
    public_id = request.path_params["public_id"]
    plan_path = request.url_for("plan_page", public_id=public_id).path
    form = await form_of(request)
    back = local_path(form.get("next"), plan_path)
    rid = resident_id(request)
    if rid is None:
        return to_sign_in(request, back)
    await call(request, plans.set_support, public_id, rid, form.get("steun") == "1")
    if not is_htmx(request):
        # Back to the same place on the page: the plan's support block.
        where = f"{back.split('#')[0]}#steun-{public_id}"
        return vary_on_htmx(RedirectResponse(where, status_code=303))
    view = await call(request, plans.support_view, public_id, rid)
    context: dict[str, Any] = labels(
        item=view,
        threshold=view.support_threshold,
        signed_in=True,
        back=back,
    )
    return vary_on_htmx(render(request, "plans/_support.html", context))


routes = [
    Route("/rondes/{slug}/plannen/nieuw", propose_form, methods=["GET"], name="propose_plan"),
    Route("/rondes/{slug}/plannen/nieuw", propose, methods=["POST"], name="propose_plan_post"),
    Route("/plannen/{public_id}/aanpassen", edit_form, methods=["GET"], name="edit_plan"),
    Route("/plannen/{public_id}/aanpassen", edit, methods=["POST"], name="edit_plan_post"),
    Route(
        "/plannen/{public_id}/intrekken", withdraw_confirm, methods=["GET"], name="withdraw_plan"
    ),
    Route("/plannen/{public_id}/intrekken", withdraw, methods=["POST"], name="withdraw_plan_post"),
    Route("/plannen/{public_id}/steun", support, methods=["POST"], name="support_plan"),
]
