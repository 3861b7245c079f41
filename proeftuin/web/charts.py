"""A horizontal bar chart as inline SVG, drawn on the server: no chart library, no script.

Made for a phone first: one row per bar, the label and the number on a line of their own above
the bar, widths in percent so the chart fills whatever width it gets while the text keeps its size
(no viewBox, so nothing is scaled down to unreadable). The SVG is one image to assistive
technology (``role="img"``), named by its title and described by its description; the page puts the
same numbers in text next to it. Funded bars differ by a tick in the label, not by colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

ROW_HEIGHT = 48
LABEL_BASELINE = 18
BAR_TOP = 26
BAR_HEIGHT = 14
LABEL_LIMIT = 30  # characters; longer titles are cut with "…" (the full title is in the text)
MIN_BAR_PERCENT = 0.5  # a bar of 0 would vanish: show a sliver so the row reads as "zero"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    value_text: str  # the number as shown ("1.234"), in the reader's language
    highlighted: bool = False  # a funded plan


def bar_chart(
    bars: Sequence[Bar], *, chart_id: str, title: str, description: str, mark: str = "\u2713"
) -> Markup:
    """The SVG for ``bars`` in the given order; ``mark`` goes before highlighted labels."""
    top = max((bar.value for bar in bars), default=0)
    height = ROW_HEIGHT * len(bars)
    parts = [
        Markup(
            '<svg class="results-chart" xmlns="http://www.w3.org/2000/svg" width="100%" '
            'height="{height}" role="img" aria-labelledby="{id}-title" '
            'aria-describedby="{id}-desc" focusable="false">'
        ).format(height=height, id=chart_id),
        Markup('<title id="{id}-title">{title}</title>').format(id=chart_id, title=title),
        Markup('<desc id="{id}-desc">{description}</desc>').format(
            id=chart_id, description=description
        ),
    ]
    for row, bar in enumerate(bars):
        y = row * ROW_HEIGHT
        percent = 100 * bar.value / top if top else 0
        width = max(percent, MIN_BAR_PERCENT)
        kind = "funded" if bar.highlighted else "other"
        label = _cut(bar.label)
        if bar.highlighted:
            label = f"{mark} {label}"
        parts.append(
            Markup(
                '<g class="results-chart__row results-chart__row--{kind}">'
                '<text class="results-chart__label" x="0" y="{label_y}">{label}</text>'
                '<text class="results-chart__value" x="100%" y="{label_y}" '
                'text-anchor="end">{value}</text>'
                '<rect class="results-chart__track" x="0" y="{bar_y}" width="100%" '
                'height="{bar_height}" rx="2"></rect>'
                '<rect class="results-chart__bar results-chart__bar--{kind}" x="0" y="{bar_y}" '
                'width="{width:.2f}%" height="{bar_height}" rx="2"></rect>'
                "</g>"
            ).format(
                kind=kind,
                label_y=y + LABEL_BASELINE,
                label=label,
                value=bar.value_text,
                bar_y=y + BAR_TOP,
                bar_height=BAR_HEIGHT,
                width=width,
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _cut(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= LABEL_LIMIT:
        return text
    return text[: LABEL_LIMIT - 1].rstrip() + "\u2026"
