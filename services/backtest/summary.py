"""The machine-readable summary of a backtest: a plain dict ready for JSON, and the only input of the HTML report."""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from schemas import Alert, AlertLevel, Level, Scope
from services.backtest.history import Labels, Row
from services.backtest.reading import Export
from services.backtest.replay import Pair, Replay

PROBLEM_LEVELS = ("watch", "nuisance", "stalking")
ALERT_LEVELS = (*PROBLEM_LEVELS, "resolved")
TIMELINE_LIMIT = 80
"""Most recent touches shown per pair or team."""
PROBLEMS_LISTED = 100


def summarize(
    export: Export,
    result: Replay,
    labels: Labels,
    *,
    source: str,
    policy: str,
    top: int = 10,
) -> dict[str, Any]:
    rows = export.rows
    alerts = result.alerts
    pair_alerts: dict[Pair, list[Alert]] = defaultdict(list)
    team_alerts: dict[tuple[str, str], list[Alert]] = defaultdict(list)
    for alert in alerts:
        if alert.scope is Scope.PAIR and alert.sender_id is not None:
            pair_alerts[(alert.tenant, alert.sender_id, alert.contact_id)].append(alert)
        else:
            team_alerts[(alert.tenant, alert.contact_id)].append(alert)
    top_pairs = sorted(pair_alerts, key=lambda pair: _rank(pair_alerts[pair], result.outbound[pair]), reverse=True)[
        :top
    ]
    top_teams = sorted(team_alerts, key=lambda team: _rank(team_alerts[team], 0), reverse=True)[:top]
    timelines = _timelines(rows, set(top_pairs), set(top_teams))
    return {
        "source": source,
        "policy": policy,
        "input": {
            "format": str(export.format),
            "records": export.records,
            "malformed": export.malformed,
            "problems": [
                {"line": p.line, "field": p.field, "message": p.message} for p in export.problems[:PROBLEMS_LISTED]
            ],
            "unknown_columns": export.unknown_columns,
            "notes": export.notes,
        },
        "period": {
            "first_event": _iso(rows[0].occurred_at) if rows else None,
            "last_event": _iso(rows[-1].occurred_at) if rows else None,
        },
        "counts": _counts(rows, result, pair_alerts, team_alerts),
        "weeks": _weeks(rows, alerts),
        "rules": [{"rule": rule, "alerts": count} for rule, count in _rules(alerts).most_common()],
        "touches_before_first_alert": _distribution(result.touches_at_first_alert.values()),
        "top_pairs": [
            {
                "tenant": pair[0],
                "sender_id": pair[1],
                "contact": labels.contact(pair[2]),
                "worst_level": _worst(pair_alerts[pair]),
                "outbound_touches": result.outbound[pair],
                "touches_before_first_alert": result.touches_at_first_alert.get(pair),
                "reasons": _reasons(_worst_alert(pair_alerts[pair])),
                "alerts": [alert_entry(alert, labels) for alert in pair_alerts[pair]],
                "timeline": timelines.get(pair, []),
            }
            for pair in top_pairs
        ],
        "top_teams": [
            {
                "tenant": team[0],
                "contact": labels.contact(team[1]),
                "worst_level": _worst(team_alerts[team]),
                "reasons": _reasons(_worst_alert(team_alerts[team])),
                "alerts": [alert_entry(alert, labels) for alert in team_alerts[team]],
                "timeline": timelines.get(team, []),
            }
            for team in top_teams
        ],
    }


def alert_entry(alert: Alert, labels: Labels) -> dict[str, Any]:
    return {
        "at": _iso(alert.occurred_at),
        "scope": str(alert.scope),
        "tenant": alert.tenant,
        "sender_id": alert.sender_id,
        "contact": labels.contact(alert.contact_id),
        "level": str(alert.level),
        "previous_level": str(alert.previous_level),
        "nuisance_score": alert.nuisance_score,
        "event_id": alert.event_id,
        "next_allowed_at": _iso(alert.next_allowed_at) if alert.next_allowed_at else None,
        "reasons": _reasons(alert),
    }


def _counts(
    rows: Sequence[Row],
    result: Replay,
    pair_alerts: dict[Pair, list[Alert]],
    team_alerts: dict[tuple[str, str], list[Alert]],
) -> dict[str, Any]:
    by_level = Counter(str(alert.level) for alert in result.alerts)
    by_scope = Counter(str(alert.scope) for alert in result.alerts)
    return {
        "events": result.events,
        "scored": result.scored,
        "duplicates": result.duplicates,
        "consent": result.consent,
        "failed": result.failed,
        "contacts": len({(row.tenant, row.contact_id) for row in rows}),
        "senders": len({(row.tenant, row.sender_id) for row in rows}),
        "pairs": len({row.pair for row in rows}),
        "pairs_flagged": sum(1 for alerts in pair_alerts.values() if _worst(alerts) != "ok"),
        "teams_flagged": sum(1 for alerts in team_alerts.values() if _worst(alerts) != "ok"),
        "alerts": len(result.alerts),
        "alerts_by_level": {level: by_level[level] for level in ALERT_LEVELS},
        "alerts_by_scope": {scope: by_scope[scope] for scope in ("pair", "team")},
    }


def _weeks(rows: Sequence[Row], alerts: Sequence[Alert]) -> list[dict[str, Any]]:
    """Every week from the first event's to the last's: alerts raised by level, and pairs at each announced level
    at the week's end (the level mix over time)."""
    if not rows:
        return []
    first, last = _monday(rows[0].occurred_at), _monday(rows[-1].occurred_at)
    raised: dict[datetime, Counter[str]] = defaultdict(Counter)
    announced: dict[Pair, str] = {}
    standing: Counter[str] = Counter()
    ordered = sorted(alerts, key=lambda alert: alert.occurred_at)
    weeks = []
    position = 0
    week = first
    while week <= last:
        end = week + timedelta(days=7)
        while position < len(ordered) and ordered[position].occurred_at < end:
            alert = ordered[position]
            position += 1
            raised[week][str(alert.level)] += 1
            if alert.scope is not Scope.PAIR or alert.sender_id is None:
                continue
            pair = (alert.tenant, alert.sender_id, alert.contact_id)
            if pair in announced:
                standing[announced.pop(pair)] -= 1
            if alert.level is not AlertLevel.RESOLVED:
                announced[pair] = str(alert.level)
                standing[str(alert.level)] += 1
        weeks.append(
            {
                "week": week.date().isoformat(),
                "alerts": {level: raised[week][level] for level in ALERT_LEVELS},
                "pairs_at_level": {level: standing[level] for level in PROBLEM_LEVELS},
            }
        )
        week = end
    return weeks


def _rules(alerts: Iterable[Alert]) -> Counter[str]:
    """How often each rule was among the reasons of a raised (not resolved) alert."""
    return Counter(
        reason.rule
        for alert in alerts
        if alert.level is not AlertLevel.RESOLVED
        for reason in {reason.rule: reason for reason in alert.reasons}.values()
    )


def _distribution(counts: Iterable[int]) -> dict[str, Any]:
    values = sorted(counts)
    if not values:
        return {"pairs": 0, "median": None, "p90": None, "histogram": []}
    histogram = Counter(values)
    return {
        "pairs": len(values),
        "median": values[len(values) // 2],
        "p90": values[min(len(values) - 1, (len(values) * 9) // 10)],
        "histogram": [{"touches": touches, "pairs": histogram[touches]} for touches in sorted(histogram)],
    }


def _timelines(
    rows: Sequence[Row], pairs: set[Pair], teams: set[tuple[str, str]]
) -> dict[Pair | tuple[str, str], list[dict[str, Any]]]:
    found: dict[Pair | tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        team = (row.tenant, row.contact_id)
        if row.pair not in pairs and team not in teams:
            continue
        entry = {
            "at": _iso(row.occurred_at),
            "sender_id": row.sender_id,
            "channel": str(row.channel) if row.channel else None,
            "direction": str(row.direction),
            "kind": str(row.kind),
            "outcome": str(row.outcome) if row.outcome else None,
            "event_id": row.event_id,
        }
        if row.pair in pairs:
            found[row.pair].append(entry)
        if team in teams:
            found[team].append(entry)
    return {key: entries[-TIMELINE_LIMIT:] for key, entries in found.items()}


def _rank(alerts: Sequence[Alert], touches: int) -> tuple[int, int, int]:
    return (Level(_worst(alerts)).rank, sum(1 for alert in alerts if alert.level is not AlertLevel.RESOLVED), touches)


def _worst(alerts: Sequence[Alert]) -> str:
    worst = _worst_alert(alerts)
    return "ok" if worst is None else str(worst.level)


def _worst_alert(alerts: Sequence[Alert]) -> Alert | None:
    raised = [alert for alert in alerts if alert.level is not AlertLevel.RESOLVED]
    return max(raised, key=lambda alert: Level(alert.level.value).rank, default=None)


def _reasons(alert: Alert | None) -> list[dict[str, Any]]:
    if alert is None:
        return []
    return [{"rule": reason.rule, "message": reason.message} for reason in alert.reasons]


def _monday(at: datetime) -> datetime:
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
