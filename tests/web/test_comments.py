"""The conversation on plans through the web: residents post, answer, edit, delete and report;
staff of the area answer, hide, approve and export; on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database, read, transact
from proeftuin.models import Area, AuditEvent, Comment, Plan
from tests.factories import add_plan, add_village_round, make_codes, make_resident, make_round
from tests.web.clients import HTMX, add_staff, csrf_of, sign_in_resident, staff_client

ROUND = "ter-aa-2027"


@pytest.fixture
def plan(db: Database) -> str:
    add_village_round(db)
    return add_plan(db, body="Zes bankjes.")


@pytest.fixture
def staff(app: Starlette, db: Database, plan: str) -> Iterator[TestClient]:
    area = read(db, lambda s: s.scalar(select(Area.id).where(Area.slug == "ter-aa")))
    add_staff(db, "mod@gemeente.nl", area_ids=[area], name="Mo")
    client = staff_client(app, "mod@gemeente.nl")
    yield client
    client.__exit__(None, None, None)


def comment(client: TestClient, plan: str, text: str, kind: str = "vraag", **extra: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(f"/plannen/{plan}").text)
    data = {"tekst": text, "soort": kind, "csrf_token": token, **extra}
    return client.post(f"/plannen/{plan}/reacties", data=data, follow_redirects=False)


def ids(db: Database) -> list[int]:
    return read(db, lambda s: list(s.scalars(select(Comment.id).order_by(Comment.id))))


def test_a_resident_comments_without_javascript(
    client: TestClient, db: Database, plan: str
) -> None:
    page = client.get(f"/plannen/{plan}")
    assert "Log in om te reageren" in page.text
    refused = comment(client, plan, "Mag dit?")
    assert refused.status_code == 303 and "/inloggen" in refused.headers["location"]
    sign_in_resident(client, db, "bram@example.nl", "Bram")
    made = comment(client, plan, "Komt er ook een bankje bij de **bushalte**?")
    assert made.status_code == 303
    assert made.headers["location"].endswith("#reacties")
    page = client.get(made.headers["location"])
    assert "<strong>bushalte</strong>" in page.text and "Bram" in page.text
    assert "bram@example.nl" not in page.text  # the display name only


def test_with_htmx_the_discussion_is_swapped_in_place(
    client: TestClient, db: Database, plan: str
) -> None:
    sign_in_resident(client, db, "bram@example.nl", "Bram")
    token = csrf_of(client.get(f"/plannen/{plan}").text)
    answer = client.post(
        f"/plannen/{plan}/reacties",
        data={"tekst": "Een goed idee", "soort": "voor"},
        headers={**HTMX, "X-CSRF-Token": token},
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="reacties"')
    assert "Argumenten voor" in answer.text and "Een goed idee" in answer.text
    empty = client.post(
        f"/plannen/{plan}/reacties", data={"tekst": " ", "soort": "voor"},
        headers={**HTMX, "X-CSRF-Token": token},
    )  # fmt: skip
    assert empty.status_code == 422 and "Schrijf eerst uw reactie." in empty.text
    assert len(ids(db)) == 1


def test_links_are_nofollow_ugc_and_html_is_escaped(
    client: TestClient, db: Database, plan: str
) -> None:
    sign_in_resident(client, db)
    comment(
        client,
        plan,
        "<script>alert(1)</script> [site](https://example.org) [x](javascript:alert(1))",
    )
    page = client.get(f"/plannen/{plan}").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert 'href="https://example.org"' in page and "nofollow" in page and "ugc" in page
    assert 'href="javascript:' not in page


def test_edit_delete_and_report(
    app: Starlette, client: TestClient, db: Database, plan: str
) -> None:
    sign_in_resident(client, db, "bram@example.nl", "Bram")
    comment(client, plan, "Eerste versie", "reactie")
    (comment_id,) = ids(db)
    form = client.get(f"/plannen/{plan}/reacties/aanpassen?reactie={comment_id}")
    assert form.status_code == 200 and "Eerste versie" in form.text
    done = client.post(
        f"/plannen/{plan}/reacties/aanpassen",
        data={
            "reactie": str(comment_id),
            "tekst": "Tweede versie",
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(f"/plannen/{plan}").text
    assert "Tweede versie" in page and "(aangepast)" in page
    with TestClient(app) as other:
        sign_in_resident(other, db, "cor@example.nl", "Cor")
        report_page = other.get(f"/plannen/{plan}/reacties/melden?reactie={comment_id}")
        assert report_page.status_code == 200
        short = other.post(
            f"/plannen/{plan}/reacties/melden",
            data={
                "reactie": str(comment_id),
                "reden": "x",
                "csrf_token": csrf_of(report_page.text),
            },
        )
        assert short.status_code == 422
        # Someone else's comment cannot be edited or deleted.
        token = csrf_of(report_page.text)
        assert (
            other.post(
                f"/plannen/{plan}/reacties/verwijderen",
                data={"reactie": str(comment_id), "csrf_token": token},
            ).status_code
            == 403
        )
    deleted = client.post(
        f"/plannen/{plan}/reacties/verwijderen",
        data={"reactie": str(comment_id), "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    page = client.get(f"/plannen/{plan}").text
    assert "Verwijderd door de schrijver." in page and "Tweede versie" not in page


def test_staff_answer_hide_and_export(
    client: TestClient, staff: TestClient, db: Database, plan: str
) -> None:
    sign_in_resident(client, db, "bram@example.nl", "Bram")
    comment(client, plan, "Scheld scheld", "reactie")
    comment(client, plan, "Hoe duur is een bankje?", "vraag")
    rude, question = ids(db)
    queue = staff.get(f"/beheer/rondes/{ROUND}/reacties")
    assert queue.status_code == 200 and "Scheld scheld" in queue.text
    discussion = f"/beheer/rondes/{ROUND}/plannen/{plan}/reacties"
    page = staff.get(discussion)
    token = csrf_of(page.text)
    answered = staff.post(
        discussion,
        data={"tekst": "Ongeveer 800 euro.", "antwoord_op": str(question), "csrf_token": token},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    hidden = staff.post(
        f"{discussion}/besluit",
        data={
            "reactie": str(rude),
            "actie": "verbergen",
            "reden": "Scheldwoorden.",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert hidden.status_code == 303
    public = client.get(f"/plannen/{plan}").text
    assert "Scheld scheld" not in public
    assert "Verborgen door de wijkraad: Scheldwoorden." in public
    assert "Dorpsraad Ter Aa" in public and "Ongeveer 800 euro." in public
    assert "Scheld scheld" not in staff.get(discussion).text
    export = staff.get(f"{discussion}.csv")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    assert "Scheld scheld" not in export.text and "Scheldwoorden." in export.text
    assert "Ongeveer 800 euro." in export.text
    actions = read(db, lambda s: list(s.scalars(select(AuditEvent.action))))
    assert {"comment.post", "comment.verbergen"} <= set(actions)


def test_a_flood_gets_a_dutch_message(client: TestClient, db: Database, plan: str) -> None:
    sign_in_resident(client, db)
    for n in range(3):
        assert comment(client, plan, f"Reactie {n}", "reactie").status_code == 303
    flood = comment(client, plan, "Nog een", "reactie")
    assert flood.status_code == 429
    assert "veel reacties kort na elkaar" in flood.text
    assert len(ids(db)) == 3


def test_the_ballot_shows_a_count_and_opens_the_discussion_beside_it(
    client: TestClient, db: Database, settings: Settings
) -> None:
    def build(session):  # type: ignore[no-untyped-def]
        round_ = make_round(session, plan_prefix="stem")
        writer = make_resident(session, None, "Bram")
        plan = session.scalar(select(Plan).where(Plan.round_id == round_.id).order_by(Plan.id))
        session.add(Comment(plan_id=plan.id, resident_id=writer.id, author_name="Bram", body="Ja!"))
        return make_codes(session, round_, 1, settings.code_pepper)[0]

    code = transact(db, build)
    token = csrf_of(client.get("/stem").text)
    ballot = client.post("/stem", data={"code": code, "csrf_token": token})
    assert ballot.status_code == 200
    assert "1 reactie" in ballot.text and "0 reacties" in ballot.text
    link = '<a class="utrecht-link" href="/plannen/stem0#reacties" target="_blank" rel="noopener">'
    assert link in ballot.text  # the ballot, with its choices, stays open in its own window
