"""Two real ``proeftuin serve`` processes on one PostgreSQL database, as behind a load balancer.

Each server has its own instance folder: all they share is the database and the secrets (key and
pepper) from their environment. One browser (one cookie jar) alternates between them, so every
step below only works if no state lives in a server process:

- a resident asks for a sign-in link on A, opens it on B, fills in the profile on A, starts voting
  on B, reviews on A and casts on B (signed cookie, e-mail over SMTP from the DB outbox);
- a voter types the letter code on A and completes the ballot on B (the signed voting pass);
- a moderator signs in on A, works on B, signs out on B: the old cookie is refused on A
  (server-side staff sessions);
- wrong codes split over both servers hit one shared limit (rate limits in the database);
- 20 submissions of one code, released together and split over both servers: one ballot;
- the built-in schedulers of both servers close a due round once and send a queued mail once.

PostgreSQL is required like in the other PostgreSQL tests (PROEFTUIN_REQUIRE_POSTGRES=1 in CI).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from proeftuin.db import Database, connect, read, transact, utcnow
from proeftuin.models import AuditEvent, Ballot, BallotChoice, Eligibility, Phase, Plan, Round
from proeftuin.services import outbox, voting
from tests.conftest import create_postgres_database, drop_postgres_database, need_postgres
from tests.factories import make_round
from tests.smtp import Inbox, free_port, wait_for_mail

SECRET = "two-servers-secret-key-" + "k" * 32
PEPPER = "two-servers-code-pepper-" + "p" * 32
BASE_URL = "http://burgerbegroting.test"  # the address behind the (imagined) proxy
ADMIN_EMAIL = "beheer@gemeente.example"
ADMIN_PASSWORD = "een lang en sterk wachtwoord 2027"
START_SECONDS = 30
CODE = re.compile(r"^\s+([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$", re.M)


# -- The servers -----------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    database_url: str
    database: Database
    a: Server
    b: Server
    inbox: Inbox
    codes: list[str]
    voting_round: str
    _next_code: int = 0
    _next_ip: int = 10

    def take_code(self) -> str:
        """A letter code no other test used."""
        code = self.codes[self._next_code]
        self._next_code += 1
        return code

    def browser(self) -> httpx.Client:
        """One visitor: one cookie jar for both servers, behind the proxy with its own address."""
        self._next_ip += 1
        return httpx.Client(
            headers={"X-Forwarded-For": f"198.51.100.{self._next_ip}"},
            timeout=30,
            follow_redirects=False,
        )


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "proeftuin", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"proeftuin {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def start(name: str, env: dict[str, str], tmp: Path) -> Server:
    port = free_port()
    log = tmp / f"server-{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "proeftuin", "serve", "--port", str(port)],
            env={**env, "PROEFTUIN_INSTANCE_PATH": str(tmp / f"instance-{name}")},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Server(name, f"http://127.0.0.1:{port}", process, log)


def wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"server {server.name} stopped while starting:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server {server.name} was not ready in {START_SECONDS}s:\n{server.output()}")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)  # uvicorn shuts down gracefully
        try:
            server.process.wait(20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(10)
            pytest.fail(f"server {server.name} did not stop on SIGTERM:\n{server.output()}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    need_postgres()
    tmp = tmp_path_factory.mktemp("two-servers")
    url = create_postgres_database("proeftuin_servers")
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROEFTUIN_")},
        "PROEFTUIN_ENV": "test",
        "PROEFTUIN_DATABASE_URL": url,
        "PROEFTUIN_SECRET_KEY": SECRET,
        "PROEFTUIN_CODE_PEPPER": PEPPER,
        "PROEFTUIN_BASE_URL": BASE_URL,
        "PROEFTUIN_INSTANCE_PATH": str(tmp / "instance-cli"),
        "PROEFTUIN_SMTP_HOST": "127.0.0.1",
        "PROEFTUIN_SMTP_PORT": str(smtp.port),
        "PROEFTUIN_MAIL_FROM": "Burgerbegroting <noreply@gemeente.example>",
        "PROEFTUIN_TRUSTED_PROXIES": "127.0.0.1",  # the test plays the proxy
        "PROEFTUIN_JOBS_INTERVAL": "1",
        "PROEFTUIN_ACCESS_LOG": "1",
        "PYTHONUNBUFFERED": "1",
    }
    servers: list[Server] = []
    database = connect(url)
    try:
        cli(env, "db", "upgrade")
        listed = CODE.findall(cli(env, "demo"))
        assert len(listed) >= 25, listed
        cli(
            env,
            *("create-admin", "--email", ADMIN_EMAIL, "--name", "Beheer"),
            *("--password", ADMIN_PASSWORD),
        )
        # Residents may vote in the demo round with a verified e-mail address too.
        slug = "buurtbudget-centrum-oost-2027"
        transact(
            database,
            lambda s: s.execute(
                update(Round)
                .where(Round.slug == slug)
                .values(eligibility=Eligibility.CODES_OR_EMAIL.value)
            ),
        )
        servers = [start("a", env, tmp), start("b", env, tmp)]
        for server in servers:
            wait_until_ready(server)
        yield Cluster(url, database, servers[0], servers[1], inbox, listed, slug)
    finally:
        for server in servers:
            stop(server)
        smtp.stop()
        database.dispose()
        drop_postgres_database(url)
    for server in servers:
        check_server_log(server)


def check_server_log(server: Server) -> None:
    """The access log is ours (JSON, no addresses, no query strings), and nothing crashed."""
    output = server.output()
    requests = [line for line in output.splitlines() if line.startswith('{"time"')]
    assert requests, f"no access log lines from server {server.name}"
    assert '"path": "/readyz"' in output
    assert "198.51.100." not in output  # visitors' addresses
    assert "token=" not in output and "?" not in "".join(requests)
    assert '"status": 5' not in output, output
    assert "Traceback" not in output, output


# -- Reading pages ---------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # hidden and text fields, with values
    choices: list[str] = field(default_factory=list)  # checkbox names


class Forms(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(urlsplit(values.get("action", "")).path))
        elif tag == "input" and self.forms and "name" in values:
            if values.get("type") == "checkbox":
                self.forms[-1].choices.append(values["name"])
            else:
                self.forms[-1].fields[values["name"]] = values.get("value", "")


def form(response: httpx.Response, action: str) -> Form:
    assert response.status_code == 200, (response.status_code, response.text[:2000])
    found = [f for f in Forms(response.text).forms if f.action == action]
    assert found, f"no form posting to {action} on {response.url}"
    return found[0]


def submit(
    client: httpx.Client, server: Server, page: httpx.Response, action: str, **extra: str
) -> httpx.Response:
    """Post the form on ``page`` that goes to ``action`` to ``server``, with ``extra`` added."""
    fields = form(page, action).fields | extra
    return client.post(f"{server.url}{action}", data=fields)


def mail_text(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def ballot_of(database: Database, receipt: str) -> list[str]:
    """The public ids of the plans on the ballot with this receipt."""

    def query(session: Session) -> list[str]:
        return list(
            session.scalars(
                select(Plan.public_id)
                .join(BallotChoice, BallotChoice.plan_id == Plan.id)
                .join(Ballot, Ballot.id == BallotChoice.ballot_id)
                .where(Ballot.receipt == receipt)
                .order_by(Plan.public_id)
            )
        )

    return read(database, query)


def receipt_of(response: httpx.Response) -> str:
    assert response.status_code == 303, (response.status_code, response.text[:2000])
    location = response.headers["location"]
    assert location.startswith("/stem/bedankt?")
    return parse_qs(urlsplit(location).query)["bon"][0]


# -- The tests -------------------------------------------------------------------------------


def test_a_resident_signs_in_on_one_server_and_votes_on_the_other(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    email = "bewoner.twee-servers@example.nl"
    with cluster.browser() as browser:
        sent = submit(
            browser, a, browser.get(f"{a.url}/inloggen"), "/inloggen", email=email, next="/stem"
        )
        assert sent.status_code == 200
        link = re.search(r"https?://\S+", mail_text(wait_for_mail(cluster.inbox, email)))
        assert link and link.group(0).startswith(f"{BASE_URL}/inloggen/link?token=")
        opened = urlsplit(link.group(0))

        page = browser.get(f"{b.url}{opened.path}?{opened.query}")
        signed_in = submit(browser, b, page, "/inloggen/link")
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/stem"

        profile = browser.get(f"{a.url}/profiel?next=/stem")
        saved = submit(browser, a, profile, "/profiel", display_name="Bewoner", postcode="9402 AB")
        assert saved.status_code == 303, saved.text[:2000]

        start_page = browser.get(f"{b.url}/stem")
        ballot = submit(
            browser, b, start_page, "/stem/email", ronde=cluster.voting_round, verklaring="1"
        )
        chosen = form(ballot, "/stem/controleer").choices[:2]
        review = submit(browser, a, ballot, "/stem/controleer", **dict.fromkeys(chosen, "1"))
        cast = submit(browser, b, review, "/stem/uitbrengen")
        receipt = receipt_of(cast)
        assert browser.get(f"{a.url}/stem/bedankt?bon={receipt}").status_code == 200

    assert ballot_of(cluster.database, receipt) == sorted(c.removeprefix("keuze.") for c in chosen)


def test_a_letter_code_typed_on_one_server_is_cast_on_the_other(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    with cluster.browser() as browser:
        ballot = submit(browser, a, browser.get(f"{a.url}/stem"), "/stem", code=cluster.take_code())
        chosen = form(ballot, "/stem/controleer").choices[-1:]
        review = submit(browser, b, ballot, "/stem/controleer", **dict.fromkeys(chosen, "1"))
        receipt = receipt_of(submit(browser, a, review, "/stem/uitbrengen"))
    assert ballot_of(cluster.database, receipt) == [chosen[0].removeprefix("keuze.")]


def test_a_moderators_sign_out_on_one_server_is_honoured_by_the_other(
    cluster: Cluster,
) -> None:
    a, b = cluster.a, cluster.b
    with cluster.browser() as browser:
        signed_in = submit(
            browser,
            a,
            browser.get(f"{a.url}/beheer/inloggen"),
            "/beheer/inloggen",
            email=ADMIN_EMAIL,
            password=ADMIN_PASSWORD,
        )
        assert signed_in.status_code == 303, signed_in.text[:2000]
        old_cookie = browser.cookies["proeftuin_session"]
        dashboard = browser.get(f"{b.url}/beheer")
        assert dashboard.status_code == 200  # the session made on A counts on B
        signed_out = submit(browser, b, dashboard, "/beheer/uitloggen")
        assert signed_out.status_code == 303

    # Someone who kept the cookie from before the sign-out (a shared computer, a stolen copy).
    with cluster.browser() as replay:
        replay.cookies.set("proeftuin_session", old_cookie)
        refused = replay.get(f"{a.url}/beheer")
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/beheer/inloggen")


def test_wrong_codes_on_both_servers_count_against_one_limit(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    with cluster.browser() as browser:
        statuses = []
        for attempt in range(10):  # the limit: 10 wrong codes per IP per 15 minutes
            server = (a, b)[attempt % 2]
            page = browser.get(f"{server.url}/stem")
            statuses.append(
                submit(browser, server, page, "/stem", code="AAAA-BBBB-CCCC").status_code
            )
        assert 429 not in statuses
        for server in (a, b):
            refused = submit(
                browser, server, browser.get(f"{server.url}/stem"), "/stem", code="AAAA-BBBB-CCCC"
            )
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) > 0
    # Another visitor (another address behind the proxy) is not blocked.
    with cluster.browser() as other:
        page = other.get(f"{b.url}/stem")
        assert submit(other, b, page, "/stem", code=cluster.take_code()).status_code == 200


def test_twenty_submissions_of_one_code_over_both_servers_make_one_ballot(
    cluster: Cluster,
) -> None:
    code = cluster.take_code()
    voters = 20
    browsers = [cluster.browser() for _ in range(voters)]
    reviews: list[tuple[httpx.Client, Server, httpx.Response, str]] = []
    for i, browser in enumerate(browsers):
        server = (cluster.a, cluster.b)[i % 2]
        ballot = submit(browser, server, browser.get(f"{server.url}/stem"), "/stem", code=code)
        options = form(ballot, "/stem/controleer").choices
        chosen = options[i % len(options)]
        review = submit(browser, server, ballot, "/stem/controleer", **{chosen: "1"})
        # Cast on the other server than the one that showed the review.
        reviews.append((browser, (cluster.b, cluster.a)[i % 2], review, chosen))

    barrier = threading.Barrier(voters)
    responses: list[httpx.Response | BaseException] = [httpx.Response(0)] * voters

    def cast(i: int) -> None:
        browser, server, review, _ = reviews[i]
        fields = form(review, "/stem/uitbrengen").fields
        barrier.wait(30)
        try:
            responses[i] = browser.post(f"{server.url}/stem/uitbrengen", data=fields)
        except BaseException as error:
            responses[i] = error

    threads = [threading.Thread(target=cast, args=(i,)) for i in range(voters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for browser in browsers:
        browser.close()

    problems = [r for r in responses if not isinstance(r, httpx.Response) or r.status_code != 303]
    assert problems == [], [getattr(p, "status_code", p) for p in problems]

    def ballots_of_code(session: Session) -> list[Ballot]:
        _, credential = voting.check_code(session, PEPPER, code)
        return list(session.scalars(select(Ballot).where(Ballot.voter_key == credential.voter_key)))

    [ballot] = read(cluster.database, ballots_of_code)
    # The one ballot holds one of the submitted choices, whole, and its receipt was handed out.
    receipts = {receipt_of(r) for r in responses if isinstance(r, httpx.Response)}
    assert ballot.receipt in receipts
    submitted = {chosen.removeprefix("keuze.") for *_, chosen in reviews}
    assert len(ballot_of(cluster.database, ballot.receipt)) == 1
    assert ballot_of(cluster.database, ballot.receipt)[0] in submitted


def test_both_schedulers_close_a_due_round_once_and_send_a_mail_once(cluster: Cluster) -> None:
    database = cluster.database

    def due(session: Session) -> int:
        ended = utcnow() - dt.timedelta(minutes=5)
        return make_round(session, phase=Phase.STEMMEN, voting_ends_at=ended).id

    round_id = transact(database, due)
    transact(database, outbox.queue, "planner@example.nl", "Herinnering", "Het stemmen sluit.")

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if read(database, lambda s: s.get_one(Round, round_id).phase) == Phase.GESLOTEN:
            break
        time.sleep(0.1)
    wait_for_mail(cluster.inbox, "planner@example.nl")
    time.sleep(3)  # both schedulers run a few more times

    events = read(
        database,
        lambda s: s.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "round.phase", AuditEvent.target_id == round_id
            )
        ),
    )
    assert read(database, lambda s: s.get_one(Round, round_id).phase) == Phase.GESLOTEN
    assert events == 1
    assert [m["To"] for m in cluster.inbox.messages].count("planner@example.nl") == 1
