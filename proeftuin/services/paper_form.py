"""The printable paper ballot of a round (PDF): the plans with their costs, a box for each, the
instructions of the round's ballot kind, a place for the code from the letter, and what makes a
ballot blank or invalid. Printed on request, so it shows the round as it is at that moment.
"""

from __future__ import annotations

import datetime as dt

from babel.numbers import format_decimal
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy.orm import Session

from proeftuin.i18n import LOCALES, N_, gettext
from proeftuin.models import Plan, Round
from proeftuin.services import ballot_kinds, letters, lookup, pdf, voting
from proeftuin.services.ballot_kinds.spec import RoundRules
from proeftuin.services.permissions import Actor

BOX_MM = 8  # a box to tick or to write points in: large enough for a shaky hand


def paper_ballot_pdf(
    session: Session, actor: Actor, round_id: int, gemeente: str, language: str, now: dt.datetime
) -> bytes:
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    plans = voting.ballot_plans(session, round_)
    rules = ballot_kinds.rules_of(round_)
    return render(round_, plans, rules, letters.sender(session, gemeente), language, now)


def render(
    round_: Round,
    plans: list[Plan],
    rules: RoundRules,
    sender: letters.Sender,
    language: str,
    now: dt.datetime,
) -> bytes:
    def say(message: str, **params: object) -> str:
        return pdf.say(message, language, **params)

    def euros(amount: int) -> str:
        return "\u20ac " + format_decimal(amount, locale=LOCALES[language])

    doc = pdf.document(say(N_("Stembiljet: {title}"), title=round_.title), language, now)
    doc.add_page()
    doc.set_font(pdf.FONT, size=10)
    pdf.line(doc, 5, pdf.fit(sender.gemeente))
    doc.set_font(pdf.FONT, style="B", size=16)
    pdf.line(doc, 8, say(N_("Stembiljet: {title}"), title=round_.title))
    doc.set_font(pdf.FONT, size=11)
    pdf.line(
        doc,
        6,
        say(N_("{area}. Budget: {budget}."), area=round_.area.name, budget=euros(round_.budget)),
    )
    doc.ln(3)
    for line in [*kind_instructions(rules, language), *letters.when(round_, language, now)]:
        pdf.line(doc, 6, "- " + pdf.fit(line))
    doc.ln(3)
    _code_boxes(doc, say(N_("Uw code (van uw brief):")))
    doc.ln(4)
    points = ballot_kinds.spec(rules.kind).uses_points
    doc.set_font(pdf.FONT, style="B", size=11)
    head = say(N_("Punten")) if points else say(N_("Kruisje"))
    doc.cell(22, 7, head, border="B")
    doc.cell(118, 7, say(N_("Plan")), border="B")
    doc.cell(30, 7, say(N_("Kosten")), border="B", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font(pdf.FONT, size=11)
    for plan in plans:
        _plan_row(doc, plan, euros(plan.official_cost or 0), points)
    doc.ln(4)
    doc.set_font(pdf.FONT, size=9)
    for line in (
        say(N_("Een stembiljet zonder keuzes is blanco. Het telt mee voor de opkomst.")),
        say(
            N_(
                "Een stembiljet dat niet aan de regels voldoet, of dat we niet kunnen lezen, is "
                "ongeldig. Het telt mee voor de opkomst, maar niet in de uitslag."
            )
        ),
        say(N_("Met uw code kunt u één keer stemmen: op papier of online.")),
        *(pdf.fit(line) for line in sender.contact),
    ):
        pdf.line(doc, 5, line)
    return pdf.to_bytes(doc)


def _code_boxes(doc: FPDF, label: str) -> None:
    doc.set_font(pdf.FONT, style="B", size=11)
    doc.cell(60, 10, label)
    x, y = doc.get_x(), doc.get_y()
    for group in range(3):
        doc.rect(x + group * 36, y, 30, 10)
        if group < 2:
            doc.line(x + group * 36 + 31, y + 5, x + group * 36 + 35, y + 5)
    doc.ln(10)
    doc.set_font(pdf.FONT, size=11)


def _plan_row(doc: FPDF, plan: Plan, cost: str, points: bool) -> None:
    if doc.will_page_break(12):
        doc.add_page()
    y = doc.get_y() + 2
    doc.rect(doc.l_margin + (2 if points else 6), y, BOX_MM + (8 if points else 0), BOX_MM)
    doc.set_xy(doc.l_margin + 22, y + 1)
    doc.multi_cell(118, 6, pdf.fit(plan.title), new_x=XPos.RIGHT, new_y=YPos.TOP)
    bottom = max(doc.get_y(), y + BOX_MM)
    doc.set_xy(doc.l_margin + 140, y + 1)
    doc.cell(30, 6, pdf.fit(cost), align="R")
    doc.set_xy(doc.l_margin, bottom + 2)
    doc.line(doc.l_margin, bottom + 2, doc.l_margin + 170, bottom + 2)


def kind_instructions(rules: RoundRules, language: str) -> list[str]:
    """How to fill in the round's kind of ballot, in plain language (B1): the kind's own steps
    (its spec), then the round's limits on the number of plans."""

    def say(message: str, params: dict[str, int]) -> str:
        shown = {
            key: format_decimal(value, locale=LOCALES[language]) for key, value in params.items()
        }
        return gettext(message, language, **shown)

    spec = ballot_kinds.spec(rules.kind)
    steps = [say(message, params) for message, params in spec.paper_steps(rules)]
    if rules.min_choices:
        steps.append(say(N_("Kies minstens {count} plannen."), {"count": rules.min_choices}))
    if rules.max_choices is not None:
        steps.append(say(N_("Kies hoogstens {count} plannen."), {"count": rules.max_choices}))
    last = (
        N_("Schrijf alleen een heel getal in het vakje. Schrijf verder niets op.")
        if spec.uses_points
        else N_("Zet één kruisje per plan, in het vakje. Schrijf verder niets op.")
    )
    steps.append(say(last, {}))
    return steps
