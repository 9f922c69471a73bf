"""Server-side SVG charts: horizontal bars, drawn as inline <svg> with no script and no style
attribute (the CSP allows neither), only SVG presentation attributes.

Every chart is an image with a title and a description (role="img", aria-labelledby) and is
followed on the page by its data table, which is what a screen reader reads. Each bar carries
its value as text, so the chart never relies on colour alone; a suppressed count ("<5") is a bar
of zero length labelled "<5".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup

WIDTH = 720
MARGIN = 8
ROW_HEIGHT = 46
LABEL_BASELINE = 16  # the label sits above its bar
BAR_TOP = 22
BAR_HEIGHT = 16
VALUE_ROOM = 120  # room right of the longest bar for its value
LABEL_MAX = 95  # characters of a label shown in the chart (the table has it whole)
# Bootstrap Italia's primary blue (5.6:1 on white) for bars; near-black text (17:1); a grey
# axis (5.3:1): all above WCAG's 3:1 for graphics and 4.5:1 for text.
BAR_FILL = "#0066CC"
TEXT_FILL = "#1A1A1A"
AXIS_STROKE = "#5C6F82"
FONT = "Titillium Web, Geneva, Tahoma, sans-serif"
_ID = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | float | Decimal | str | None  # a string (a suppressed "<5") draws no bar
    text: str  # the value as the page shows it


def _number(value: int | float | Decimal | str | None) -> float:
    if value is None or isinstance(value, str):
        return 0.0
    return max(float(value), 0.0)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1].rstrip() + "…"


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    scale_max: float | None = None,
) -> Markup:
    """A horizontal bar chart as inline SVG; empty Markup when there are no bars.

    Bars are scaled to the largest value, or to `scale_max` (100 for percentages)."""
    if not bars:
        return Markup("")
    chart_id = _ID.sub("-", chart_id)
    height = ROW_HEIGHT * len(bars) + MARGIN
    top = max([_number(bar.value) for bar in bars] + [scale_max or 0.0])
    room = WIDTH - 2 * MARGIN - VALUE_ROOM
    # Markup.format escapes every argument: labels and titles cannot inject markup.
    parts = [
        Markup(
            '<svg class="report-chart" role="img" aria-labelledby="{id}-title {id}-desc"'
            ' viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="{font}"'
            ' font-size="14" xmlns="http://www.w3.org/2000/svg">'
            '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        ).format(id=chart_id, w=WIDTH, h=height, font=FONT, title=title, desc=description)
    ]
    for index, bar in enumerate(bars):
        y = MARGIN + index * ROW_HEIGHT
        length = round(room * _number(bar.value) / top, 1) if top else 0.0
        parts.append(
            Markup('<text x="{x}" y="{y}" fill="{fill}">{label}</text>').format(
                x=MARGIN, y=y + LABEL_BASELINE, fill=TEXT_FILL, label=_short(bar.label)
            )
        )
        if length > 0:
            parts.append(
                Markup(
                    '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}"></rect>'
                ).format(x=MARGIN, y=y + BAR_TOP, w=length, h=BAR_HEIGHT, fill=BAR_FILL)
            )
        # The zero line of this bar: where a bar of zero length starts.
        parts.append(
            Markup(
                '<line x1="{x}" y1="{y1}" x2="{x}" y2="{y2}" stroke="{stroke}"'
                ' stroke-width="1"></line>'
            ).format(
                x=MARGIN, y1=y + BAR_TOP - 2, y2=y + BAR_TOP + BAR_HEIGHT + 2, stroke=AXIS_STROKE
            )
        )
        parts.append(
            Markup('<text x="{x}" y="{y}" fill="{fill}" font-weight="600">{text}</text>').format(
                x=MARGIN + length + 6, y=y + BAR_TOP + BAR_HEIGHT - 3, fill=TEXT_FILL, text=bar.text
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
