"""Recovery as the service runs it: on Kafka, reached exactly as the broker reaches it."""

from collections.abc import Callable
from datetime import datetime

from services.runtime.broker import kafka_client_options
from services.scoring.processing.processor import Processor
from services.scoring.recovery.kafka_log import AiokafkaLog
from services.scoring.recovery.replay_guard import ReplayGuard
from services.scoring.recovery.restore import MemoryStateRestorer
from services.scoring.recovery.state_machine import Recovery
from services.scoring.settings import ScoringSettings


def open_recovery(settings: ScoringSettings, processor: Processor, clock: Callable[[], datetime]) -> Recovery:
    """The memory store is rebuilt on each take-over; a Redis store outlives the process and needs no restore."""
    guard = ReplayGuard(
        {settings.topic_scores: "score_id", settings.topic_alerts: "ce_id"}, settings.scoring_clock_skew_seconds
    )
    memory = settings.state_store_url.startswith("memory://")
    return Recovery(
        AiokafkaLog(kafka_client_options(settings)),
        settings.scoring_group_id,
        guard,
        MemoryStateRestorer(processor, clock) if memory else None,
    )
