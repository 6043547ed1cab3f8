"""Which contacts were erased, and when: what was said about a contact up to its erasure is never taken again.

Filled from `outreach.erasures` (see `erasure_feed.py`); every service asks it before acting on a message. An
erasure covers what happened, or reached the system, at or before it: a late or redelivered event, an alert
scored before the erase. What happens after it (the contact writes again) is new, and is taken.
"""

from datetime import datetime

from schemas import Erasure


class ErasedContacts:
    def __init__(self) -> None:
        self._erased_at: dict[str, datetime] = {}

    def __len__(self) -> int:
        return len(self._erased_at)

    def note(self, erasure: Erasure) -> None:
        key = erasure.contact_key
        known = self._erased_at.get(key)
        if known is None or erasure.erased_at > known:
            self._erased_at[key] = erasure.erased_at

    def erased_at(self, contact_key: str) -> datetime | None:
        """When the contact was last erased, as far as known here."""
        return self._erased_at.get(contact_key)

    def forgets(self, contact_key: str, *instants: datetime) -> bool:
        """Whether a message about the contact, with these instants (when it happened, when it arrived), lies
        at or before the contact's erasure: then it must not be acted on."""
        erased_at = self._erased_at.get(contact_key)
        return erased_at is not None and any(instant <= erased_at for instant in instants)
