"""`rapport-ingestion`: run the ingestion service."""

import gc

import uvicorn

from services.ingestion.app import create_app
from services.ingestion.settings import IngestionSettings
from services.runtime.logs import configure_logging


def main() -> None:
    settings = IngestionSettings.load()
    configure_logging(settings.log_level)
    app = create_app(settings)
    # Everything built so far lives as long as the process: keep it out of the collector's full passes, which
    # otherwise walk the whole FastAPI/pydantic/aiokafka heap every few hundred requests (~40 ms each).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.ingest_host,
        port=settings.ingest_port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
