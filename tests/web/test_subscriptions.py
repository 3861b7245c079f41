"""News by e-mail through the app: the same answer whoever asks, double opt-in, a stop that needs
no sign-in and works with one click from a mail program (RFC 8058)."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from starlette.testclient import TestClient

from proeftuin.db import Database, read
from proeftuin.models import OutboxMail, Subscription
from proeftuin.services import ratelimit
from tests.factories import add_funded_round
from tests.web.clients import post


def outbox(db: Database) -> list[OutboxMail]:
    return read(db, lambda s: list(s.scalars(select(OutboxMail).order_by(OutboxMail.id))))


def main_text(html: str) -> str:
    """The page without its CSRF tokens, which differ per session."""
    return re.sub(r'value="[^"]{20,}"', "", html)


def subscribers(db: Database, confirmed: bool) -> int:
    column = Subscription.confirmed_at
    where = column.is_not(None) if confirmed else column.is_(None)
    return read(db, lambda s: s.scalar(select(func.count(Subscription.id)).where(where)))


def test_subscribing_confirming_and_stopping(db: Database, client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    slug = add_funded_round(db)
    assert "/berichten?ronde=" in client.get(f"/rondes/{slug}").text
    form = client.get(f"/berichten?ronde={slug}")
    assert form.status_code == 200 and "Uw e-mailadres" in form.text

    first = post(client, "/berichten", {"ronde": slug, "email": "anna@example.nl"})
    again = post(client, "/berichten", {"ronde": slug, "email": "anna@example.nl"})
    assert first.status_code == again.status_code == 200
    assert main_text(first.text) == main_text(again.text)
    [confirmation] = outbox(db)  # asking again sent no second mail
    link = re.search(r"http://testserver(/berichten/bevestigen\?t=\S+)", confirmation.body)
    assert link is not None
    page = client.get(link.group(1))
    assert page.status_code == 200 and subscribers(db, confirmed=True) == 0  # GET changes nothing
    token = link.group(1).split("t=")[1]
    done = post(client, "/berichten/bevestigen", {"t": token})
    assert "U bent aangemeld" in done.text and subscribers(db, confirmed=True) == 1

    known = post(client, "/berichten", {"ronde": slug, "email": "anna@example.nl"})
    assert main_text(known.text) == main_text(first.text)  # nothing tells it was known
    assert len(outbox(db)) == 1

    stop = confirmation.unsubscribe_url.replace("http://testserver", "")
    assert client.get(stop).status_code == 200 and subscribers(db, confirmed=True) == 1
    with TestClient(app) as mail_program:  # no session, no token: the one-click POST
        response = mail_program.post(stop, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert subscribers(db, confirmed=True) == 0


def test_bad_input_gets_a_dutch_message_and_changes_nothing(
    db: Database, client: TestClient
) -> None:
    slug = add_funded_round(db)
    response = post(client, "/berichten", {"ronde": slug, "email": "geen adres"})
    assert response.status_code == 422 and "geldig e-mailadres" in response.text
    assert post(client, "/berichten", {"ronde": "nergens", "email": "a@b.nl"}).status_code == 404
    assert client.get("/berichten").status_code == 404
    assert post(client, "/berichten/bevestigen", {"t": "onzin"}).status_code == 404
    assert outbox(db) == [] and subscribers(db, confirmed=False) == 0


def test_one_sender_cannot_have_mail_sent_to_many_addresses(
    db: Database, client: TestClient
) -> None:
    slug = add_funded_round(db)
    limit = ratelimit.MAIL_PER_IP.max_failures
    for n in range(limit):
        response = post(client, "/berichten", {"ronde": slug, "email": f"iemand{n}@example.nl"})
        assert response.status_code == 200
    refused = post(client, "/berichten", {"ronde": slug, "email": "nog-een@example.nl"})
    assert refused.status_code == 429 and "Te veel pogingen" in refused.text
    assert len(outbox(db)) == limit
