"""The demo's conversations: questions answered by the author and the wijkraad, arguments for
and against, and one comment the wijkraad hid with its reason. Entered through the same service
calls residents and staff make (limits, labels, audit); a plan that has comments is left alone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.models import Comment, Plan, Resident, Round
from proeftuin.services import comments, ratelimit
from proeftuin.services.comments import CommentInput
from proeftuin.services.permissions import Actor

KEY_SALT = "demo"  # only keys the rate-limit rows of the seeding itself
# The residents who take part in the demo's discussions (name, e-mail address).
TALKERS = (
    ("Anouk", "demo-anouk@proeftuin.example"),
    ("Kees", "demo-kees@proeftuin.example"),
    ("Samira", "demo-samira@proeftuin.example"),
)
AUTHOR = "auteur"
COUNCIL = "wijkraad"
# Per plan (by its title): (who, kind, text, answers) with answers as (who, text); "who" is a
# talker's name, AUTHOR (the demo resident who proposed the plan) or COUNCIL (staff).
DISCUSSIONS: dict[str, list[tuple[str, str, str, list[tuple[str, str]]]]] = {
    "Speeltuin Julianapark opknappen": [
        (
            "Anouk",
            "vraag",
            "Komt er ook iets voor kinderen in een rolstoel?",
            [
                (AUTHOR, "Ja, we willen een draaischijf en een zandtafel op rolstoelhoogte."),
                (COUNCIL, "De gemeente heeft de kosten daarvan meegenomen in het bedrag."),
            ],
        ),
        (
            "Kees",
            "voor",
            "Mijn kleinkinderen spelen er elke week. De glijbaan is echt aan vervanging toe.",
            [],
        ),
        (
            "Samira",
            "tegen",
            "Het park is al druk. Liever een speelplek aan de andere kant van de wijk.",
            [],
        ),
        ("Kees", "reactie", "Dit is de slechtste buurt van de stad en iedereen hier is gek!!!", []),
    ],
    "Groene schoolpleinen": [
        (
            "Samira",
            "vraag",
            "Wie onderhoudt de moestuin in de zomervakantie?",
            [(AUTHOR, "Ouders en buren maken een rooster. Twee buren hebben zich al gemeld.")],
        ),
        ("Anouk", "voor", "Minder tegels betekent minder wateroverlast bij hoosbuien.", []),
    ],
    "AED in de dorpskern": [
        (
            "Kees",
            "vraag",
            "Wie leert ons hoe de AED werkt?",
            [(COUNCIL, "De dorpsraad organiseert samen met de EHBO twee avonden met uitleg.")],
        ),
        ("Samira", "voor", "Bij de vorige hartstilstand duurde het te lang voor er hulp was.", []),
    ],
}
HIDDEN = ("Dit is de slechtste buurt", "Beledigend voor de buurtbewoners.")


def seed_comments(
    session: Session, actor: Actor, author_id: int, rounds: list[Round], now: dt.datetime
) -> None:
    talkers = {name: _talker(session, name, email, now) for name, email in TALKERS}
    talkers[AUTHOR] = author_id
    plans = session.scalars(
        select(Plan).where(
            Plan.round_id.in_([r.id for r in rounds]), Plan.title.in_(list(DISCUSSIONS))
        )
    )
    moment = now - dt.timedelta(days=3)
    for plan in plans:
        if session.scalar(select(Comment.id).where(Comment.plan_id == plan.id).limit(1)):
            continue
        for who, kind, text, answers in DISCUSSIONS[plan.title]:
            moment += dt.timedelta(hours=2)
            made = _post(session, actor, plan, talkers, who, CommentInput(text, kind), moment)
            for answerer, answer in answers:
                moment += dt.timedelta(hours=1)
                reply = CommentInput(answer, "reactie", str(made.id))
                _post(session, actor, plan, talkers, answerer, reply, moment)
            if text.startswith(HIDDEN[0]):
                comments.decide(session, actor, plan, str(made.id), "verbergen", HIDDEN[1])


def _post(
    session: Session,
    actor: Actor,
    plan: Plan,
    talkers: dict[str, int],
    who: str,
    data: CommentInput,
    moment: dt.datetime,
) -> Comment:
    if who == COUNCIL:
        return comments.post_as_staff(session, actor, plan, data)
    return comments.post_as_resident(
        session,
        plan,
        talkers[who],
        data,
        secret_key=KEY_SALT,
        ip_key=ratelimit.hash_key(KEY_SALT, f"adres-{who}"),
        now=moment,
    )


def _talker(session: Session, name: str, email: str, now: dt.datetime) -> int:
    resident = session.scalar(select(Resident).where(Resident.email == email))
    if resident is None:
        resident = Resident(email=email, display_name=name, verified_at=now)
        session.add(resident)
        session.flush()
    return resident.id
