"""In-process state store: the default, and the reference for every other backend."""

from services.scoring.state import ContactState


class MemoryStore:
    def __init__(self) -> None:
        self._states: dict[str, str] = {}

    async def load(self, contact_key: str) -> ContactState:
        raw = self._states.get(contact_key)
        return ContactState() if raw is None else ContactState.model_validate_json(raw)

    async def save(self, contact_key: str, state: ContactState) -> None:
        self._states[contact_key] = state.model_dump_json()

    async def delete(self, contact_key: str) -> bool:
        return self._states.pop(contact_key, None) is not None

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
