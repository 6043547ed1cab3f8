"""Calm, human sentences for an alert; ids only, never an address or a number."""

from schemas import Alert, AlertLevel, Scope

_HEADLINES = {
    AlertLevel.WATCH: "worth watching",
    AlertLevel.NUISANCE: "becoming a nuisance",
    AlertLevel.STALKING: "pressure that reads as stalking",
    AlertLevel.RESOLVED: "back to normal",
}


def headline(alert: Alert) -> str:
    who = "The team" if alert.scope is Scope.TEAM else f"Sender {alert.sender_id}"
    return f"{who} → contact {alert.contact_id} ({alert.tenant}): {_HEADLINES[alert.level]}"


def pause_advice(alert: Alert) -> str:
    if alert.level is AlertLevel.RESOLVED:
        return "No pause needed any more."
    if alert.next_allowed_at is None:
        return "Pause and wait for the contact to engage."
    return f"Pause until {alert.next_allowed_at:%a %d %b %Y %H:%M} UTC."


def summary(alert: Alert) -> str:
    """One paragraph: who, what pattern, why, and when the next touch would be welcome."""
    reasons = " ".join(f"{reason.message}." for reason in alert.reasons)
    return f"{headline(alert)}. {reasons} {pause_advice(alert)}".replace("  ", " ")
