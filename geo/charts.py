"""Horizontal bar charts as SVG, drawn on the server for the results of questionnaires.

Readable on a phone and on paper: the picture is 360 units wide (it scales to its box),
each label sits on its own line above its bar (pages size it with
``width: 100%; height: auto``), the count and share are written on the
bar, text is dark on light. A withheld count (``None``) is drawn as its text (e.g.
``"< 3"``) with no bar at all, so neither its length nor a gap tells its size. Labels are
user-editable text: every string is escaped for XML here. Accessible: ``role="img"``,
an ``aria-label`` and a ``<title>``, and a ``<desc>`` that reads every value.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

WIDTH = 360
MARGIN = 8
LABEL_SIZE = 14
HEADING_SIZE = 15
LINE = 18  # a label line
BAR = 20
GAP = 8
WRAP = 42  # characters of a label line at 14 px over 344 units
VALUE_ROOM = 96  # room kept right of the longest bar for its value


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its count (None when withheld) and its share (0–1, or None)."""

    label: str
    count: int | None
    share: float | None = None


@dataclass(frozen=True)
class Group:
    """Bars under an optional heading (a quartier, a gender…).

    ``note`` replaces the bars when the group is withheld whole.
    """

    heading: str | None
    bars: Sequence[Bar]
    note: str | None = None


def value_text(bar: Bar, withheld: str, percent: str = "{} %") -> str:
    """Return what is written on a bar: ``"42 · 31 %"``, ``"42"``, or the withheld text."""
    if bar.count is None:
        return withheld
    if bar.share is None:
        return str(bar.count)
    return f"{bar.count} · {percent.format(round(bar.share * 100))}"


def bar_chart(
    title: str,
    groups: Sequence[Group],
    *,
    withheld: str = "< k",
    colour: str = "#1f4e79",
    percent: str = "{} %",
    chart_id: str = "chart",
) -> str:
    """Return an SVG document (a string) of horizontal bars, one group after the other.

    Bars are scaled to the largest count of the chart (or to shares when every shown bar
    has one, so that groups of different sizes compare). ``percent`` formats a share in
    whole percent (``"{} %"`` in French, ``"{}%"`` in English).
    """
    shown = [b for g in groups for b in g.bars if b.count is not None]
    by_share = bool(shown) and all(b.share is not None for b in shown)
    top = max((b.share if by_share else max(b.count, 0)) for b in shown) if shown else 0
    room = WIDTH - 2 * MARGIN - VALUE_ROOM
    parts: list[str] = []
    described: list[str] = []
    y = MARGIN
    for group in groups:
        if group.heading:
            y += HEADING_SIZE + 4
            parts.append(_text(MARGIN, y, group.heading, HEADING_SIZE, bold=True))
            described.append(group.heading + " :")
            y += 4
        if group.note is not None:
            y += LINE
            parts.append(_text(MARGIN, y, group.note, LABEL_SIZE, italic=True))
            described.append(group.note + ".")
            y += GAP
            continue
        for bar in group.bars:
            for line in textwrap.wrap(bar.label, WRAP) or [""]:
                y += LINE
                parts.append(_text(MARGIN, y, line, LABEL_SIZE))
            y += 4
            text = value_text(bar, withheld, percent)
            described.append(f"{bar.label} : {text}.")
            length = 0.0
            if bar.count is not None and top > 0:
                amount = bar.share if by_share else max(bar.count, 0)
                length = max(1.0, room * amount / top) if amount > 0 else 0.0
                parts.append(
                    f'<rect x="{MARGIN}" y="{y}" width="{length:.1f}" height="{BAR}" '
                    f'fill="{_colour(colour)}" rx="2"><title>{escape(bar.label)} : '
                    f"{escape(text)}</title></rect>"
                )
            inside = length > room * 0.6
            x = MARGIN + length - 6 if inside else MARGIN + length + 6
            parts.append(
                _text(
                    x,
                    y + BAR - 6,
                    text,
                    LABEL_SIZE,
                    bold=bar.count is not None,
                    fill="#ffffff" if inside else "#1d2733",
                    anchor="end" if inside else "start",
                    klass="value" if bar.count is not None else "withheld",
                )
            )
            y += BAR + GAP
    height = y + MARGIN
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f"aria-label={quoteattr(title)} aria-describedby={quoteattr(desc_id)} "
        f"font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\">"
        f'<title id="{escape(title_id)}">{escape(title)}</title>'
        f'<desc id="{escape(desc_id)}">{escape(" ".join(described))}</desc>'
        + "".join(parts)
        + "</svg>"
    )


def _colour(colour: str) -> str:
    """Return a ``#rrggbb`` colour, or the default (never user text, but checked)."""
    ok = (
        len(colour) == 7
        and colour[0] == "#"
        and all(c in "0123456789abcdefABCDEF" for c in colour[1:])
    )
    return colour if ok else "#1f4e79"


def _text(
    x: float,
    y: float,
    text: str,
    size: int,
    *,
    bold: bool = False,
    italic: bool = False,
    fill: str = "#1d2733",
    anchor: str = "start",
    klass: str | None = None,
) -> str:
    style = (' font-weight="bold"' if bold else "") + (' font-style="italic"' if italic else "")
    cls = f' class="{klass}"' if klass else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
        f'text-anchor="{anchor}"{style}{cls}>{escape(text)}</text>'
    )
