"""`rapport-ingestion`: run the ingestion service."""

import uvicorn

from services.ingestion.app import create_app
from services.ingestion.settings import IngestionSettings
from services.runtime.logs import configure_logging


def main() -> None:
    settings = IngestionSettings.load()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.ingest_host,
        port=settings.ingest_port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
