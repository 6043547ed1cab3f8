"""The one way a keyed store says it cannot answer, whichever service and backend is behind it."""


class StoreUnavailable(Exception):
    """A store did not answer. The caller keeps nothing half-done (no offset committed, no alert delivered without
    its history, HTTP 503) and retries; `readiness` is the sentence `/readyz` shows until the store is back."""

    def __init__(self, store: str, reason: str) -> None:
        self.store = store
        self.reason = reason
        self.readiness = f"{store} unavailable: {reason}"
        super().__init__(self.readiness)
