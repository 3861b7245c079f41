"""Words residents read for the model's codes (B1 Dutch msgids; translated when rendered)."""

from __future__ import annotations

from proeftuin.i18n import N_
from proeftuin.models import Phase

PHASE_LABELS: dict[Phase, str] = {
    Phase.CONCEPT: N_("In voorbereiding"),
    Phase.INDIENEN: N_("Plannen indienen"),
    Phase.BEOORDELEN: N_("Plannen worden bekeken"),
    Phase.STEMMEN: N_("Stemmen"),
    Phase.GESLOTEN: N_("Stemmen is voorbij"),
    Phase.GEPUBLICEERD: N_("Uitslag bekend"),
}


def phase_label(phase: str) -> str:
    return PHASE_LABELS[Phase(phase)]
