"""Scoring's publisher of `outreach.erasures`: the erase endpoint answers only once Kafka has the record."""

from faststream.kafka import KafkaBroker

from schemas import Erasure
from services.scoring.processing.erasure import ErasureNotRecorded, Publish
from services.scoring.settings import ScoringSettings


def erasure_publisher(broker: KafkaBroker, settings: ScoringSettings) -> Publish:
    publisher = broker.publisher(
        settings.topic_erasures,
        schema=Erasure,
        description="Contacts erased on request; compacted, keyed tenant:contact_id, read in full by every service.",
    )

    async def publish(erasure: Erasure) -> None:
        try:
            await publisher.publish(
                erasure.model_dump_json().encode(),
                key=erasure.contact_key.encode(),
                headers={"content-type": "application/json"},
            )
        except Exception as exc:  # whatever Kafka or the client raised, the erase did not happen
            raise ErasureNotRecorded(f"the erasure could not be recorded on Kafka: {type(exc).__name__}") from exc

    return publish
