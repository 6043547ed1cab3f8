"""One contact, one message: a pair alert and a team alert about the same contact inside the cool-down are one
story told once.

One event often raises both (a rep's fifth e-mail is the rep's nuisance and the team's); a message about the
contact that was just delivered already names the pressure. An alert of the other scope (team after pair, pair
after team) about the same contact, inside the cool-down of that message and no higher than what it told, is not
sent on its own: it is *merged* (receipt `suppressed`, reason `merged`). A higher level still breaks through, and
a `resolved` is merged only into a `resolved` already told. Pair alerts of different senders are not merged with
each other: each rep hears about their own outreach.
"""

from datetime import datetime, timedelta

from schemas import Alert, AlertLevel, Level, Scope
from services.notification.cooldown import PairNotices

MERGED = "merged"
"""The receipt's reason for an alert folded into the message about its contact's other scope."""


def contact_pairs_key(alert: Alert) -> str:
    """What was told about any pair of the contact: where a team alert looks for the message it joins."""
    return f"{alert.tenant}:{alert.contact_id}:pairs"


def other_scope_key(alert: Alert) -> str:
    if alert.scope is Scope.TEAM:
        return contact_pairs_key(alert)
    return f"{alert.tenant}:{alert.contact_id}:team"


def merged_into(other: PairNotices | None, alert: Alert, now: datetime, cooldown: timedelta) -> bool:
    """Whether `alert` adds nothing to the message about its contact's other scope delivered inside the cool-down
    (`other`: what that scope's cool-down remembers)."""
    if other is None or cooldown <= timedelta(0) or now >= other.window_started_at + cooldown:
        return False
    if alert.level is AlertLevel.RESOLVED:
        return not other.open
    return other.open and Level(alert.level.value).rank <= Level(other.peak.value).rank
