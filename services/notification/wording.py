"""Calm, human sentences for an alert; ids only, never an address or a number.

Every channel renders the same `Notice`, so a message says the same thing in the CRM, in Slack and in a mailbox:
who, what pattern, why, and when the next touch would be welcome.
"""

from dataclasses import dataclass

from schemas import Alert, AlertLevel, Scope

_HEADLINES = {
    AlertLevel.WATCH: "worth watching",
    AlertLevel.NUISANCE: "becoming a nuisance",
    AlertLevel.STALKING: "pressure that reads as stalking",
    AlertLevel.RESOLVED: "back to normal",
}

_PATTERNS = {
    AlertLevel.WATCH: "The outreach is starting to run ahead of the contact's replies. Nothing is wrong yet; "
    "a little patience now keeps the relationship warm.",
    AlertLevel.NUISANCE: "The contact is receiving more than they answer, and it is starting to feel like nagging. "
    "Giving them room is the quickest way to be heard again.",
    AlertLevel.STALKING: "The contact has been pursued for a long time, on several channels, without answering. "
    "From their side this can feel like being hunted. Please stop and let them come to you.",
    AlertLevel.RESOLVED: "The rhythm of the outreach is comfortable again.",
}


def headline(alert: Alert) -> str:
    """Who and how it stands; also the start of `make run`'s alert printer line."""
    subject = "The team" if alert.scope is Scope.TEAM else f"Sender {alert.sender_id}"
    return f"{subject} → contact {alert.contact_id} ({alert.tenant}): {_HEADLINES[alert.level]}"


def pattern(alert: Alert) -> str:
    return _PATTERNS[alert.level]


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


@dataclass(frozen=True)
class Notice:
    """What one message about one alert says, before any channel gives it a shape."""

    alert: Alert
    held_back: int = 0
    """Alerts about the same relationship that the cool-down kept quiet since the last message."""

    @property
    def subject(self) -> str:
        return f"Rapport Guard: {headline(self.alert)}"

    @property
    def headline(self) -> str:
        return headline(self.alert)

    @property
    def pattern(self) -> str:
        return pattern(self.alert)

    @property
    def reasons(self) -> list[str]:
        return [f"{reason.message}." for reason in self.alert.reasons]

    @property
    def next_touch(self) -> str:
        return pause_advice(self.alert)

    @property
    def held_back_note(self) -> str | None:
        if self.held_back == 0:
            return None
        alerts, were = ("alert", "was") if self.held_back == 1 else ("alerts", "were")
        return (
            f"{self.held_back} further {alerts} about this relationship {were} held back to avoid repeating ourselves."
        )

    @property
    def text(self) -> str:
        """The plain-text message: the same content as every richer format."""
        lines = [self.headline + ".", "", self.pattern]
        if self.reasons:
            lines += ["", "Why:", *(f"- {reason}" for reason in self.reasons)]
        lines += ["", self.next_touch]
        if self.held_back_note:
            lines += ["", self.held_back_note]
        return "\n".join(lines)
