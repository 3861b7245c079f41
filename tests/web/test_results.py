"""The results pages: public (404 until published, then the same on every request) and staff
(count, compare, sign off with a proces-verbaal, publish)."""

from __future__ import annotations

import hashlib
import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proeftuin.cli import main
from proeftuin.db import Database, read, transact
from proeftuin.models import Ballot, PaperVoid, Phase, Result, ResultStatus, Round
from proeftuin.services import audit, results
from proeftuin.web.charts import Bar, bar_chart
from tests.factories import (
    NOW,
    SPLIT,
    SPLIT_COSTS,
    STOPPING,
    STOPPING_COSTS,
    closed_round,
    make_staff,
    published_round,
)
from tests.web.clients import (
    add_staff,
    assert_no_inline_code,
    cheap_hashing,
    post,
    signed_in,
)

PUBLIC_PATHS = (
    "/rondes/{slug}/uitslag",
    "/rondes/{slug}/uitslag/uitleg",
    "/rondes/{slug}/uitslag/stembonnen",
    "/rondes/{slug}/uitslag/stemmen.pb",
    "/rondes/{slug}/uitslag/plannen.csv",
    "/rondes/{slug}/uitslag/uitslag.json",
    "/rondes/{slug}/uitslag/stembonnen.txt",
)


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashing(monkeypatch)


def publish(db: Database, **options: object) -> str:
    ballots = options.pop("ballots", SPLIT)
    options.setdefault("costs", SPLIT_COSTS)
    return transact(db, lambda s: published_round(s, ballots, **options)[0].slug)  # type: ignore[arg-type]


def closed(db: Database, phase: Phase = Phase.GESLOTEN) -> tuple[str, int]:
    def build(session: Session) -> tuple[str, int]:
        round_ = closed_round(session, SPLIT, costs=SPLIT_COSTS, phase=phase)
        return round_.slug, round_.area_id

    return transact(db, build)


# -- public pages -------------------------------------------------------------------------------


def test_results_are_not_found_before_publication(client: TestClient, db: Database) -> None:
    def signed_off(session: Session) -> str:
        round_ = closed_round(session, SPLIT, costs=SPLIT_COSTS)
        actor = make_staff(session, area_ids=[round_.area_id])
        results.count(session, actor, round_.slug, NOW)
        results.sign_off(session, actor, round_.slug, confirmed=True, decision="", now=NOW)
        return round_.slug

    slug = transact(db, signed_off)
    for path in PUBLIC_PATHS:
        response = client.get(path.format(slug=slug))
        assert response.status_code == 404, path
        assert "Plan 0" not in response.text
    assert client.get("/rondes/bestaat-niet/uitslag").status_code == 404


def test_the_results_page_shows_what_was_funded_and_why(client: TestClient, db: Database) -> None:
    slug = publish(db)
    response = client.get(f"/rondes/{slug}/uitslag")
    assert response.status_code == 200
    html = response.text
    assert_no_inline_code(html)
    funded = html.split('id="niet-door"')[0]
    for title in ("Plan 1", "Plan 2", "Plan 3"):
        assert title in funded
    assert "Plan 0" in html.split('id="niet-door"')[1]
    assert "Dit plan kreeg" in html or "kiezers kozen dit plan" in html
    assert "Nadat \u201ePlan 1\u201d was gekozen" in html  # plan 0's money went to plan 1
    assert "€\xa08.000 van de €\xa010.000" in html
    view = read(db, results.public_view, slug)
    assert view.sha256 in html
    assert f"proeftuin allocate {slug}.pb --rule equal-shares" in html
    assert f"--seed {view.tie_break_seed}" in html
    # The seed is revealed, with its SHA-256, the same as the round page showed from voting on.
    committed = hashlib.sha256(view.tie_break_seed.encode()).hexdigest()
    assert f"<code>{committed}</code>" in html
    assert "Dit is dezelfde vingerafdruk als die vanaf het begin van het stemmen" in html
    svg = re.search(r"<svg.*?</svg>", html, re.DOTALL)
    assert svg is not None
    assert 'role="img"' in svg.group(0)
    ET.fromstring(svg.group(0))  # well-formed


def test_public_pages_are_the_same_on_every_request(client: TestClient, db: Database) -> None:
    slug = publish(db)
    for path in PUBLIC_PATHS:
        first = client.get(path.format(slug=slug))
        assert first.status_code == 200, path
        assert client.get(path.format(slug=slug)).content == first.content, path


def test_downloads_are_attachments_with_their_checksum(client: TestClient, db: Database) -> None:
    slug = publish(db)
    response = client.get(f"/rondes/{slug}/uitslag/stemmen.pb")
    assert response.headers["content-disposition"] == f'attachment; filename="{slug}.pb"'
    view = read(db, results.public_view, slug)
    assert hashlib.sha256(response.content).hexdigest() == view.sha256
    assert response.headers["etag"] == f'"{view.sha256}"'
    assert response.content.startswith(b"META\n")


def test_how_it_was_counted_uses_this_rounds_numbers(client: TestClient, db: Database) -> None:
    slug = publish(db)
    html = client.get(f"/rondes/{slug}/uitslag/uitleg").text
    assert "€\xa010.000 gedeeld door 10 kiezers is €\xa01.000 per kiezer" in html
    assert "parse_pabulib" in html
    assert "Met de meeste stemmen eerst waren deze plannen doorgegaan" in html
    english = client.get(f"/rondes/{slug}/uitslag/uitleg?lang=en").text
    assert "€10,000 divided by 10 voters is €1,000 per voter" in english


def test_a_voter_finds_the_tracker(client: TestClient, db: Database) -> None:
    slug = publish(db)
    receipt = read(db, lambda s: s.scalars(select(Ballot.receipt)).first())
    page = client.get(f"/rondes/{slug}/uitslag/stembonnen", params={"stembon": receipt.lower()})
    assert "uw stem is meegeteld" in page.text
    assert receipt in page.text
    missing = client.get(f"/rondes/{slug}/uitslag/stembonnen", params={"stembon": "0000-0000-0000"})
    assert "staat niet in de lijst" in missing.text
    wrong = client.get(f"/rondes/{slug}/uitslag/stembonnen", params={"stembon": "hallo"})
    assert 'aria-invalid="true"' in wrong.text


def test_the_results_page_in_english(client: TestClient, db: Database) -> None:
    slug = publish(db)
    html = client.get(f"/rondes/{slug}/uitslag?lang=en").text
    assert "These plans go ahead" in html
    assert "voters chose this plan" in html
    assert "€8,000" in html


# -- the chart ------------------------------------------------------------------------------------


def test_the_chart_is_svg_with_a_name_and_description() -> None:
    svg = bar_chart(
        [Bar("Speeltuin <script>", 412, "412", True), Bar("Bankjes", 0, "0")],
        chart_id="c",
        title="Stemmen per plan",
        description="Speeltuin 412, Bankjes 0",
    )
    root = ET.fromstring(str(svg))
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title"
    assert root.get("aria-describedby") == "c-desc"
    assert root.find(f"{ns}title").text == "Stemmen per plan"  # type: ignore[union-attr]
    labels = [t.text for t in root.iter(f"{ns}text")]
    assert labels == ["\u2713 Speeltuin <script>", "412", "Bankjes", "0"]
    widths = [r.get("width") for r in root.iter(f"{ns}rect") if "bar " in (r.get("class") or "")]
    assert widths == ["100.00%", "0.50%"]
    assert "<script>" not in str(svg)


# -- staff ----------------------------------------------------------------------------------------


def test_staff_count_compare_sign_off_and_publish(client: TestClient, db: Database) -> None:
    slug, area_id = closed(db)
    add_staff(db, "mod@gemeente.nl", area_ids=[area_id], name="Mila Moderator")
    signed_in(client, "mod@gemeente.nl")
    base = f"/beheer/rondes/{slug}/uitslag"
    page = client.get(base)
    assert page.status_code == 200
    assert "Tel de stemmen" in page.text
    assert post(client, f"{base}/tellen").status_code == 303
    page = client.get(base)
    assert "De uitslag is nog" not in page.text
    assert "Uitslag vaststellen" in page.text
    compare = client.get(f"{base}/vergelijken")
    assert compare.status_code == 200
    for rule in ("Gelijke delen", "Meeste stemmen eerst", "Zoveel mogelijk stemmen"):
        assert rule in compare.text
    assert "Kiezers van wie minstens één gekozen plan doorgaat" in compare.text
    refused = post(client, f"{base}/vaststellen", {"decision": "x"})
    assert refused.status_code == 422
    assert "Kruis aan" in refused.text
    assert post(client, f"{base}/publiceren").status_code == 422
    done = post(client, f"{base}/vaststellen", {"confirmed": "1", "decision": "Besluit 4"})
    assert done.status_code == 303
    record = client.get(f"{base}/proces-verbaal").text
    assert "Mila Moderator" in record
    assert "Besluit 4" in record
    checksum = read(db, lambda s: s.scalar(select(Result.ballots_sha256)))
    assert checksum in record
    # The audit chain's head at sign-off: later edits of the log show against it.
    head = read(db, audit.verify_chain).head
    assert f"proeftuin audit verify --head {head}" in record
    again = post(client, f"{base}/tellen")
    assert again.status_code == 422
    assert "al vastgesteld" in again.text
    assert post(client, f"{base}/publiceren").status_code == 303
    assert read(db, lambda s: s.scalar(select(Round.phase).where(Round.slug == slug))) == (
        "gepubliceerd"
    )
    assert read(db, lambda s: s.scalar(select(Result.status))) == ResultStatus.GEPUBLICEERD
    assert client.get(f"/rondes/{slug}/uitslag").status_code == 200


def test_blank_and_invalid_ballots_are_on_the_record_and_never_counted(
    client: TestClient, db: Database
) -> None:
    def build(session: Session) -> tuple[str, int]:
        round_ = closed_round(session, SPLIT, costs=SPLIT_COSTS)
        for i, reason in enumerate(("blanco", "te-veel-geld", "te-veel-geld", "onleesbaar")):
            kind = "blank" if reason == "blanco" else "invalid"
            session.add(
                PaperVoid(
                    round_id=round_.id,
                    voter_key=f"{i:064d}",
                    kind=kind,
                    reason=reason,
                    entered_on=NOW.date(),
                )
            )
        return round_.slug, round_.area_id

    slug, area_id = transact(db, build)
    add_staff(db, "mod@gemeente.nl", area_ids=[area_id])
    signed_in(client, "mod@gemeente.nl")
    base = f"/beheer/rondes/{slug}/uitslag"
    assert post(client, f"{base}/tellen").status_code == 303
    record = client.get(f"{base}/proces-verbaal").text
    assert "<dt>Blanco stembiljetten</dt><dd>1</dd>" in record
    assert (
        "<dt>Ongeldige stembiljetten</dt><dd>3 (te veel geld uitgegeven: 2; onleesbaar: 1)</dd>"
        in record
    )
    assert f"{len(SPLIT) + 4} stembiljetten" in record
    data = json.loads(read(db, lambda s: s.scalar(select(Result.data))))
    assert data["export"]["ballots"] == len(SPLIT)  # the count never saw them
    assert data["turnout"]["blank"] == 1 and data["turnout"]["invalid"] == 3


def test_staff_see_no_tally_while_voting_runs(client: TestClient, db: Database) -> None:
    slug, area_id = closed(db, Phase.STEMMEN)
    add_staff(db, "mod@gemeente.nl", area_ids=[area_id])
    signed_in(client, "mod@gemeente.nl")
    base = f"/beheer/rondes/{slug}/uitslag"
    page = client.get(base)
    assert "Tellen kan pas als het stemmen is gesloten" in page.text
    assert "Plan 0" not in page.text
    assert post(client, f"{base}/tellen").status_code == 409
    assert read(db, lambda s: s.scalar(select(Result.id))) is None
    assert "Plan 0" not in client.get(f"{base}/vergelijken").text
    assert client.get(f"{base}/proces-verbaal").status_code == 404


def test_staff_of_another_area_are_refused(client: TestClient, db: Database) -> None:
    slug, _ = closed(db)
    add_staff(db, "ander@gemeente.nl", area_ids=[])
    signed_in(client, "ander@gemeente.nl")
    base = f"/beheer/rondes/{slug}/uitslag"
    for path in (base, f"{base}/vergelijken", f"{base}/proces-verbaal"):
        assert client.get(path).status_code == 403
    assert post(client, f"{base}/tellen").status_code == 403
    assert read(db, lambda s: s.scalar(select(Result.id))) is None


def test_greedys_options_are_shown_explained_and_recomputable(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    # Half of the 6 ballots: a plan needs 3 votes. plan0 is funded, plan1 does not fit and the
    # run stops there; plan2 has 1 vote.
    slug = publish(
        db,
        ballots=STOPPING,
        costs=STOPPING_COSTS,
        rule="greedy",
        greedy_no_skip=True,
        min_vote_percent=50,
    )
    options = "zonder overslaan, een plan heeft minstens 50 procent van de stemmen nodig"
    page = client.get(f"/rondes/{slug}/uitslag").text
    assert f"Meeste stemmen eerst ({options})" in page
    assert "Het verdelen stopte hier: plannen met minder steun kwamen niet meer aan de beurt." in (
        page
    )
    assert "Een plan had minstens 3 stemmen nodig: 50% van het aantal kiezers." in page
    explained = client.get(f"/rondes/{slug}/uitslag/uitleg").text
    assert "Bij 6 kiezers was dat 3 stemmen." in explained
    assert "Zo nee, dan stopte het verdelen." in explained
    assert (
        "pabutools kent deze regels" in explained and "greedy_utilitarian_welfare" not in explained
    )
    command = re.search(r"proeftuin allocate [^<]+", explained)
    assert command is not None
    assert "--rule greedy-no-skip" in command.group() and "--threshold 3" in command.group()
    english = client.get(f"/rondes/{slug}/uitslag?lang=en").text
    assert "A plan needed at least 3 votes: 50% of the number of voters." in english

    # The printed command, run on the published file, funds what the page says.
    pb = tmp_path / f"{slug}.pb"
    pb.write_bytes(client.get(f"/rondes/{slug}/uitslag/stemmen.pb").content)
    arguments = html.unescape(command.group()).split()[2:]
    arguments[0] = str(pb)
    ran = CliRunner().invoke(main, ["allocate", *arguments, "--json"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output)["selected"] == ["plan0"]

    area_id = read(db, lambda s: s.scalar(select(Round.area_id).where(Round.slug == slug)))
    add_staff(db, "mod@gemeente.nl", area_ids=[area_id], name="Mila Moderator")
    signed_in(client, "mod@gemeente.nl")
    compare = client.get(f"/beheer/rondes/{slug}/uitslag/vergelijken?lang=nl").text
    assert f"<strong>Meeste stemmen eerst</strong> ({options}) (de manier van deze ronde)" in (
        compare
    )
