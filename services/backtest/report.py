"""The backtest's HTML page: one file, inline SVG and CSS, no script, nothing fetched, drawn from the JSON summary."""

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from services.backtest import charts
from services.backtest.summary import ALERT_LEVELS, PROBLEM_LEVELS

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:64rem;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
.level-watch{color:#8a6400}.level-nuisance{color:#b35400}.level-stalking{color:#b3261e;font-weight:bold}
.level-resolved{color:#2e7d32}.muted{color:#666}section.pair{margin:1.2rem 0;padding:.5rem 1rem;border:1px solid #eee}
ul.reasons{margin:.2rem 0}.added{color:#b3261e}.removed{color:#2e7d32}
"""


def render(summary: Mapping[str, Any]) -> str:
    counts = summary["counts"]
    weeks = summary["weeks"]
    week_names = [week["week"] for week in weeks]
    body = [
        "<h1>Backtest of the policy</h1>",
        f'<p class="muted">{escape(summary["source"])} under {escape(summary["policy"])}, '
        f"{escape(str(summary['period']['first_event']))} to {escape(str(summary['period']['last_event']))}</p>",
        _counts_table(counts, summary["input"]),
        _problems(summary["input"]),
        "<h2>Alerts per week, by level</h2>",
        charts.stacked_bars(
            "alerts-per-week",
            week_names,
            {level: [week["alerts"][level] for week in weeks] for level in ALERT_LEVELS},
        ),
        "<h2>Level mix over time</h2>",
        '<p class="muted">Pairs at each announced level at the end of each week.</p>',
        charts.stacked_bars(
            "level-mix",
            week_names,
            {level: [week["pairs_at_level"][level] for week in weeks] for level in PROBLEM_LEVELS},
        ),
        "<h2>Rules that fired most</h2>",
        '<p class="muted">Raised alerts that named each rule among their reasons.</p>',
        charts.horizontal_bars(
            "rules",
            [rule["rule"] for rule in summary["rules"]],
            [rule["alerts"] for rule in summary["rules"]],
            charts.COLOURS["rules"],
        ),
        _touches(summary["touches_before_first_alert"]),
        "<h2>Top pairs</h2>",
        *(
            _party(f"pair-{index}", pair, f"{pair['sender_id']} → {pair['contact']}")
            for index, pair in enumerate(summary["top_pairs"])
        ),
        "" if summary["top_pairs"] else '<p class="muted">No pair was flagged.</p>',
        "<h2>Top teams</h2>",
        *(
            _party(f"team-{index}", team, f"every sender → {team['contact']}")
            for index, team in enumerate(summary["top_teams"])
        ),
        "" if summary["top_teams"] else '<p class="muted">No team was flagged.</p>',
    ]
    if "compare" in summary:
        body.append(_compare(summary["compare"]))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Rapport Guard backtest</title><style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def _counts_table(counts: Mapping[str, Any], read: Mapping[str, Any]) -> str:
    rows = [
        ("records read", read["records"]),
        ("malformed, skipped", read["malformed"]),
        ("events replayed", counts["events"]),
        ("duplicates", counts["duplicates"]),
        ("opt-outs / opt-ins", counts["consent"]),
        ("contacts", counts["contacts"]),
        ("senders", counts["senders"]),
        ("pairs", counts["pairs"]),
        ("pairs flagged", counts["pairs_flagged"]),
        ("teams flagged", counts["teams_flagged"]),
        *((f"alerts: {level}", number) for level, number in counts["alerts_by_level"].items()),
    ]
    cells = "".join(f"<tr><th>{escape(name)}</th><td>{value}</td></tr>" for name, value in rows)
    return f"<table>{cells}</table>"


def _problems(read: Mapping[str, Any]) -> str:
    parts = []
    if read["unknown_columns"]:
        parts.append(f"<p>Unknown columns, ignored: {escape(', '.join(read['unknown_columns']))}</p>")
    for note in read["notes"]:
        parts.append(f'<p class="muted">{escape(note)}</p>')
    if read["problems"]:
        items = "".join(
            f"<li>line {problem['line']}: {escape(problem['field'])}: {escape(problem['message'])}</li>"
            for problem in read["problems"]
        )
        parts.append(f"<h2>Malformed records ({read['malformed']})</h2><ul>{items}</ul>")
    return "".join(parts)


def _touches(distribution: Mapping[str, Any]) -> str:
    histogram = distribution["histogram"]
    chart = charts.stacked_bars(
        "touches-before-first-alert",
        [str(bucket["touches"]) for bucket in histogram],
        {"touches": [bucket["pairs"] for bucket in histogram]},
        label_every=1 if len(histogram) <= 30 else 0,
    )
    return (
        "<h2>Touches before the first alert</h2>"
        f'<p class="muted">Outbound touches of a pair up to the one that raised its first alert; '
        f"{distribution['pairs']} pairs, median {distribution['median']}, 90th percentile {distribution['p90']}.</p>"
        f"{chart}"
    )


def _party(name: str, party: Mapping[str, Any], title: str) -> str:
    alerts = party["alerts"]
    rows = "".join(
        f'<tr><td>{escape(alert["at"])}</td><td class="level-{escape(alert["level"])}">{escape(alert["level"])}</td>'
        f"<td>{_reason_list(alert['reasons'])}</td></tr>"
        for alert in alerts
    )
    return (
        f'<section class="pair"><h3>{escape(party["tenant"])}: {escape(title)} '
        f'<span class="level-{escape(party["worst_level"])}">{escape(party["worst_level"])}</span></h3>'
        f"{_reason_list(party['reasons'])}"
        f"{charts.timeline(name, party['timeline'], alerts)}"
        f"<table><tr><th>at</th><th>alert</th><th>reasons</th></tr>{rows}</table></section>"
    )


def _reason_list(reasons: Sequence[Mapping[str, Any]]) -> str:
    if not reasons:
        return ""
    items = "".join(f"<li><b>{escape(r['rule'])}</b>: {escape(r['message'])}</li>" for r in reasons)
    return f'<ul class="reasons">{items}</ul>'


def counted(number: int, noun: str, nouns: str | None = None) -> str:
    """A count with its noun, singular for one: the report and the command line say it the same way."""
    return f"{number} {noun}" if number == 1 else f"{number} {nouns or noun + 's'}"


def _compare(compare: Mapping[str, Any]) -> str:
    parts = [
        f"<h2>Compared with {escape(compare['policy'])}</h2>",
        f"<p>{counted(compare['added_count'], 'alert')} added, {compare['removed_count']} removed, "
        f"{counted(len(compare['pairs']), 'pair or team', 'pairs or teams')} changed.</p>",
    ]
    for change in compare["pairs"]:
        who = change["sender_id"] or "every sender"
        rows = "".join(
            f'<tr><td class="{kind}">{"adds" if kind == "added" else "removes"}</td><td>{escape(alert["at"])}</td>'
            f'<td class="level-{escape(alert["level"])}">{escape(alert["level"])}</td>'
            f"<td>{_reason_list(alert['reasons'])}</td></tr>"
            for kind in ("added", "removed")
            for alert in change[kind]
        )
        parts.append(
            f'<section class="pair"><h3>{escape(change["tenant"])}: {escape(who)} → {escape(change["contact"])} '
            f"({escape(change['scope'])})</h3><table>{rows}</table></section>"
        )
    return "".join(parts)
