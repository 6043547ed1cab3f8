"""The key-prefix convention for every store the services keep in a shared Redis.

A value lives at `rg:<service>:<kind>:<key>` and a ranking (a sorted set) at `rg:<service>:<kind>`, so one
Redis can serve every service, a service's keys never collide with another's, and an ACL user per service
needs only `~rg:<service>:*`. Service and kind are lower-case words without `:`, so no keyspace's prefix is
another's.

Keys that predate the convention keep their names where renaming them would lose data during a rolling
upgrade (`established`): old and new replicas share partitions while the upgrade rolls, and each reads only
the names it knows. Only the scoring state does this (`rg:contact:<tenant>:<contact_id>` and `rg:due`). The
ingestion dedupe (`rg:ingest:`) and the notification cool-down (`rapport-guard:notification:cooldown:`) moved
to the convention, and what they remembered under the old names is not read: after the upgrade a CRM's retry
of an event accepted before it is accepted again (scoring drops it as already seen), and a pair told about
before it may be told once more.
"""

import re
from dataclasses import dataclass, field

_WORD = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Keyspace:
    service: str
    kind: str
    established: str | None = None
    """The name this keyspace had before the convention, kept because its data must survive an upgrade."""
    name: str = field(init=False)
    """The ranking's key, and the start of every value's key."""
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        for part in (self.service, self.kind):
            if not _WORD.fullmatch(part):
                raise ValueError(f"keyspace: {part!r} must be a lower-case word without ':'")
        name = self.established or f"rg:{self.service}:{self.kind}"
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "prefix", name + ":")
