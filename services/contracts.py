"""Writes the committed contract files: JSON Schema per message and the AsyncAPI document per service.

`python -m services.contracts` rewrites them; `python -m services.contracts --check` fails when the code and the
committed files have drifted apart (run by the tests).
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from schemas import Alert, Erasure, NotificationReceipt, OutreachEvent, PairScore
from services.ingestion.publisher import KafkaEventSink
from services.notification.settings import NotificationSettings
from services.notification.stream import NotificationStream
from services.runtime.clock import utc_now
from services.runtime.settings import ServiceSettings
from services.scoring.policy.file import PolicySet
from services.scoring.processing.processor import Processor
from services.scoring.recovery.factory import open_recovery
from services.scoring.settings import ScoringSettings
from services.scoring.state.memory_store import MemoryStore
from services.scoring.stream.consumer import ScoringStream
from services.scoring.stream.erasures import erasure_publisher
from services.scoring.stream.outputs import PublisherSender

ROOT = Path(__file__).resolve().parents[1]
MESSAGES: dict[str, type[BaseModel]] = {
    "outreach-event": OutreachEvent,
    "pair-score": PairScore,
    "alert": Alert,
    "notification-receipt": NotificationReceipt,
    "erasure": Erasure,
}


def _spec_broker() -> KafkaBroker:
    return KafkaBroker("kafka:9092", specification_url="kafka:9092", logger=None)


def asyncapi_documents() -> dict[str, dict[str, Any]]:
    """Each service's broker wired exactly as in production, described without connecting."""
    defaults = ServiceSettings.model_construct()
    ingestion = _spec_broker()
    KafkaEventSink(ingestion, defaults.topic_events, timeout_seconds=1)
    scoring = _spec_broker()
    scoring_settings = ScoringSettings.model_construct()
    processor = Processor(MemoryStore(expire_after=1), PolicySet())
    ScoringStream(
        scoring,
        scoring_settings,
        processor,
        utc_now,
        open_recovery(scoring_settings, processor, utc_now),
        sender=PublisherSender(scoring),
    )
    erasure_publisher(scoring, scoring_settings)
    notification = _spec_broker()
    NotificationStream(notification, NotificationSettings.model_construct(), utc_now)
    documents = {}
    for name, broker in (("ingestion", ingestion), ("scoring", scoring), ("notification", notification)):
        spec = AsyncAPI(broker, title=f"Rapport Guard {name}", version="1", schema_version="3.0.0")
        documents[name] = json.loads(spec.to_specification().to_json())
    return documents


def expected_files() -> dict[Path, str]:
    files = {
        ROOT / "schemas" / "json" / f"{name}.schema.json": json.dumps(
            model.model_json_schema(mode="serialization"), indent=2
        )
        for name, model in MESSAGES.items()
    }
    for name, document in asyncapi_documents().items():
        files[ROOT / "schemas" / "asyncapi" / f"{name}.json"] = json.dumps(document, indent=2, sort_keys=True)
    return {path: text + "\n" for path, text in files.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed files differ")
    args = parser.parse_args()
    drifted = []
    for path, text in expected_files().items():
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        drifted.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if args.check and drifted:
        sys.exit("out of date (run `make contracts`): " + ", ".join(map(str, drifted)))
    for path in drifted:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
