"""`rapport-scoring`: run the scoring service."""

import sys

import uvicorn

from services.runtime.logs import configure_logging
from services.scoring.app import create_app
from services.scoring.policy_file import PolicyFileError
from services.scoring.settings import ScoringSettings


def main() -> None:
    settings = ScoringSettings.load()
    configure_logging(settings.log_level)
    try:
        app = create_app(settings)
    except PolicyFileError as exc:
        sys.stderr.write(f"{exc}\n")
        raise SystemExit(2) from None
    uvicorn.run(app, host=settings.scoring_host, port=settings.scoring_port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
