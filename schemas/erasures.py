"""`outreach.erasures`: a contact erased on request (right to be forgotten), honoured by every service.

Compacted and keyed `tenant:contact_id`: the latest erasure of each contact stays for as long as the topic does,
so a service that starts, restarts or takes over a partition learns every erasure before it reads anything else.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.common import SCHEMA_VERSION, Identifier, UtcDatetime, contact_key


class Erasure(BaseModel):
    """Everything about the contact up to `erased_at` is forgotten and not taken again (late or redelivered)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = SCHEMA_VERSION
    tenant: Identifier
    contact_id: Identifier
    erased_at: UtcDatetime

    @property
    def contact_key(self) -> str:
        return contact_key(self.tenant, self.contact_id)
