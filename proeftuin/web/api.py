"""A small, read-only JSON API for open data, described by OpenAPI 3.1 (``/api/v1/openapi.json``).

- ``GET /api/v1/rounds``: every public round (drafts in concept are not public).
- ``GET /api/v1/rounds/{slug}/results``: 404 until the result is published; then the rule, the
  budget, the funded plans (ids as in the Pabulib export), every plan, turnout, and where to get
  the ballots (``pabulib_url``) with the SHA-256 of exactly those bytes.

Responses are the same bytes on every request (keys sorted), open to any origin.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proeftuin.errors import DomainError
from proeftuin.services.pages import api
from proeftuin.services.pages.api import (
    AreaRounds,
    EventView,
    ExecutionState,
    ExecutionStatus,
    Phase,
    ResultView,
)
from proeftuin.web.helpers import call
from proeftuin.web.results import DOWNLOADS
from proeftuin.web.state import get_settings

PREFIX = "/api/v1"
HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=60"}


def json_response(data: Any, status_code: int = 200) -> Response:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Response(
        text.encode("utf-8"),
        status_code=status_code,
        media_type="application/json",
        headers=HEADERS,
    )


def rounds_document(
    found: list[AreaRounds], event_of: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    return [
        {
            "slug": summary.slug,
            "event": (event_of or {}).get(summary.slug),
            "title": summary.title,
            "area": area.name,
            "phase": summary.phase.value,
            "budget": summary.budget,
            "tie_break_sha256": summary.tie_break_sha256,
        }
        for area in found
        for summary in area.rounds
    ]


async def rounds_index(request: Request) -> Response:
    listing = await call(request, api.rounds_listing)
    return json_response(rounds_document(listing.areas, listing.events))


def event_document(view: EventView) -> dict[str, Any]:
    return {
        "slug": view.slug,
        "title": view.title,
        "description": view.description,
        "rounds": [
            {
                "slug": r.slug,
                "title": r.title,
                "area": r.area_name,
                "area_slug": r.area_slug,
                "citywide": r.citywide,
                "phase": r.phase.value,
                "budget": r.budget,
                "voting_starts_at": _iso(r.voting_starts_at),
                "voting_ends_at": _iso(r.voting_ends_at),
            }
            for r in view.rounds
        ],
    }


def _iso(at: dt.datetime | None) -> str | None:
    return None if at is None else at.isoformat()


async def event_index(request: Request) -> Response:
    try:
        view = await call(request, api.public_event, request.path_params["event"])
    except DomainError as error:
        return json_response({"error": error.message}, error.status_code)
    return json_response(event_document(view))


def result_document(
    view: ResultView,
    base_url: str,
    executions: Mapping[str, ExecutionState] | None = None,
    points: Mapping[str, tuple[float | None, float | None]] | None = None,
) -> dict[str, Any]:
    own = view.own
    executions = executions or {}
    points = points or {}
    turnout = view.turnout
    return {
        "rule": view.rule,
        "budget": view.budget,
        "selected": list(own.selected),
        "plans": [
            {
                "id": plan.id,
                "title": plan.title,
                "cost": plan.cost,
                "votes": plan.votes,
                "funded": plan.funded,
                "execution": _execution(executions.get(plan.id)),
                "latitude": points.get(plan.id, (None, None))[0],
                "longitude": points.get(plan.id, (None, None))[1],
            }
            for plan in own.plans
        ],
        "turnout": {
            "ballots": turnout.ballots,
            "online": turnout.online,
            "paper": turnout.paper,
            "codes_issued": turnout.codes_issued,
            "codes_used": turnout.codes_used,
            "codes_revoked": turnout.codes_revoked,
            "share_of_codes_used": turnout.share_of_codes_used,
        },
        "pabulib_url": f"{base_url.rstrip('/')}/rondes/{view.slug}/uitslag/{DOWNLOADS['pabulib']}",
        "sha256": view.sha256,
        "tie_break": {
            "seed": view.tie_break_seed,
            "sha256": view.tie_break_sha256,
            "matches_commitment": view.tie_break_matches,
        },
    }


def _execution(state: ExecutionState | None) -> dict[str, Any] | None:
    """How a funded plan is carried out; None for a plan that was not funded."""
    if state is None:
        return None
    return {
        "status": state.status,
        "spent": state.spent,
        "expected": state.expected or None,
        "updated_at": state.updated_at.astimezone(dt.UTC).isoformat() if state.updated_at else None,
    }


async def round_results(request: Request) -> Response:
    slug = request.path_params["slug"]
    try:
        view, executions = await call(request, api.published_with_execution, slug)
    except DomainError as error:
        return json_response({"error": error.message}, error.status_code)
    points = await call(request, api.plan_points, slug)
    return json_response(result_document(view, get_settings(request).base_url, executions, points))


async def openapi(request: Request) -> Response:
    return json_response(openapi_document(get_settings(request).base_url))


def _plan_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", "title", "cost", "votes", "funded"],
        "properties": {
            "id": {"type": "string", "description": "The plan's id, as in the Pabulib export."},
            "title": {"type": "string"},
            "cost": {"type": "integer", "description": "Whole euros."},
            "votes": {
                "type": "integer",
                "description": "What the rule counted: approvals, or points on points ballots.",
            },
            "funded": {"type": "boolean"},
            "execution": {
                "type": ["object", "null"],
                "description": "How a funded plan is carried out; null when not funded.",
                "properties": {
                    "status": {"type": "string", "enum": [s.value for s in ExecutionStatus]},
                    "spent": {"type": "integer", "description": "Whole euros spent so far."},
                    "expected": {
                        "type": ["string", "null"],
                        "description": "When it should be done: 2027-05 (month), 2027-Q2.",
                    },
                    "updated_at": {"type": ["string", "null"], "format": "date-time"},
                },
            },
            "latitude": {
                "type": ["number", "null"],
                "description": "The plan's place on the map (WGS84), or null without one.",
            },
            "longitude": {"type": ["number", "null"]},
        },
    }


def _event_schema() -> dict[str, Any]:
    text, when = {"type": "string"}, {"type": ["string", "null"], "format": "date-time"}
    round_ = {
        "type": "object",
        "properties": {
            "slug": text,
            "title": text,
            "area": {"type": "string", "description": "The area's name."},
            "area_slug": text,
            "citywide": {"type": "boolean", "description": "The round of the whole gemeente."},
            "phase": {"type": "string", "enum": [p.value for p in Phase]},
            "budget": {"type": "integer", "description": "Whole euros."},
            "voting_starts_at": when,
            "voting_ends_at": when,
        },
    }
    return {
        "type": "object",
        "required": ["slug", "title", "rounds"],
        "properties": {
            "slug": text,
            "title": text,
            "description": text,
            "rounds": {"type": "array", "items": round_},
        },
    }


def openapi_document(base_url: str) -> dict[str, Any]:
    error = {
        "description": "Not found (or not yet published).",
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"error": {"type": "string"}}}
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Proeftuin open data",
            "version": "1",
            "description": (
                "Read-only data of participatory-budgeting rounds. Results appear once the "
                "council has signed them off and they are published."
            ),
        },
        "servers": [{"url": base_url.rstrip("/") + PREFIX}],
        "paths": {
            "/rounds": {
                "get": {
                    "operationId": "listRounds",
                    "summary": "Every public round.",
                    "responses": {
                        "200": {
                            "description": "The rounds.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Round"},
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/rounds/{slug}/results": {
                "get": {
                    "operationId": "getResults",
                    "summary": "The published result of a round.",
                    "parameters": [
                        {
                            "name": "slug",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The result.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Results"}
                                }
                            },
                        },
                        "404": error,
                    },
                }
            },
            "/events/{event}": {
                "get": {
                    "operationId": "getEvent",
                    "summary": "A voting event: its rounds, with their areas and phases.",
                    "parameters": [
                        {
                            "name": "event",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The event.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Event"}
                                }
                            },
                        },
                        "404": error,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This description.",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Round": {
                    "type": "object",
                    "required": ["slug", "title", "area", "phase", "budget"],
                    "properties": {
                        "slug": {"type": "string"},
                        "event": {
                            "type": ["string", "null"],
                            "description": "The slug of the voting event the round is part of.",
                        },
                        "title": {"type": "string"},
                        "area": {"type": "string", "description": "The area's name."},
                        "phase": {"type": "string", "enum": [p.value for p in Phase]},
                        "budget": {"type": "integer", "description": "Whole euros."},
                        "tie_break_sha256": {
                            "type": ["string", "null"],
                            "description": (
                                "From voting on: SHA-256 of the tie-break seed, which is "
                                "revealed with the results."
                            ),
                        },
                    },
                },
                "Plan": _plan_schema(),
                "Event": _event_schema(),
                "Turnout": {
                    "type": "object",
                    "properties": {
                        "ballots": {"type": "integer"},
                        "online": {"type": "integer"},
                        "paper": {"type": "integer"},
                        "codes_issued": {"type": "integer"},
                        "codes_used": {"type": "integer"},
                        "codes_revoked": {"type": "integer"},
                        "share_of_codes_used": {"type": ["number", "null"]},
                    },
                },
                "Results": {
                    "type": "object",
                    "required": [
                        "rule",
                        "budget",
                        "selected",
                        "plans",
                        "turnout",
                        "pabulib_url",
                        "sha256",
                        "tie_break",
                    ],
                    "properties": {
                        "rule": {"type": "string", "enum": ["optimal", "greedy", "equal_shares"]},
                        "budget": {"type": "integer"},
                        "selected": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "Funded plans, ids as in the Pabulib export.",
                        },
                        "plans": {"type": "array", "items": {"$ref": "#/components/schemas/Plan"}},
                        "turnout": {"$ref": "#/components/schemas/Turnout"},
                        "pabulib_url": {"type": "string", "format": "uri"},
                        "sha256": {
                            "type": "string",
                            "pattern": "^[0-9a-f]{64}$",
                            "description": "SHA-256 of the exact bytes served at pabulib_url.",
                        },
                        "tie_break": {
                            "type": "object",
                            "description": (
                                "The tie-break seed, revealed; its SHA-256; and whether that is "
                                "the tie_break_sha256 the round showed from the start of voting."
                            ),
                            "properties": {
                                "seed": {"type": "string"},
                                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                                "matches_commitment": {"type": "boolean"},
                            },
                        },
                    },
                },
            }
        },
    }


routes = [
    Route(f"{PREFIX}/rounds", rounds_index, methods=["GET"], name="api_rounds"),
    Route(f"{PREFIX}/rounds/{{slug}}/results", round_results, methods=["GET"], name="api_results"),
    Route(f"{PREFIX}/events/{{event}}", event_index, methods=["GET"], name="api_event"),
    Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"], name="api_openapi"),
]
