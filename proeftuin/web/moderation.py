"""Rounds and the review queue under /beheer/rondes.

A round is named by its slug and a plan by its public id; services.round_admin checks the area
and that the plan belongs to the round. Every action is a plain form POST answered with 303 (or
the form again with 422); the plan decisions also work in place with htmx.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from proeftuin import i18n
from proeftuin.errors import Invalid, InvalidForm
from proeftuin.i18n import N_
from proeftuin.services.pages import moderation
from proeftuin.vocabulary import (
    ELIGIBILITIES,
    GREEDY_NO_SKIP,
    MIN_VOTE_PERCENT,
    PHASE_CONSEQUENCES,
    RULES,
)
from proeftuin.vocabulary import STAFF_STATUS_NAMES as STATUS_NAMES
from proeftuin.web.helpers import NO_STORE, call, error_text, form_errors, read_form
from proeftuin.web.htmx import hx_redirect, is_htmx, render_page
from proeftuin.web.language import language
from proeftuin.web.markdown import render_markdown
from proeftuin.web.policy import Policy, current_actor, staff_route
from proeftuin.web.state import get_settings
from proeftuin.web.templating import render

ROUNDS = "/beheer/rondes"
ROUND = "/beheer/rondes/{slug}"
PLAN = "/beheer/rondes/{slug}/plannen/{public_id}"

NOTICES = {
    "aangemaakt": N_(
        "De ronde is aangemaakt. Ze staat in de fase concept: bewoners zien haar nog niet."
    ),
    "gewijzigd": N_("De ronde is gewijzigd."),
    "fase": N_("De ronde is naar de volgende fase gegaan."),
    "teruggezet": N_("De ronde is teruggezet naar beoordelen. Alle stemmen zijn vervallen."),
    "accept": N_("Het plan staat op het stembiljet."),
    "ask_changes": N_(
        "De indiener is gevraagd het plan aan te passen en heeft een e-mail gekregen."
    ),
    "reject": N_("Het plan is afgewezen. De indiener heeft een e-mail gekregen."),
    "merge": N_(
        "Het plan is samengevoegd. De indiener krijgt pas later een e-mail: tot dan kunt u het "
        "ongedaan maken zonder dat de indiener iets merkt."
    ),
    "merge_undo": N_("Het samenvoegen is ongedaan gemaakt. Het plan en zijn steun zijn terug."),
    "merge_mail": N_("De indiener krijgt nu een e-mail over het samenvoegen."),
    "note": N_("De notitie is bewaard. Alleen medewerkers van dit gebied zien haar."),
    "checker": N_("Het nakijken van de kosten is toegewezen."),
    "hide": N_("Het plan is verborgen. Bewoners zien de tekst niet meer."),
    "unhide": N_("Het plan is weer zichtbaar."),
}


def _slug(request: Request) -> str:
    return str(request.path_params["slug"])


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("melding", ""))


def moment_formatter(request: Request) -> Callable[[dt.datetime], str]:
    """For templates: a date and time in Dutch local time, "woensdag 3 maart 2027, 09:00 uur"."""
    lang = language(request)

    def moment(value: dt.datetime) -> str:
        return i18n.format_moment(value, lang, relative=False)

    return moment


def _round_url(slug: str, notice: str = "") -> str:
    path = ROUND.format(slug=slug)
    return f"{path}?{urlencode({'melding': notice})}" if notice else path


def _options(request: Request, names: dict[Any, tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Radio buttons: (value, label, hint), translated."""
    lang = language(request)
    return [
        (str(value), i18n.gettext(label, lang), i18n.gettext(hint, lang))
        for value, (label, hint) in names.items()
    ]


# -- Rounds ----------------------------------------------------------------------------------


async def round_list(request: Request) -> Response:
    found = await call(request, moderation.round_list, current_actor(request))
    return render(request, "moderation/rounds.html", {"rounds": found})


async def round_new(request: Request) -> Response:
    return await _round_form(request, None, moderation.RoundInput())


async def round_create(request: Request) -> Response:
    data = moderation.RoundInput.from_form(await read_form(request))
    try:
        round_ = await call(request, moderation.create_round, current_actor(request), data)
    except (Invalid, InvalidForm) as error:
        return await _round_form(request, None, data, form_errors(request, error))
    return hx_redirect(request, _round_url(round_.slug, "aangemaakt"))


async def round_edit(request: Request) -> Response:
    form = await call(request, moderation.round_form, current_actor(request), _slug(request))
    assert form.round is not None
    data = moderation.RoundInput.from_round(form.round)
    return await _round_form(request, _slug(request), data)


async def round_update(request: Request) -> Response:
    data = moderation.RoundInput.from_form(await read_form(request))
    slug = _slug(request)
    try:
        await call(request, moderation.update_round, current_actor(request), slug, data)
    except (Invalid, InvalidForm) as error:
        return await _round_form(request, slug, data, form_errors(request, error))
    return hx_redirect(request, _round_url(slug, "gewijzigd"))


async def _round_form(
    request: Request,
    slug: str | None,
    data: moderation.RoundInput,
    errors: dict[str, str] | None = None,
) -> Response:
    form = await call(request, moderation.round_form, current_actor(request), slug)
    context = {
        "round": form.round,
        "frozen": form.frozen,
        "frozen_fields": moderation.FROZEN_FIELDS,
        "areas": form.areas,
        "data": data,
        "errors": errors or {},
        "ballot_kinds": _options(request, moderation.BALLOT_KINDS),
        "rules": _options(request, RULES),
        "greedy_no_skip": GREEDY_NO_SKIP,
        "min_vote_percent": MIN_VOTE_PERCENT,
        "eligibilities": _options(request, ELIGIBILITIES),
    }
    return render(request, "moderation/round_form.html", context, 422 if errors else 200)


async def round_detail(request: Request) -> Response:
    page = await call(request, moderation.round_page, current_actor(request), _slug(request))
    context = {
        "page": page,
        "round": page.round,
        "notice": _notice(request),
        "ballot_kinds": moderation.KIND_SPECS,
        "rules": RULES,
        "eligibilities": ELIGIBILITIES,
        "status_names": STATUS_NAMES,
        "actor": current_actor(request),
        "problem": page.problem and error_text(request, page.problem),
        "moment": moment_formatter(request),
    }
    return render(request, "moderation/round.html", context)


async def phase_confirm(request: Request) -> Response:
    return await _phase_page(request)


async def phase_advance(request: Request) -> Response:
    form = await read_form(request)
    slug = _slug(request)
    try:
        await call(
            request,
            moderation.advance,
            current_actor(request),
            slug,
            form.get("naar", ""),
        )
    except Invalid as error:
        return await _phase_page(request, form_errors(request, error), 422)
    return hx_redirect(request, _round_url(slug, "fase"))


async def _phase_page(
    request: Request, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    page = await call(request, moderation.round_page, current_actor(request), _slug(request))
    context = {
        "page": page,
        "round": page.round,
        "errors": errors or {},
        "problem": page.problem and error_text(request, page.problem),
        "consequences": PHASE_CONSEQUENCES,
    }
    return render(request, "moderation/phase.html", context, status_code)


async def reset_form(request: Request) -> Response:
    return await _reset_page(request, "")


async def reset(request: Request) -> Response:
    form = await read_form(request)
    slug = _slug(request)
    reason = form.get("reason", "")
    try:
        await call(request, moderation.reset, current_actor(request), slug, reason)
    except Invalid as error:
        return await _reset_page(request, reason, form_errors(request, error), 422)
    return hx_redirect(request, _round_url(slug, "teruggezet"))


async def _reset_page(
    request: Request, reason: str, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    page = await call(request, moderation.round_page, current_actor(request), _slug(request))
    context = {"page": page, "round": page.round, "reason": reason, "errors": errors or {}}
    return render(request, "moderation/reset.html", context, status_code)


# -- The review queue ------------------------------------------------------------------------


async def review_queue(request: Request) -> Response:
    found = await call(request, moderation.queue, current_actor(request), _slug(request))
    context = {
        "queue": found,
        "round": found.round,
        "status_names": STATUS_NAMES,
        "order": list(STATUS_NAMES),
    }
    return render(request, "moderation/queue.html", context)


async def plan_detail(request: Request) -> Response:
    return await _plan_page(request, notice=_notice(request))


async def _plan_page(
    request: Request,
    *,
    notice: str | None = None,
    failed: str = "",
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    review = await call(
        request,
        moderation.plan_review,
        current_actor(request),
        _slug(request),
        str(request.path_params["public_id"]),
    )
    plan = review.plan
    errors = dict(errors or {})
    context = {
        "review": review,
        "round": review.round,
        "plan": plan,
        "body": render_markdown(plan.body),
        "status_names": STATUS_NAMES,
        "notice": notice,
        "swapped": is_htmx(request),
        "failed": failed,
        "general_error": errors.pop("", None),
        "errors": errors,
        "typed": typed or {},
        "reviewable": review.reviewable,
        "frozen": review.frozen,
        "can": review.can,
        "merge_options": [(p.public_id, p.title) for p in review.merge_targets],
        "checker_options": [(str(c.id), c.name) for c in review.checkers],
        "moment": moment_formatter(request),
    }
    return render_page(
        request, "moderation/plan.html", "moderation/_decisions.html", context, status_code
    )


def _plan_url(request: Request, name: str, public_id: str) -> str:
    """The author's link in the mail: a full URL on the public address."""
    path = request.app.url_path_for(name, public_id=public_id)
    return get_settings(request).base_url.rstrip("/") + str(path)


Decision = Callable[..., object]  # moderation.accept and friends: (session, actor, slug, id, ...)


async def _decide(
    request: Request, action: str, decision: Decision, fields: tuple[str, ...], mail_link: str = ""
) -> Response:
    """One decision on a plan: the fragment again for htmx, else back to the plan page.
    ``mail_link`` names the public page the author's mail links to."""
    form = await read_form(request)
    slug, public_id = _slug(request), str(request.path_params["public_id"])
    values = [form.get(name, "") for name in fields]
    if mail_link:
        values.append(_plan_url(request, mail_link, public_id))
    try:
        await call(request, decision, current_actor(request), slug, public_id, *values)
    except (Invalid, InvalidForm) as error:
        return await _plan_page(
            request, failed=action, errors=form_errors(request, error), typed=form, status_code=422
        )
    if is_htmx(request):
        return await _plan_page(request, notice=NOTICES[action])
    path = PLAN.format(slug=slug, public_id=public_id)
    return hx_redirect(request, f"{path}?{urlencode({'melding': action})}")


async def accept(request: Request) -> Response:
    fields = ("official_cost", "cost_explanation")
    return await _decide(request, "accept", moderation.accept, fields)


async def ask_changes(request: Request) -> Response:
    decision = moderation.ask_changes
    return await _decide(request, "ask_changes", decision, ("reason",), mail_link="edit_plan")


async def reject(request: Request) -> Response:
    decision = moderation.reject
    return await _decide(request, "reject", decision, ("public_reason",), mail_link="plan_page")


CONFIRM_FIELD, CONFIRMED = "bevestigd", "ja"


async def merge(request: Request) -> Response:
    """First the confirmation page with both plans in full; merging only when confirmed there."""
    fields = ("into_id", "public_reason")
    form = await read_form(request)
    if form.get(CONFIRM_FIELD) == CONFIRMED:
        return await _decide(request, "merge", moderation.merge, fields, mail_link="plan_page")
    try:
        preview = await call(
            request,
            moderation.merge_preview,
            current_actor(request),
            _slug(request),
            str(request.path_params["public_id"]),
            form.get("into_id", ""),
            form.get("public_reason", ""),
        )
    except (Invalid, InvalidForm) as error:
        return await _plan_page(
            request, failed="merge", errors=form_errors(request, error), typed=form, status_code=422
        )
    context = {
        "preview": preview,
        "round": preview.round,
        "plan": preview.duplicate,
        "markdown": render_markdown,
        "confirm_field": CONFIRM_FIELD,
        "confirmed": CONFIRMED,
        "undo_minutes": moderation.MERGE_UNDO_MINUTES,
    }
    return render(request, "moderation/merge_confirm.html", context, headers=NO_STORE)


async def add_note(request: Request) -> Response:
    return await _decide(request, "note", moderation.add_note, ("note",))


async def assign_cost_check(request: Request) -> Response:
    return await _decide(request, "checker", moderation.assign_cost_check, ("checker",))


async def undo_merge(request: Request) -> Response:
    return await _decide(request, "merge_undo", moderation.undo_merge, ())


async def send_merge_mail(request: Request) -> Response:
    return await _decide(request, "merge_mail", moderation.send_merge_mail, ())


async def hide(request: Request) -> Response:
    return await _decide(request, "hide", moderation.hide, ("reason",))


async def unhide(request: Request) -> Response:
    return await _decide(request, "unhide", moderation.unhide, ())


STAFF, ADMIN = Policy.STAFF, Policy.ADMIN
POST = ("POST",)

routes = [
    staff_route(ROUNDS, round_list, policy=STAFF, name="staff_rounds"),
    staff_route(ROUNDS, round_create, policy=STAFF, name="staff_round_create", methods=POST),
    # Not /beheer/rondes/nieuw: a round titled "Nieuw" would get that slug.
    staff_route("/beheer/nieuwe-ronde", round_new, policy=STAFF, name="staff_round_new"),
    staff_route(ROUND, round_detail, policy=STAFF, name="staff_round"),
    staff_route(f"{ROUND}/wijzigen", round_edit, policy=STAFF, name="staff_round_edit"),
    staff_route(
        f"{ROUND}/wijzigen", round_update, policy=STAFF, name="staff_round_update", methods=POST
    ),
    staff_route(f"{ROUND}/fase", phase_confirm, policy=STAFF, name="staff_round_phase"),
    staff_route(
        f"{ROUND}/fase", phase_advance, policy=STAFF, name="staff_round_advance", methods=POST
    ),
    staff_route(f"{ROUND}/terugzetten", reset_form, policy=ADMIN, name="staff_round_reset_form"),
    staff_route(
        f"{ROUND}/terugzetten", reset, policy=ADMIN, name="staff_round_reset", methods=POST
    ),
    staff_route(f"{ROUND}/plannen", review_queue, policy=STAFF, name="staff_review_queue"),
    staff_route(PLAN, plan_detail, policy=STAFF, name="staff_plan"),
    staff_route(f"{PLAN}/accepteren", accept, policy=STAFF, name="staff_plan_accept", methods=POST),
    staff_route(
        f"{PLAN}/aanpassen", ask_changes, policy=STAFF, name="staff_plan_ask_changes", methods=POST
    ),
    staff_route(f"{PLAN}/afwijzen", reject, policy=STAFF, name="staff_plan_reject", methods=POST),
    staff_route(f"{PLAN}/samenvoegen", merge, policy=STAFF, name="staff_plan_merge", methods=POST),
    staff_route(f"{PLAN}/notitie", add_note, policy=STAFF, name="staff_plan_note", methods=POST),
    staff_route(
        f"{PLAN}/kosten-nakijken",
        assign_cost_check,
        policy=STAFF,
        name="staff_plan_cost_check",
        methods=POST,
    ),
    staff_route(
        f"{PLAN}/samenvoegen/ongedaan",
        undo_merge,
        policy=STAFF,
        name="staff_plan_merge_undo",
        methods=POST,
    ),
    staff_route(
        f"{PLAN}/samenvoegen/mail",
        send_merge_mail,
        policy=STAFF,
        name="staff_plan_merge_mail",
        methods=POST,
    ),
    staff_route(f"{PLAN}/verbergen", hide, policy=STAFF, name="staff_plan_hide", methods=POST),
    staff_route(f"{PLAN}/zichtbaar", unhide, policy=STAFF, name="staff_plan_unhide", methods=POST),
]
