"""Inline SVG charts drawn in Python: the report needs no script, no stylesheet and no network to render."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

COLOURS = {
    "watch": "#d4a017",
    "nuisance": "#e06c00",
    "stalking": "#b3261e",
    "resolved": "#2e7d32",
    "touches": "#3f6fb5",
    "rules": "#6a4c93",
}
WIDTH = 760
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 44


def stacked_bars(
    name: str, categories: Sequence[str], series: Mapping[str, Sequence[float]], *, label_every: int = 0
) -> str:
    """One bar per category, its series stacked bottom to top in the mapping's order, with a legend."""
    totals = [sum(values[index] for values in series.values()) for index in range(len(categories))]
    top = max([*totals, 1])
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(categories), 1)
    every = label_every or max(1, len(categories) // 10)
    parts = [_axis(top, plot_height)]
    for index, category in enumerate(categories):
        x = LEFT + index * slot
        base = 0.0
        for series_name, values in series.items():
            value = values[index]
            if value <= 0:
                continue
            height = value / top * plot_height
            y = TOP + plot_height - (base + height)
            parts.append(
                f'<rect x="{x + slot * 0.1:.1f}" y="{y:.1f}" width="{max(slot * 0.8, 1):.1f}" height="{height:.1f}" '
                f'fill="{COLOURS.get(series_name, "#888")}"><title>{escape(category)}: {value:g} {escape(series_name)}'
                "</title></rect>"
            )
            base += height
        if index % every == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="10" text-anchor="middle">'
                f"{escape(category)}</text>"
            )
    parts.append(_legend(list(series)))
    return _svg(name, "".join(parts))


def horizontal_bars(name: str, labels: Sequence[str], values: Sequence[float], colour: str) -> str:
    row = 24
    height = max(len(labels), 1) * row + 20
    top = max([*values, 1])
    label_width = 190
    plot_width = WIDTH - label_width - 60
    parts = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 10 + index * row
        width = value / top * plot_width
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" font-size="12" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{max(width, 1):.1f}" height="{row - 8}" fill="{colour}">'
            f"<title>{escape(label)}: {value:g}</title></rect>"
            f'<text x="{label_width + width + 6:.1f}" y="{y + 15}" font-size="12">{value:g}</text>'
        )
    if not labels:
        parts.append(_nothing(height))
    return _svg(name, "".join(parts), height)


def timeline(name: str, entries: Sequence[Mapping[str, Any]], alerts: Sequence[Mapping[str, Any]]) -> str:
    """A strip from the first touch to the last: outbound touches above the line, the contact's below, alerts as
    coloured flags."""
    height = 70
    times = [_instant(entry["at"]) for entry in entries] + [_instant(alert["at"]) for alert in alerts]
    if not times:
        return _svg(name, _nothing(height), height)
    start, end = min(times), max(times)
    span = max((end - start).total_seconds(), 1.0)
    plot_width = WIDTH - 40

    def x(at: str) -> float:
        return 20 + (_instant(at) - start).total_seconds() / span * plot_width

    parts = [f'<line x1="20" y1="35" x2="{WIDTH - 20}" y2="35" stroke="#999"/>']
    for entry in entries:
        outbound = entry["direction"] == "outbound"
        parts.append(
            f'<circle cx="{x(entry["at"]):.1f}" cy="{28 if outbound else 44}" r="4" '
            f'fill="{COLOURS["touches"] if outbound else COLOURS["resolved"]}">'
            f"<title>{escape(entry['at'])} {escape(entry['direction'])} {escape(str(entry['channel']))} "
            f"{escape(entry['kind'])}</title></circle>"
        )
    for alert in alerts:
        colour = COLOURS.get(alert["level"], "#888")
        parts.append(
            f'<rect x="{x(alert["at"]) - 2:.1f}" y="6" width="4" height="14" fill="{colour}">'
            f"<title>{escape(alert['at'])}: {escape(alert['level'])}</title></rect>"
        )
    parts.append(
        f'<text x="20" y="64" font-size="10">{start:%Y-%m-%d}</text>'
        f'<text x="{WIDTH - 20}" y="64" font-size="10" text-anchor="end">{end:%Y-%m-%d}</text>'
    )
    return _svg(name, "".join(parts), height)


def _axis(top: float, plot_height: float) -> str:
    parts = [
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_height}" stroke="#999"/>'
        f'<line x1="{LEFT}" y1="{TOP + plot_height}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_height}" stroke="#999"/>'
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot_height * (1 - fraction)
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{top * fraction:.3g}</text>'
        )
    return "".join(parts)


def _legend(names: Sequence[str]) -> str:
    parts = []
    for index, name in enumerate(names):
        x = LEFT + index * 110
        parts.append(
            f'<rect x="{x}" y="8" width="12" height="12" fill="{COLOURS.get(name, "#888")}"/>'
            f'<text x="{x + 16}" y="18" font-size="12">{escape(name)}</text>'
        )
    return "".join(parts)


def _nothing(height: float) -> str:
    return (
        f'<text x="{WIDTH / 2}" y="{height / 2}" font-size="13" text-anchor="middle" fill="#666">nothing to show</text>'
    )


def _svg(name: str, body: str, height: float = HEIGHT) -> str:
    return (
        f'<svg class="chart" data-chart="{escape(name)}" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{height:.0f}" viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{escape(name)}">{body}</svg>'
    )


def _instant(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))
