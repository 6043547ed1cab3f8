"""`rapport-scoring`: run the scoring service."""

import gc
import sys

import uvicorn
from fastapi import FastAPI

from services.runtime.api_keys import ApiKeysFileError
from services.runtime.logs import configure_logging
from services.runtime.startup_checks import refuse_to_start_without_access
from services.scoring.app import create_app
from services.scoring.policy.file import PolicyFileError
from services.scoring.settings import ScoringSettings


def tune_garbage_collection() -> None:
    """Scoring allocates many short-lived objects per event and almost no cycles: collecting the youngest
    generation every 50 000 allocations instead of every 700 saves about a sixth of the CPU an event costs."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def serve(app: FastAPI, host: str, port: int) -> None:
    """uvloop and httptools' C parser rather than asyncio's loop and h11: about 300 µs less CPU per request,
    which at the pre-send check's rate is most of what a bare endpoint costs."""
    uvicorn.run(app, host=host, port=port, loop="uvloop", http="httptools", log_level="warning", access_log=False)


def main() -> None:
    settings = ScoringSettings.load()
    configure_logging(settings.log_level)
    refuse_to_start_without_access(settings, {"STATE_STORE_URL": settings.state_store_url})
    try:
        app = create_app(settings)
    except (PolicyFileError, ApiKeysFileError) as exc:
        sys.stderr.write(f"{exc}\n")
        raise SystemExit(2) from None
    tune_garbage_collection()
    serve(app, settings.scoring_host, settings.scoring_port)


if __name__ == "__main__":
    main()
