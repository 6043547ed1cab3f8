"""Alerts as scoring would emit them, for notification tests."""

import secrets
from datetime import UTC, datetime, timedelta

from schemas import Alert, AlertLevel, Level, Reason, Scope, Tier

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

_PREVIOUS = {
    AlertLevel.WATCH: Level.OK,
    AlertLevel.NUISANCE: Level.WATCH,
    AlertLevel.STALKING: Level.NUISANCE,
    AlertLevel.RESOLVED: Level.WATCH,
}


def make_alert(
    level: AlertLevel = AlertLevel.WATCH,
    *,
    tenant: str = "acme",
    contact: str = "c-1",
    sender: str | None = "rep-1",
    scope: Scope = Scope.PAIR,
    alert_id: str | None = None,
    at: datetime = T0,
) -> Alert:
    problem = level is not AlertLevel.RESOLVED
    return Alert(
        alert_id=alert_id or f"alert-{secrets.token_hex(6)}",
        tenant=tenant,
        contact_id=contact,
        sender_id=None if scope is Scope.TEAM else sender,
        scope=scope,
        level=level,
        previous_level=_PREVIOUS[level],
        nuisance_score=55.0 if problem else 0.0,
        rapport_score=0.0,
        tier=Tier.STRANGER,
        reasons=[
            Reason(
                rule="unanswered_streak",
                message="6 touches in 12 days without a reply",
                observed=6,
                limit=3,
                window="30d",
            ),
            Reason(
                rule="channel_escalation",
                message="3 different channels used without an answer",
                observed=3,
                limit=2,
                window="14d",
            ),
        ]
        if problem
        else [],
        next_allowed_at=at + timedelta(days=10) if problem else None,
        event_id=f"e-{secrets.token_hex(4)}",
        occurred_at=at,
        emitted_at=at,
    )
