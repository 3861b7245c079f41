"""Photos through the web: the author's photo page, staff's, the photos on the plan page, the
cards and the ballot, and the served bytes; on both databases."""

from __future__ import annotations

import io
import random
import re

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database, read, transact
from proeftuin.models import Phase, Plan, PlanPhoto
from proeftuin.services import codes
from tests.factories import (
    GPS,
    SERIAL,
    actions,
    add_plan,
    add_village_round,
    make_photo,
    make_round,
    photo_file,
)
from tests.web.clients import csrf_of, sign_in_resident, signed_in

ALT = "De vijver met het kapotte hek."


def own_plan(client: TestClient, db: Database) -> str:
    add_village_round(db)
    author = sign_in_resident(client, db)
    return add_plan(db, author_id=author)


def send(
    client: TestClient,
    path: str,
    data: bytes,
    filename: str = "IMG_0042.JPG",
    alt: str = ALT,
    content_type: str = "image/jpeg",
) -> httpx.Response:
    token = csrf_of(client.get(path).text)
    return client.post(
        path,
        data={"alt": alt, "csrf_token": token},
        files={"photo": (filename, data, content_type)},
        follow_redirects=False,
    )


def stored(db: Database) -> int:
    return int(read(db, lambda s: s.scalar(select(func.count(PlanPhoto.id)))))


def photo_urls(html: str) -> list[str]:
    return re.findall(r"/fotos/[\w-]+/(?:klein|groot)\.jpg", html)


def test_the_author_adds_a_photo_and_it_shows_on_the_plan_page_without_metadata(
    client: TestClient, db: Database
) -> None:
    public_id = own_plan(client, db)
    page = client.get(f"/plannen/{public_id}")
    assert f'href="/plannen/{public_id}/fotos"' in page.text

    response = send(client, f"/plannen/{public_id}/fotos", photo_file(size=(2400, 1600)))

    assert response.status_code == 303
    html = client.get(f"/plannen/{public_id}").text
    assert "<picture>" in html and "srcset=" in html and f'alt="{ALT}"' in html
    small, large = sorted(set(photo_urls(html)), key=lambda url: "groot" in url)
    assert re.search(rf"{re.escape(small)} 480w, {re.escape(large)} 1600w", html)
    served = client.get(large)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["cache-control"].startswith("public")
    image = Image.open(io.BytesIO(served.content))
    assert image.size == (1600, 1067)
    assert len(image.getexif()) == 0 and "exif" not in image.info
    for secret in (SERIAL.encode(), b"Exif", b"GPS", str(GPS[2][0]).encode()):
        assert secret not in served.content
    assert Image.open(io.BytesIO(client.get(small).content)).size == (480, 320)


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"%PDF-1.7 geen foto", "foto.jpg", "Dit bestand is geen foto."),
        (photo_file(size=(600, 400))[:2_000], "foto.jpg", "De foto is beschadigd"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "a.svg",
            "geen foto",
        ),
        (photo_file("PNG"), "foto.jpg", "De naam van het bestand past niet"),
        (photo_file() + b"<html><script>alert(1)</script>", "foto.jpg", "meer dan een foto"),
    ],
)
def test_bad_files_are_refused_in_dutch_and_nothing_is_stored(
    client: TestClient, db: Database, data: bytes, filename: str, message: str
) -> None:
    public_id = own_plan(client, db)
    response = send(client, f"/plannen/{public_id}/fotos", data, filename)
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert stored(db) == 0


def test_a_missing_or_huge_alt_text_is_refused_and_kept_in_the_form(
    client: TestClient, db: Database
) -> None:
    public_id = own_plan(client, db)
    response = send(client, f"/plannen/{public_id}/fotos", photo_file(), alt="")
    assert response.status_code == 422
    assert "Beschrijf in een paar woorden" in response.text
    huge = "bank " * 20_000
    response = send(client, f"/plannen/{public_id}/fotos", photo_file(), alt=huge)
    assert response.status_code == 422
    assert "te lang" in response.text
    assert stored(db) == 0


def test_an_upload_over_the_limit_is_refused_before_it_is_read(
    client: TestClient, db: Database
) -> None:
    public_id = own_plan(client, db)
    response = send(client, f"/plannen/{public_id}/fotos", b"\xff" * (11 * 1024 * 1024))
    assert response.status_code == 413
    assert "kleinere foto" in response.text
    assert stored(db) == 0


def test_a_photo_of_about_5_mb_is_taken(client: TestClient, db: Database) -> None:
    public_id = own_plan(client, db)
    noise = Image.frombytes("RGB", (1600, 1100), random.Random(7).randbytes(1600 * 1100 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert out.tell() > 5_000_000  # five times the site's ordinary body limit
    assert (
        send(client, f"/plannen/{public_id}/fotos", out.getvalue(), "foto.png").status_code == 303
    )
    assert stored(db) == 1


def test_the_author_removes_a_photo(client: TestClient, db: Database) -> None:
    public_id = own_plan(client, db)
    send(client, f"/plannen/{public_id}/fotos", photo_file())
    page = client.get(f"/plannen/{public_id}/fotos").text
    action = re.search(r'action="(/plannen/[^"]+/weghalen)"', page)
    assert action
    response = client.post(
        action.group(1), data={"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert stored(db) == 0


def test_a_hidden_plans_photo_is_not_served_to_others(
    client: TestClient, db: Database, app
) -> None:  # type: ignore[no-untyped-def]
    public_id = own_plan(client, db)
    send(client, f"/plannen/{public_id}/fotos", photo_file())

    def hide(session: Session) -> None:
        plan = session.scalar(select(Plan).where(Plan.public_id == public_id))
        assert plan is not None
        plan.hidden = True

    transact(db, hide)
    url = photo_urls(client.get(f"/plannen/{public_id}/fotos").text)[0]
    mine = client.get(url)
    assert mine.status_code == 200 and mine.headers["cache-control"] == "private, no-store"
    with TestClient(app) as stranger:
        assert stranger.get(url).status_code == 404


def test_staff_add_and_remove_photos_in_the_audit_log(admin: TestClient, db: Database) -> None:
    add_village_round(db, phase=Phase.STEMMEN)
    public_id = add_plan(db)
    path = f"/beheer/rondes/ter-aa-2027/plannen/{public_id}/fotos"
    plan_page = admin.get(f"/beheer/rondes/ter-aa-2027/plannen/{public_id}").text
    assert f'href="{path}"' in plan_page

    assert send(admin, path, photo_file(), "foto.jpeg").status_code == 303
    page = admin.get(path).text
    assert re.search(r'src="/beheer/fotos/[\w-]+/klein\.jpg"', page)
    action = re.search(r'action="(/beheer/[^"]+/weghalen)"', page)
    assert action
    admin.post(action.group(1), data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert stored(db) == 0
    assert actions(db)[-2:] == ["photo.add", "photo.remove"]


def test_the_round_page_and_the_ballot_show_the_small_photo_lazily(
    client: TestClient, db: Database, settings: Settings
) -> None:
    def build(session: Session) -> tuple[str, str, str]:
        round_ = make_round(session, costs=(4_000, 3_000))
        plan = session.scalar(select(Plan).where(Plan.round_id == round_.id).order_by(Plan.id))
        assert plan is not None
        photo = make_photo(session, plan)
        code = codes.generate_codes(session, round_, settings.code_pepper, 1)[0]
        return round_.slug, photo, code

    slug, photo, code = transact(db, build)
    card = f'src="/fotos/{photo}/klein.jpg"'
    round_page = client.get(f"/rondes/{slug}").text
    assert card in round_page and 'loading="lazy"' in round_page
    assert f"/fotos/{photo}/groot.jpg" not in round_page
    token = csrf_of(client.get("/stem").text)
    ballot = client.post("/stem", data={"code": code, "csrf_token": token}).text
    thumb = f'src="/fotos/{photo}/mini.jpg"'
    img = ballot[ballot.index(thumb) :]
    assert 'loading="lazy"' in img[: img.index(">")]
    assert "klein.jpg" not in ballot and "groot.jpg" not in ballot
    served = client.get(f"/fotos/{photo}/mini.jpg")
    assert Image.open(io.BytesIO(served.content)).size == (120, 80)  # never enlarged
    assert len(served.content) <= len(client.get(f"/fotos/{photo}/klein.jpg").content)


def test_staff_sign_in_for_the_staff_photo_address(client: TestClient, db: Database, world) -> None:  # type: ignore[no-untyped-def]
    def build(session: Session) -> str:
        round_ = make_round(session, costs=(1_000,))
        plan = session.scalar(select(Plan).where(Plan.round_id == round_.id))
        assert plan is not None
        return make_photo(session, plan)

    photo = transact(db, build)
    assert client.get(f"/beheer/fotos/{photo}/klein.jpg", follow_redirects=False).status_code == 303
    signed_in(client, "admin@gemeente.nl")
    served = client.get(f"/beheer/fotos/{photo}/klein.jpg")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
