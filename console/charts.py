"""Charts drawn on the server as inline SVG: the console's Content-Security-Policy runs no script.

Each chart is an `<svg role="img">` with a `<title>` and an aria-label; every text in it is escaped
(intent names and channels come from customers' conversations). The page puts a data table beside
each chart for screen readers and exact figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

PALETTE = ("#2f6fde", "#39a35b", "#e08a1e", "#8e44ad", "#c0392b", "#16a2b8", "#7f8c8d", "#d35400")
WIDTH = 760
LABEL_LIMIT = 28  # characters of a bar's label shown in the chart (the table has it whole)


@dataclass(frozen=True)
class Series:
    """One named row of values, one value per category (None: no value that day)."""

    name: str
    values: Sequence[float | None]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above value (the top of an axis)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def _short(label: str) -> str:
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def _text(x: float, y: float, content: str, anchor: str = "start", size: int = 11) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">{escape(content)}</text>'


def _svg(title: str, height: float, body: list[str]) -> Markup:
    label = escape(title)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" '
        f'role="img" aria-label="{label}" font-family="system-ui, sans-serif" fill="#1d2330">'
        f"<title>{label}</title>{''.join(body)}</svg>"
    )


def _legend(names: Sequence[str], y: float) -> list[str]:
    parts, x = [], 50.0
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(x + 14, y, _short(name)))
        x += 24 + 7 * len(_short(name))
    return parts


def _value_axis(top: float, left: float, right: float, y0: float, height: float, low: float = 0.0) -> list[str]:
    """Horizontal grid lines with their values, from low to top."""
    parts = []
    for step in range(5):
        value = low + (top - low) * step / 4
        y = y0 - height * step / 4
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        parts.append(_text(left - 6, y + 4, _number(value), "end", 10))
    return parts


def _category_labels(categories: Sequence[str], left: float, slot: float, y: float) -> list[str]:
    """Every n-th category's label under the axis, so that at most about ten show."""
    every = max(1, math.ceil(len(categories) / 10))
    return [
        _text(left + slot * (i + 0.5), y, label, "middle", 10) for i, label in enumerate(categories) if i % every == 0
    ]


def stacked_columns(title: str, categories: Sequence[str], series: Sequence[Series]) -> Markup:
    """Columns per category (e.g. a day), each stacked from the series' values (e.g. channels)."""
    height, left, right, top_margin, bottom = 240.0, 50.0, WIDTH - 10.0, 12.0, 200.0
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    top = 4 * max(1.0, nice_ceiling(max(totals, default=0) / 4))  # four whole-number steps: these are counts
    plot = bottom - top_margin
    slot = (right - left) / max(1, len(categories))
    body = _value_axis(top, left, right, bottom, plot)
    for i in range(len(categories)):
        y = bottom
        for index, s in enumerate(series):
            value = s.values[i] or 0
            if value <= 0:
                continue
            h = plot * value / top
            y -= h
            body.append(
                f'<rect x="{left + slot * i + slot * 0.1:.1f}" y="{y:.1f}" width="{max(slot * 0.8, 1):.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[index % len(PALETTE)]}"/>'
            )
    body += _category_labels(categories, left, slot, bottom + 14)
    body += _legend([s.name for s in series], height - 8)
    return _svg(title, height, body)


def bars(title: str, labels: Sequence[str], values: Sequence[float], colours: Sequence[str] | None = None) -> Markup:
    """Horizontal bars, one per label, longest value the full width."""
    row, left, right = 24.0, 210.0, WIDTH - 60.0
    height = row * len(labels) + 10
    top = max(values, default=0) or 1
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 5 + row * i
        colour = colours[i % len(colours)] if colours else PALETTE[0]
        width = (right - left) * value / top
        body.append(_text(left - 8, y + 15, _short(label), "end"))
        body.append(f'<rect x="{left}" y="{y + 3:.1f}" width="{width:.1f}" height="{row - 8:.1f}" fill="{colour}"/>')
        body.append(_text(left + width + 6, y + 15, _number(value)))
    return _svg(title, height, body)


def line(title: str, categories: Sequence[str], series: Series, low: float, high: float) -> Markup:
    """A line through the values (gaps where a value is None), on a fixed scale from low to high."""
    height, left, right, top_margin, bottom = 220.0, 50.0, WIDTH - 10.0, 12.0, 196.0
    plot = bottom - top_margin
    slot = (right - left) / max(1, len(categories))
    body = _value_axis(high, left, right, bottom, plot, low)
    if low < 0 < high:
        zero = bottom - plot * (0 - low) / (high - low)
        body.append(f'<line x1="{left}" x2="{right}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#7f8c8d"/>')
    path: list[str] = []
    for i, value in enumerate(series.values):
        if value is None:
            path.append("")  # a gap: the next point starts a new piece
            continue
        x, y = left + slot * (i + 0.5), bottom - plot * (min(max(value, low), high) - low) / (high - low)
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{PALETTE[0]}"/>')
        path.append(f"{'L' if path and path[-1] else 'M'}{x:.1f},{y:.1f}")
    d = " ".join(p for p in path if p)
    if d:
        body.append(f'<path d="{d}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    body += _category_labels(categories, left, slot, bottom + 14)
    return _svg(title, height, body)
