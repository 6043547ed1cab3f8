"""What a second policy changes on the same history: the alerts it adds and removes, pair by pair."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from schemas import Alert
from services.backtest.history import Labels
from services.backtest.summary import alert_entry

AlertKey = tuple[str, str, str | None, str, str, str]
"""(tenant, scope, sender_id, contact_id, event_id, level): the same alert under both policies."""


def alert_key(alert: Alert) -> AlertKey:
    return (alert.tenant, str(alert.scope), alert.sender_id, alert.contact_id, alert.event_id, str(alert.level))


def differences(base: Sequence[Alert], other: Sequence[Alert], labels: Labels, *, policy: str) -> dict[str, Any]:
    """Alerts only `other` raises (added) and only `base` raises (removed), grouped by pair (or team)."""
    base_keys = {alert_key(alert) for alert in base}
    other_keys = {alert_key(alert) for alert in other}
    changes: dict[tuple[str, str, str | None, str], dict[str, list[Alert]]] = defaultdict(
        lambda: {"added": [], "removed": []}
    )
    for alert in other:
        if alert_key(alert) not in base_keys:
            changes[alert_key(alert)[:4]]["added"].append(alert)
    for alert in base:
        if alert_key(alert) not in other_keys:
            changes[alert_key(alert)[:4]]["removed"].append(alert)
    return {
        "policy": policy,
        "added_count": sum(len(change["added"]) for change in changes.values()),
        "removed_count": sum(len(change["removed"]) for change in changes.values()),
        "pairs": [
            {
                "tenant": tenant,
                "scope": scope,
                "sender_id": sender_id,
                "contact": labels.contact(contact_id),
                "added": [alert_entry(alert, labels) for alert in change["added"]],
                "removed": [alert_entry(alert, labels) for alert in change["removed"]],
            }
            for (tenant, scope, sender_id, contact_id), change in sorted(
                changes.items(), key=lambda item: (item[0][0], item[0][3], item[0][1], item[0][2] or "")
            )
        ],
    }
