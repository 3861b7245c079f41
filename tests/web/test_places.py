"""Places through the web: the author chooses the point, the plan page and the round page show
it (the map, and the place in words on each card), staff set a point and are warned, an admin
uploads a boundary; on both databases."""

from __future__ import annotations

import html as html_module
import json
import re

from sqlalchemy import select
from starlette.testclient import TestClient

from proeftuin.db import Database, read
from proeftuin.models import Area, Phase
from tests.factories import actions, add_plan, add_village_round
from tests.web.clients import csrf_of, sign_in_resident

BOUNDARY = {
    "type": "Polygon",
    "coordinates": [[[6.55, 52.98], [6.58, 52.98], [6.58, 53.00], [6.55, 53.00], [6.55, 52.98]]],
}


def post(client: TestClient, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(path).text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def pins(html: str) -> list[dict[str, object]]:
    found = re.search(r"data-pins='([^']*)'", html)
    assert found, "no pins on the page"
    return json.loads(html_module.unescape(found.group(1)))  # type: ignore[no-any-return]


def test_the_author_chooses_the_point_and_the_pages_show_it(
    client: TestClient, db: Database
) -> None:
    add_village_round(db)
    author = sign_in_resident(client, db)
    public_id = add_plan(db, author_id=author, location="Het Brinkplein")
    add_plan(db, title="Zonder plek", location="")
    assert f'href="/plannen/{public_id}/plek"' in client.get(f"/plannen/{public_id}").text

    path = f"/plannen/{public_id}/plek"
    form = client.get(path).text
    assert 'data-picker="1"' in form and "Het Brinkplein" in form
    assert post(client, path, {"latitude": "52,9925", "longitude": "6,5649"}).status_code == 303

    plan_page = client.get(f"/plannen/{public_id}").text
    assert pins(plan_page)[0] == {
        "n": 1,
        "title": "Bankjes bij de vijver",
        "lat": 52.9925,
        "lon": 6.5649,
    }
    round_page = client.get("/rondes/ter-aa-2027").text
    assert '<div class="proeftuin-map" id="kaart" hidden' in round_page  # shown by the script
    assert pins(round_page) == [
        {
            "n": 1,
            "title": "Bankjes bij de vijver",
            "lat": 52.9925,
            "lon": 6.5649,
            "target": f"plek-{public_id}",
        }
    ]
    card = round_page[round_page.index(f'id="plek-{public_id}"') :]
    assert "Het Brinkplein" in card[:300] and "nummer 1 op de kaart" in card[:300]
    assert "http://127.0.0.1:9/kaart/{z}/{x}/{y}.png" in round_page  # the tiles of the settings
    assert "Kaartgegevens © Kadaster" in round_page


def test_a_wrong_point_is_refused_and_kept_in_the_form(client: TestClient, db: Database) -> None:
    add_village_round(db)
    author = sign_in_resident(client, db)
    public_id = add_plan(db, author_id=author)
    response = post(client, f"/plannen/{public_id}/plek", {"latitude": "noord", "longitude": "6"})
    assert response.status_code == 422
    assert "Vul een getal in" in response.text and 'value="noord"' in response.text
    assert "data-pins" not in client.get(f"/plannen/{public_id}").text


def test_staff_are_warned_about_a_point_outside_the_area(admin: TestClient, db: Database) -> None:
    add_village_round(db, phase=Phase.STEMMEN)
    public_id = add_plan(db)
    area_id = read(db, lambda s: s.scalar(select(Area.id).where(Area.slug == "ter-aa")))
    boundary_path = f"/beheer/gebieden/{area_id}/grens"
    assert f'href="{boundary_path}"' in admin.get(f"/beheer/gebieden/{area_id}").text
    page = admin.get(boundary_path).text
    response = admin.post(
        boundary_path,
        data={"csrf_token": csrf_of(page)},
        files={
            "boundary": ("grens.geojson", json.dumps(BOUNDARY).encode(), "application/geo+json")
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    bad = admin.post(
        boundary_path,
        data={"csrf_token": csrf_of(page)},
        files={"boundary": ("grens.geojson", b"<svg/>", "image/svg+xml")},
    )
    assert bad.status_code == 422 and "geen geldige grens" in bad.text

    path = f"/beheer/rondes/ter-aa-2027/plannen/{public_id}/plek"
    groningen = post(admin, path, {"latitude": "53.2194", "longitude": "6.5665"})
    assert groningen.status_code == 200
    assert "buiten het gebied van de ronde" in groningen.text
    review = admin.get(f"/beheer/rondes/ter-aa-2027/plannen/{public_id}").text
    assert "buiten het gebied van de ronde" in review and "53.219400" in review
    brussels = post(admin, path, {"latitude": "50.8467", "longitude": "4.3525"})
    assert "buiten Nederland" in brussels.text
    assert actions(db)[-3:] == ["area.boundary", "plan.place", "plan.place"]
