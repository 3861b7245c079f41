"""The dashboard and the admin's pages: areas, staff members, the audit log."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proeftuin.db import Database, read, transact
from proeftuin.models import Area, AuditEvent, Membership, Phase, Plan, Role, Round, StaffUser
from proeftuin.services import audit
from proeftuin.services.spreadsheets import XLSX_TYPE
from tests.factories import add_area, add_round
from tests.web.clients import (
    HTMX,
    add_staff,
    assert_no_inline_code,
    cheap_hashing,
    post,
    sign_in,
    signed_in,
)


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashing(monkeypatch)


@pytest.fixture
def admin(client: TestClient, db: Database) -> TestClient:
    add_staff(db, "admin@gemeente.nl", Role.ADMIN, name="Ada Admin")
    return signed_in(client, "admin@gemeente.nl")


def _count(db: Database, column) -> int:  # type: ignore[no-untyped-def]
    return int(read(db, lambda s: s.scalar(select(func.count(column)))))


def _actions(db: Database) -> list[str]:
    """What staff did, without their sign-ins (tests/services/test_staff_sessions.py)."""
    query = select(AuditEvent.action).where(
        ~AuditEvent.action.like("staff.sign\\_in%", escape="\\")
    )
    return list(read(db, lambda s: s.scalars(query.order_by(AuditEvent.id))))


# -- dashboard -------------------------------------------------------------------------------------


def test_dashboard_shows_a_moderator_only_their_areas_and_rounds(
    client: TestClient, db: Database
) -> None:
    noord, zuid = add_area(db, "noord", "Noord"), add_area(db, "zuid", "Zuid")
    add_round(db, noord, "noord-2027", "Buurtbudget Noord", budget=50_000, phase=Phase.STEMMEN)
    add_round(db, zuid, "zuid-2027", "Buurtbudget Zuid", budget=20_000, phase=Phase.CONCEPT)
    add_staff(db, "mo@gemeente.nl", area_ids=[noord])
    signed_in(client, "mo@gemeente.nl")
    html = client.get("/beheer").text
    assert 'href="/beheer/rondes/noord-2027"' in html
    assert re.search(r"€\s50\.000", html)
    assert "Zuid" not in html
    # A moderator's menu has no admin pages.
    assert 'href="/beheer/gebieden"' not in html and 'href="/beheer/logboek"' not in html
    assert 'href="/beheer/wachtwoord"' in html
    assert_no_inline_code(html)


def test_dashboard_says_per_round_what_waits_and_when_the_next_phase_starts(
    client: TestClient, db: Database
) -> None:
    import datetime as dt

    noord = add_area(db, "noord", "Noord")
    voting_starts = dt.datetime(2027, 5, 1, 7, 0, tzinfo=dt.UTC)
    add_round(db, noord, "noord-2027", "Buurtbudget Noord", budget=50_000, phase=Phase.BEOORDELEN)

    def dates_and_plans(session: Session) -> None:
        round_ = session.scalar(select(Round).where(Round.slug == "noord-2027"))
        assert round_ is not None
        round_.voting_starts_at = voting_starts
        for i, (status, hidden) in enumerate(
            [("ingediend", False), ("ingediend", False), ("aanpassen", False), ("afgewezen", True)]
        ):
            session.add(
                Plan(
                    round_id=round_.id,
                    public_id=f"p{i}",
                    title=f"Plan {i}",
                    estimated_cost=100,
                    status=status,
                    hidden=hidden,
                )
            )

    transact(db, dates_and_plans)
    add_staff(db, "mo@gemeente.nl", area_ids=[noord])
    signed_in(client, "mo@gemeente.nl")
    html = client.get("/beheer").text
    queue = '<a class="utrecht-link" href="/beheer/rondes/noord-2027/plannen">'
    assert f"{queue}2 plannen wachten op een besluit</a>" in html
    assert "1 plan: aanpassing gevraagd" in html
    assert "1 verborgen plan" in html
    assert "Volgende fase: Stemmen, zaterdag 1 mei 2027, 09:00 uur" in html
    # On a phone the page comes before the staff menu, in the page's own order too.
    assert html.index("<h1") < html.index('id="beheermenu"')
    assert 'href="#beheermenu"' in html


def test_dashboard_of_a_moderator_without_areas_says_what_to_do(
    client: TestClient, db: Database
) -> None:
    add_staff(db, "mo@gemeente.nl")
    signed_in(client, "mo@gemeente.nl")
    assert "Vraag een beheerder van de gemeente" in client.get("/beheer").text


def test_admin_dashboard_shows_every_area_and_the_admin_menu(
    admin: TestClient, db: Database
) -> None:
    add_area(db, "noord", "Noord")
    add_area(db, "zuid", "Zuid")
    html = admin.get("/beheer").text
    assert "Noord" in html and "Zuid" in html
    for path in ("/beheer/gebieden", "/beheer/medewerkers", "/beheer/logboek"):
        assert f'href="{path}"' in html
    assert 'aria-current="page">Dashboard' in html


def test_moderators_get_403_on_admin_pages(client: TestClient, db: Database) -> None:
    add_staff(db, "mo@gemeente.nl")
    signed_in(client, "mo@gemeente.nl")
    for path in ("/beheer/gebieden", "/beheer/medewerkers", "/beheer/logboek"):
        assert client.get(path).status_code == 403


# -- areas -----------------------------------------------------------------------------------------


def test_admin_creates_an_area(admin: TestClient, db: Database) -> None:
    form = admin.get("/beheer/gebieden/nieuw")
    assert form.status_code == 200
    assert_no_inline_code(form.text)
    data = {
        "name": "Noord",
        "slug": "wijk-noord",
        "kind": "wijk",
        "council_name": "Wijkraad Noord",
        "postcodes": "9401 - 9405, 9410",
    }
    response = post(admin, "/beheer/gebieden", data)
    assert response.status_code == 303
    assert response.headers["location"] == "/beheer/gebieden?melding=aangemaakt"
    listing = admin.get(response.headers["location"]).text
    assert "Het gebied is aangemaakt." in listing
    assert "9401-9405,9410" in listing
    area = read(db, lambda s: s.scalars(select(Area)).one())
    assert (area.slug, area.council_name, area.postcodes) == (
        "wijk-noord",
        "Wijkraad Noord",
        "9401-9405,9410",
    )
    assert _actions(db) == ["area.create"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"name": "Noord", "slug": "noord", "postcodes": "94o1"},
            "postcodes",
            "Dit klopt niet: 94o1",
        ),
        ({"name": "Noord", "slug": "noord", "postcodes": "9405-9401"}, "postcodes", "9401-9405"),
        ({"name": "Noord", "slug": "Wijk Noord"}, "slug", "kleine letters"),
        ({"name": "", "slug": "noord"}, "name", "Vul een naam in"),
        ({"name": "Noord", "slug": "noord", "kind": "stad"}, "kind", "wijk, een dorp"),
    ],
)
def test_area_form_shows_errors_at_their_fields(
    admin: TestClient, db: Database, data: dict[str, str], field: str, message: str
) -> None:
    response = post(admin, "/beheer/gebieden", {"kind": "wijk", **data})
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert f'href="#{field}"' in response.text  # the summary links to the field
    assert 'value="{}"'.format(data["name"]) in response.text  # what was typed stays
    assert _count(db, Area.id) == 0


def test_duplicate_area_slug_is_refused(admin: TestClient, db: Database) -> None:
    add_area(db, "noord", "Noord")
    response = post(admin, "/beheer/gebieden", {"name": "Ander", "slug": "noord", "kind": "dorp"})
    assert response.status_code == 422
    assert "Er is al een gebied met deze korte naam" in response.text


def test_admin_edits_and_deletes_an_area(admin: TestClient, db: Database) -> None:
    area_id = add_area(db, "noord", "Noord")
    page = admin.get(f"/beheer/gebieden/{area_id}")
    assert page.status_code == 200
    assert 'value="noord"' in page.text
    assert "Gebied verwijderen" in page.text
    data = {"name": "Noord-Oost", "slug": "noord", "kind": "gebied", "postcodes": "9401"}
    response = post(admin, f"/beheer/gebieden/{area_id}", data)
    assert response.headers["location"] == "/beheer/gebieden?melding=gewijzigd"
    assert read(db, lambda s: s.get(Area, area_id).name) == "Noord-Oost"  # type: ignore[union-attr]
    bad = post(admin, f"/beheer/gebieden/{area_id}", {**data, "postcodes": "12"})
    assert bad.status_code == 422
    assert "Noord-Oost" in bad.text
    deleted = post(admin, f"/beheer/gebieden/{area_id}/verwijderen")
    assert deleted.headers["location"] == "/beheer/gebieden?melding=verwijderd"
    assert _count(db, Area.id) == 0
    assert _actions(db) == ["area.create", "area.update", "area.delete"][1:]


def test_area_with_rounds_cannot_be_deleted(admin: TestClient, db: Database) -> None:
    area_id = add_area(db, "noord", "Noord")
    add_round(db, area_id, "r", "Ronde", budget=1, phase=Phase.CONCEPT)
    assert "Gebied verwijderen" not in admin.get(f"/beheer/gebieden/{area_id}").text
    response = post(admin, f"/beheer/gebieden/{area_id}/verwijderen")
    assert response.status_code == 422
    assert "heeft rondes" in response.text
    assert _count(db, Area.id) == 1


def test_unknown_area_is_404(admin: TestClient) -> None:
    assert admin.get("/beheer/gebieden/999").status_code == 404
    assert post(admin, "/beheer/gebieden/999", {"name": "X", "slug": "x"}).status_code == 404


# -- staff members ---------------------------------------------------------------------------------


def test_admin_invites_a_moderator_and_sees_the_password_once(
    admin: TestClient, client: TestClient, db: Database, app
) -> None:  # type: ignore[no-untyped-def]
    noord = add_area(db, "noord", "Noord")
    form = admin.get("/beheer/medewerkers/nieuw")
    assert form.status_code == 200
    assert 'id="area_ids-1"' in form.text
    assert_no_inline_code(form.text)
    data = {"name": "Mo", "email": "mo@gemeente.nl", "role": "moderator", "area_ids": [str(noord)]}
    response = post(admin, "/beheer/medewerkers", data)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    password = re.search(r"<code>([a-z2-9-]+)</code>", response.text).group(1)  # type: ignore[union-attr]
    assert "Mo is uitgenodigd" in response.text
    stored = read(
        db, lambda s: s.scalar(select(StaffUser.password_hash).where(StaffUser.name == "Mo"))
    )
    assert password not in stored
    listing = admin.get("/beheer/medewerkers").text
    assert "mo@gemeente.nl" in listing and "Noord" in listing
    assert password not in listing
    with TestClient(app) as newcomer:
        assert sign_in(newcomer, "mo@gemeente.nl", password).status_code == 303
    assert _actions(db) == ["staff.invite", "staff.assign_area"]


def test_invite_errors(admin: TestClient, db: Database) -> None:
    add_staff(db, "mo@gemeente.nl")
    response = post(admin, "/beheer/medewerkers", {"name": "Mo", "email": "mo@gemeente.nl"})
    assert response.status_code == 422
    assert "Er is al een account met dit e-mailadres." in response.text
    assert 'id="email-error"' in response.text
    bad = post(admin, "/beheer/medewerkers", {"name": "X", "email": "x@y.nl", "area_ids": ["999"]})
    assert bad.status_code == 422
    assert "Kies alleen gebieden uit de lijst." in bad.text
    assert _count(db, StaffUser.id) == 2


def test_admin_assigns_and_unassigns_areas_with_and_without_htmx(
    admin: TestClient, db: Database
) -> None:
    noord, zuid = add_area(db, "noord", "Noord"), add_area(db, "zuid", "Zuid")
    mo = add_staff(db, "mo@gemeente.nl")
    page = admin.get(f"/beheer/medewerkers/{mo}")
    assert page.status_code == 200
    assert f'hx-post="/beheer/medewerkers/{mo}/gebieden"' in page.text
    assert_no_inline_code(page.text)

    plain = post(admin, f"/beheer/medewerkers/{mo}/gebieden", {"area_id": str(noord)})
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/beheer/medewerkers/{mo}"

    fragment = post(admin, f"/beheer/medewerkers/{mo}/gebieden", {"area_id": str(zuid)}, htmx=True)
    assert fragment.status_code == 200
    assert '<section class="beheer-card" id="gebieden"' in fragment.text
    assert "<html" not in fragment.text
    assert "Haal weg uit Zuid" in fragment.text
    assert "HX-Request" in fragment.headers["vary"]

    removed = post(admin, f"/beheer/medewerkers/{mo}/gebieden/{noord}/verwijderen", htmx=True)
    assert "Haal weg uit Noord" not in removed.text
    assert _count(db, Membership.id) == 1
    bad = post(admin, f"/beheer/medewerkers/{mo}/gebieden", {"area_id": "abc"}, htmx=True)
    assert bad.status_code == 422
    assert 'id="area_id-error"' in bad.text
    assert _actions(db) == ["staff.assign_area", "staff.assign_area", "staff.unassign_area"]


def test_deactivating_an_account_signs_it_out_and_blocks_sign_in(
    admin: TestClient, db: Database, app
) -> None:  # type: ignore[no-untyped-def]
    mo = add_staff(db, "mo@gemeente.nl")
    with TestClient(app) as moderator:
        signed_in(moderator, "mo@gemeente.nl")
        response = post(admin, f"/beheer/medewerkers/{mo}/actief", {"active": "0"})
        assert response.headers["location"] == f"/beheer/medewerkers/{mo}"
        assert moderator.get("/beheer", follow_redirects=False).status_code == 303
        assert sign_in(moderator, "mo@gemeente.nl").status_code == 422
        assert "uitgezet" in admin.get(f"/beheer/medewerkers/{mo}").text
        post(admin, f"/beheer/medewerkers/{mo}/actief", {"active": "1"})
        assert sign_in(moderator, "mo@gemeente.nl").status_code == 303
    assert _actions(db) == ["staff.deactivate", "staff.reactivate"]


def test_admin_cannot_deactivate_themselves(admin: TestClient, db: Database) -> None:
    own_id = read(db, lambda s: s.scalar(select(StaffUser.id)))
    page = admin.get(f"/beheer/medewerkers/{own_id}").text
    assert "Account uitzetten" not in page
    response = post(admin, f"/beheer/medewerkers/{own_id}/actief", {"active": "0"})
    assert response.status_code == 422
    assert "U kunt uw eigen account niet uitzetten." in response.text
    assert admin.get("/beheer").status_code == 200


def test_admin_resets_a_password(admin: TestClient, db: Database, app) -> None:  # type: ignore[no-untyped-def]
    mo = add_staff(db, "mo@gemeente.nl")
    response = post(admin, f"/beheer/medewerkers/{mo}/wachtwoord")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    password = re.search(r"<code>([a-z2-9-]+)</code>", response.text).group(1)  # type: ignore[union-attr]
    with TestClient(app) as moderator:
        assert sign_in(moderator, "mo@gemeente.nl", password).status_code == 303


def test_unknown_member_is_404(admin: TestClient) -> None:
    assert admin.get("/beheer/medewerkers/999").status_code == 404
    assert post(admin, "/beheer/medewerkers/999/actief", {"active": "0"}).status_code == 404


# -- audit log -------------------------------------------------------------------------------------


def test_audit_log_pages_and_fragment(admin: TestClient, db: Database) -> None:
    area_id = add_area(db, "noord", "Noord")
    actor = read(db, lambda s: s.scalar(select(StaffUser.id)))
    for n in range(60):
        transact(db, audit.record, actor, "round.create", "round", n, area_id, title=f"R{n}")
    page = admin.get("/beheer/logboek")
    assert page.status_code == 200
    assert "Pagina 1 van 2 (61 regels)" in page.text  # and the admin's sign-in
    assert "Ada Admin" in page.text and "Noord" in page.text and "title: R59" in page.text
    assert_no_inline_code(page.text)
    fragment = admin.get("/beheer/logboek?pagina=2", headers=HTMX)
    assert fragment.text.lstrip().startswith('<div id="logboek"')
    assert "title: R0" in fragment.text and "title: R59" not in fragment.text
    assert admin.get("/beheer/logboek?pagina=x").status_code == 200


def test_audit_log_export_is_csv_and_is_itself_logged(admin: TestClient, db: Database) -> None:
    post(admin, "/beheer/gebieden", {"name": "Noord", "slug": "noord", "kind": "wijk"})
    response = post(admin, "/beheer/logboek/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="logboek-')
    assert response.headers["cache-control"] == "no-store"
    # For Dutch Excel: a BOM and ";" between the cells.
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == list(audit.CSV_HEADER) and rows[0][1] == "Tijd (UTC)"
    assert [row[4] for row in rows[1:]] == ["staff.sign_in", "area.create", "audit.export"]
    assert "admin@gemeente.nl" not in response.text
    assert admin.get("/beheer/logboek/export").status_code == 405  # no export by GET


def test_audit_log_export_as_xlsx_opens_with_the_same_rows(admin: TestClient, db: Database) -> None:
    post(admin, "/beheer/gebieden", {"name": "=Noord", "slug": "noord", "kind": "wijk"})
    response = post(admin, "/beheer/logboek/export", {"formaat": "xlsx"})
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX_TYPE
    assert re.fullmatch(
        r'attachment; filename="logboek-\d{4}-\d{2}-\d{2}\.xlsx"',
        response.headers["content-disposition"],
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == audit.CSV_HEADER
    assert [row[4] for row in rows[1:]] == ["staff.sign_in", "area.create", "audit.export"]
    assert isinstance(rows[1][0], int)  # numbers are numbers
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)  # no formulas
