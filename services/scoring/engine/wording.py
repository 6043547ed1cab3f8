"""Reasons in words a person understands: what was observed, what the limit is, and for whom."""

from collections.abc import Callable

from schemas import Channel, Tier

_CHANNELS = {
    Channel.EMAIL: "e-mail",
    Channel.PHONE_WORK: "work phone",
    Channel.PHONE_MOBILE: "cell phone",
    Channel.SMS: "text message",
    Channel.LINKEDIN: "LinkedIn",
    Channel.MEETING: "meeting invitation",
    Channel.OTHER: "other channel",
}
_WHOM = {
    Tier.STRANGER: "a stranger",
    Tier.ACQUAINTANCE: "an acquaintance",
    Tier.ESTABLISHED: "an established contact",
    Tier.TRUSTED: "a trusted contact",
}


def spoken_duration(seconds: float) -> str:
    """'2 days', '1 day 4 hours', '35 minutes'."""
    seconds = max(0, round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    words = [f"{count} {unit}{'' if count == 1 else 's'}" for count, unit in parts if count]
    return " ".join(words) or "less than a minute"


def _only(duration: str) -> str:
    """Says "only 3 hours", but "less than a minute" without the "only"."""
    return duration if duration.startswith("less") else f"only {duration}"


def _channels(detail: str) -> str:
    return ", ".join(_CHANNELS[Channel(name)] for name in detail.split(",") if name)


def _quiet(detail: str, who: str) -> str:
    local, timezone, channel, period = detail.split("|")
    return (
        f"a {_CHANNELS[Channel(channel)]} touch at {local} the contact's time ({timezone}), "
        f"inside {who}'s quiet hours {period}"
    )


# (observed, limit, window in words, whom the limit is for, detail) → sentence
_SENTENCES: dict[str, Callable[[str, str, str, str, str], str]] = {
    "volume": lambda seen, most, span, who, _: (
        f"{seen} weighted touches in {span} (calls weigh more than e-mails); at most {most} for {who}"
    ),
    "unanswered_streak": lambda seen, most, span, who, _: (
        f"{seen} touches in {span} without a reply; at most {most} for {who}"
    ),
    "channel_escalation": lambda seen, most, span, who, detail: (
        f"{seen} channels tried in {span} without an answer ({_channels(detail)}); at most {most} for {who}"
    ),
    "persistent_pursuit": lambda seen, most, _, who, __: (
        f"unanswered outreach has gone on for {spoken_duration(float(seen) * 86400)}; "
        f"{who} should pause after {spoken_duration(float(most) * 86400)}"
    ),
    "min_gap": lambda seen, least, _, who, __: (
        f"{_only(spoken_duration(float(seen) * 86400))} since the previous touch; "
        f"{who} should get at least {spoken_duration(float(least) * 86400)} between touches"
    ),
    "quiet_hours": lambda _, __, ___, who, detail: _quiet(detail, who),
    "opted_out": lambda seen, _, __, ___, detail: _opted_out(seen, detail),
}


def _opted_out(seen: str, detail: str) -> str:
    asked, channel, *team = detail.split("|")
    scope = f"by {_CHANNELS[Channel(asked)]}" if asked else "at all"
    count = ("1 touch" if seen == "1" else f"{seen} touches") + (" by the team together" if team else "")
    return (
        f"the contact asked not to be contacted {scope}; {count} since then, this one by {_CHANNELS[Channel(channel)]}"
    )


def breach_sentence(rule: str, observed: float, limit: float, *, window: int | None, tier: Tier, detail: str) -> str:
    who = "the team together" if rule.startswith("team_") else _WHOM[tier]
    sentence = _SENTENCES[rule.removeprefix("team_")]
    return sentence(f"{observed:g}", f"{limit:g}", spoken_duration(window) if window else "", who, detail)
