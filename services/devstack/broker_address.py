"""Where `make run` leaves the address of the broker it started, so other commands find it without flags."""

from collections.abc import Mapping
from pathlib import Path

RUN_DIR = Path(".run")
BROKER_FILE = "broker"


def record_broker(bootstrap: str, run_dir: Path = RUN_DIR) -> None:
    run_dir.mkdir(exist_ok=True)
    (run_dir / BROKER_FILE).write_text(bootstrap + "\n")


def forget_broker(run_dir: Path = RUN_DIR) -> None:
    (run_dir / BROKER_FILE).unlink(missing_ok=True)


def find_broker(environ: Mapping[str, str], run_dir: Path = RUN_DIR) -> str | None:
    """`KAFKA_BOOTSTRAP_SERVERS` when set, else the broker a running `make run` recorded, else None."""
    if environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return environ["KAFKA_BOOTSTRAP_SERVERS"]
    recorded = run_dir / BROKER_FILE
    if recorded.exists():
        return recorded.read_text().strip() or None
    return None
