"""The one failure a CRM look-up reports: its `reason` is a bounded metric label."""


class CrmUnavailable(Exception):
    """The CRM did not answer usefully; `reason` is a bounded metric label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
