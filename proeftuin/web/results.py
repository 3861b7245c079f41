"""Results: the public results page, "hoe is er geteld?", the tracker list and the open-data
downloads of a published round; and for staff, counting, comparing the rules, the proces-verbaal
(sign-off) and publishing.

Public pages are 404 until the round is published. Staff pages show no tally before the round is
gesloten (docs/decisions.md, Results embargo): the services refuse to count earlier and have
nothing to show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proeftuin import i18n
from proeftuin.db import utcnow
from proeftuin.errors import Invalid, PhaseClosed
from proeftuin.i18n import N_
from proeftuin.services.pages import results
from proeftuin.services.pages.results import Download, ResultView
from proeftuin.vocabulary import RULE_NAMES, RULE_SUMMARIES, VOID_REASONS
from proeftuin.web.charts import Bar, bar_chart
from proeftuin.web.helpers import NO_STORE, call, error_text, form_errors, read_form
from proeftuin.web.htmx import hx_redirect
from proeftuin.web.language import language
from proeftuin.web.policy import Policy, current_actor, staff_route
from proeftuin.web.templating import render

DOWNLOADS = {
    "pabulib": "stemmen.pb",
    "csv": "plannen.csv",
    "json": "uitslag.json",
    "trackers": "stembonnen.txt",
}
# Downloads only: pages carry the visitor's CSRF token and language, so no shared cache keeps them.
CACHE = {"Cache-Control": "public, max-age=300"}


def _helpers(request: Request) -> dict[str, Any]:
    """Formatting in the visitor's language, for the templates."""
    lang = language(request)
    return {
        "say": lambda phrase: results.render(phrase, lang),
        "say_all": lambda phrases: results.render_all(phrases, lang),
        "number": lambda n: results.number(n, lang),
        "money": lambda amount: results.money(amount, lang),
        "percent": lambda share: results.percent(share, lang),
        "rule_names": RULE_NAMES,
        "rule_summaries": RULE_SUMMARIES,
        "void_reasons": VOID_REASONS,
        "downloads": DOWNLOADS,
    }


def command(view: ResultView) -> str:
    """How to recompute the result from the .pb with our own command line."""
    own = view.own.options
    parts = [f"proeftuin allocate {view.slug}.pb --rule {own.rule}"]
    if own.utility is not None:
        parts.append(f"--utility {own.utility} --completion {own.completion}")
    if own.threshold is not None:
        parts.append(f"--threshold {own.threshold}")
    parts.append(f"--tie-break {own.tie_break} --seed {own.seed}")
    return " ".join(parts)


CHART_TEXT = {
    False: (
        N_("Aantal stemmen per plan"),
        N_(
            "Staafdiagram van het aantal stemmen per plan, van veel naar weinig. Plannen met een "
            "vinkje gaan door. Dezelfde getallen staan in de lijst van plannen op deze pagina."
        ),
        N_("Het plan met de meeste stemmen is {title}: {count}."),
    ),
    True: (
        N_("Aantal punten per plan"),
        N_(
            "Staafdiagram van het aantal punten per plan, van veel naar weinig. Plannen met een "
            "vinkje gaan door. Dezelfde getallen staan in de lijst van plannen op deze pagina."
        ),
        N_("Het plan met de meeste punten is {title}: {count}."),
    ),
}


def chart(request: Request, view: ResultView) -> Markup:
    lang = language(request)
    plans = view.own.plans
    t = _translate(request)
    title, description, top = CHART_TEXT[view.points]
    described = t(description)
    if plans:
        described += " " + t(top, title=plans[0].title, count=results.number(plans[0].votes, lang))
    return bar_chart(
        [Bar(p.title, p.votes, results.number(p.votes, lang), highlighted=p.funded) for p in plans],
        chart_id="steun",
        title=t(title),
        description=described,
    )


def _translate(request: Request) -> Callable[..., str]:
    lang = language(request)
    return lambda message, **params: i18n.gettext(message, lang, **params)


# -- public pages ---------------------------------------------------------------------------------


async def result_page(request: Request) -> Response:
    view = await call(request, results.public_result, request.path_params["slug"])
    context = {
        **_helpers(request),
        "view": view,
        "chart": chart(request, view),
        "command": command(view),
    }
    return render(request, "results/page.html", context)


async def explained_page(request: Request) -> Response:
    view = await call(request, results.public_result, request.path_params["slug"])
    context = {**_helpers(request), "view": view, "command": command(view)}
    return render(request, "results/explained.html", context)


async def trackers_page(request: Request) -> Response:
    typed = request.query_params.get("stembon", "").strip()[:40]
    page = await call(request, results.trackers_page, request.path_params["slug"], typed)
    context = {
        **_helpers(request),
        "view": page.view,
        "typed": page.typed,
        "found": page.found,
        "valid": page.valid,
        "trackers": list(page.trackers),
    }
    return render(request, "results/trackers.html", context)


def _download(found: Download) -> Response:
    return Response(
        found.content,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "ETag": f'"{found.sha256}"',
            "Access-Control-Allow-Origin": "*",
            **CACHE,
        },
    )


async def download_pabulib(request: Request) -> Response:
    slug = request.path_params["slug"]
    return _download(await call(request, results.pabulib_file, slug))


async def download_csv(request: Request) -> Response:
    slug = request.path_params["slug"]
    return _download(await call(request, results.plans_csv, slug))


async def download_json(request: Request) -> Response:
    slug = request.path_params["slug"]
    return _download(await call(request, results.result_json, slug))


async def download_trackers(request: Request) -> Response:
    slug = request.path_params["slug"]
    return _download(await call(request, results.trackers_file, slug))


# -- staff pages ----------------------------------------------------------------------------------


async def staff_page(
    request: Request, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    actor = current_actor(request)
    found = await call(request, results.staff_result, actor, request.path_params["slug"])
    context = {
        **_helpers(request),
        "staff": found,
        "view": found.view,
        "errors": errors or {},
        "notice": request.query_params.get("melding", ""),
        "command": command(found.view) if found.view is not None else "",
    }
    return render(request, "results/staff.html", context, status_code, NO_STORE)


async def staff_result(request: Request) -> Response:
    return await staff_page(request)


async def _staff_action(
    request: Request, action: Callable[..., Any], *args: Any, notice: str, **kwargs: Any
) -> Response:
    """Run one staff step; a refusal shows the page again with the reason."""
    slug = request.path_params["slug"]
    try:
        await call(request, action, current_actor(request), slug, *args, **kwargs)
    except (Invalid, PhaseClosed) as error:
        return await staff_page(request, _problems(request, error), error.status_code)
    return hx_redirect(request, f"/beheer/rondes/{slug}/uitslag?melding={notice}")


def _problems(request: Request, error: Invalid | PhaseClosed) -> dict[str, str]:
    if isinstance(error, Invalid):
        return form_errors(request, error)
    return {"": error_text(request, error)}


async def staff_count(request: Request) -> Response:
    return await _staff_action(request, results.count, utcnow(), notice="geteld")


async def staff_sign_off(request: Request) -> Response:
    form = await read_form(request)
    return await _staff_action(
        request,
        results.sign_off,
        confirmed=form.get("confirmed") == "1",
        decision=form.get("decision", ""),
        now=utcnow(),
        notice="vastgesteld",
    )


async def staff_publish(request: Request) -> Response:
    return await _staff_action(request, results.publish, utcnow(), notice="gepubliceerd")


async def staff_compare(request: Request) -> Response:
    actor = current_actor(request)
    found = await call(request, results.staff_result, actor, request.path_params["slug"])
    context = {**_helpers(request), "staff": found, "view": found.view}
    return render(request, "results/compare.html", context, headers=NO_STORE)


async def staff_record(request: Request) -> Response:
    actor = current_actor(request)
    found = await call(request, results.proces_verbaal, actor, request.path_params["slug"])
    context = {
        **_helpers(request),
        "staff": found,
        "view": found.view,
        "command": command(found.view) if found.view is not None else "",
    }
    return render(request, "results/record.html", context, headers=NO_STORE)


PUBLIC = "/rondes/{slug}/uitslag"
STAFF = "/beheer/rondes/{slug}/uitslag"

routes = [
    Route(PUBLIC, result_page, methods=["GET"], name="results_page"),
    Route(f"{PUBLIC}/uitleg", explained_page, methods=["GET"], name="results_explained"),
    Route(f"{PUBLIC}/stembonnen", trackers_page, methods=["GET"], name="results_trackers"),
    Route(f"{PUBLIC}/{DOWNLOADS['pabulib']}", download_pabulib, name="results_pabulib"),
    Route(f"{PUBLIC}/{DOWNLOADS['csv']}", download_csv, name="results_csv"),
    Route(f"{PUBLIC}/{DOWNLOADS['json']}", download_json, name="results_json"),
    Route(f"{PUBLIC}/{DOWNLOADS['trackers']}", download_trackers, name="results_trackers_txt"),
    staff_route(STAFF, staff_result, policy=Policy.STAFF, name="staff_result"),
    staff_route(
        f"{STAFF}/tellen",
        staff_count,
        policy=Policy.STAFF,
        name="staff_result_count",
        methods=["POST"],
    ),
    staff_route(
        f"{STAFF}/vergelijken", staff_compare, policy=Policy.STAFF, name="staff_result_compare"
    ),
    staff_route(
        f"{STAFF}/vaststellen",
        staff_sign_off,
        policy=Policy.STAFF,
        name="staff_result_sign_off",
        methods=["POST"],
    ),
    staff_route(
        f"{STAFF}/proces-verbaal", staff_record, policy=Policy.STAFF, name="staff_result_record"
    ),
    staff_route(
        f"{STAFF}/publiceren",
        staff_publish,
        policy=Policy.STAFF,
        name="staff_result_publish",
        methods=["POST"],
    ),
]
