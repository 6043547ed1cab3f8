"""Erasing a contact: recorded on Kafka before anything is deleted, and never brought back by a late event."""

import asyncio

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from schemas import Erasure, OutreachEvent
from services.runtime.erasures import ErasedContacts
from services.scoring.http.api import scoring_router
from services.scoring.policy.file import PolicySet
from services.scoring.processing.erasure import ContactEraser, Erased, ErasureNotRecorded
from services.scoring.processing.processor import Processor
from services.scoring.state.memory_store import MemoryStore
from tests.harness.api_keys import operator_auth
from tests.harness.events import event
from tests.unit.scoring.builders import DAY, T0, emails

ERASED_AT = T0 + 10 * DAY


class Scorer:
    """A processor and an eraser over one memory store, the way the service wires them."""

    def __init__(self, publish_fails: bool = False, scores: set[str] | None = None) -> None:
        """`scores`: the contact keys this replica scores (a memory store on several replicas); None: all."""
        self.store = MemoryStore(expire_after=10**9)
        self.erased = ErasedContacts()
        self.processor = Processor(self.store, PolicySet(), self.erased)
        self.published: list[Erasure] = []
        self.publish_fails = publish_fails
        scores_here = None if scores is None else scores.__contains__
        self.eraser = ContactEraser(self.store, self.erased, lambda: ERASED_AT, self.publish, scores_here)

    async def publish(self, erasure: Erasure) -> None:
        if self.publish_fails:
            raise ErasureNotRecorded("the erasure could not be recorded on Kafka: KafkaTimeoutError")
        self.published.append(erasure)

    def deliver(self, *events: OutreachEvent) -> list[str]:
        async def run() -> list[str]:
            outputs, states = await self.processor.process(list(events), ERASED_AT)
            await self.processor.save(states)
            return [score.event_id for score in outputs.scores]

        return asyncio.run(run())


def test_an_erased_contact_is_forgotten_and_its_late_or_replayed_events_are_not_scored() -> None:
    scorer = Scorer()
    history = emails(3, 2 * DAY)
    assert scorer.deliver(*history) == ["e-rep-1-0", "e-rep-1-1", "e-rep-1-2"]
    assert asyncio.run(scorer.eraser.erase("acme", "c-1")) is Erased.ERASED
    assert [(e.tenant, e.contact_id, e.erased_at) for e in scorer.published] == [("acme", "c-1", ERASED_AT)]
    assert len(scorer.store) == 0
    late = event("late", T0 + 5 * DAY)
    assert scorer.deliver(*history, late) == [], "a replay (restore, redelivery) and a late event are refused"
    assert len(scorer.store) == 0
    assert asyncio.run(scorer.eraser.erase("acme", "c-1")) is Erased.UNKNOWN, "a second erase finds nothing"
    assert scorer.deliver(event("other", T0 + 5 * DAY, contact="c-2")) == ["e-other"], "other contacts go on"


def test_what_the_contact_does_after_the_erasure_is_new_and_taken() -> None:
    scorer = Scorer()
    scorer.deliver(*emails(2, DAY))
    asyncio.run(scorer.eraser.erase("acme", "c-1"))
    later = event("later", ERASED_AT + DAY)
    later = later.model_copy(update={"received_at": ERASED_AT + DAY})
    assert scorer.deliver(later) == ["e-later"]
    asyncio.run(scorer.eraser.forget(scorer.published[0]))
    assert len(scorer.store) == 1, "the erasure read again after a restart keeps what came after it"


def test_an_erasure_kafka_did_not_take_erases_nothing() -> None:
    scorer = Scorer(publish_fails=True)
    scorer.deliver(*emails(2, DAY))
    with pytest.raises(ErasureNotRecorded):
        asyncio.run(scorer.eraser.erase("acme", "c-1"))
    assert len(scorer.store) == 1
    assert scorer.deliver(event("next", T0 + 4 * DAY)) == ["e-next"]


def api(scorer: Scorer) -> TestClient:
    app = FastAPI()
    auth, headers = operator_auth()
    router = scoring_router(
        scorer.store,
        PolicySet(),
        b"identity-key-0123456789",
        lambda: ERASED_AT,
        asyncio.Lock(),
        auth=auth,
        eraser=scorer.eraser,
    )
    app.include_router(router)
    return TestClient(app, headers=headers)


def test_the_endpoint_answers_503_when_the_erasure_cannot_be_recorded() -> None:
    scorer = Scorer(publish_fails=True)
    scorer.deliver(*emails(2, DAY))
    http = api(scorer)
    answer = http.delete("/v1/contacts/acme/c-1")
    assert answer.status_code == 503
    assert "could not be recorded on Kafka" in answer.json()["detail"]
    assert http.get("/v1/pairs/acme/rep-1/c-1").status_code == 200


def test_an_erasure_covers_what_happened_or_arrived_up_to_it() -> None:
    erased = ErasedContacts()
    erased.note(Erasure(tenant="acme", contact_id="c-1", erased_at=ERASED_AT))
    erased.note(Erasure(tenant="acme", contact_id="c-1", erased_at=ERASED_AT - DAY))
    assert erased.forgets("acme:c-1", ERASED_AT)
    assert erased.forgets("acme:c-1", ERASED_AT + DAY, ERASED_AT - DAY), "a late arrival of an old event"
    assert not erased.forgets("acme:c-1", ERASED_AT + DAY)
    assert not erased.forgets("acme:c-2", T0)


def test_a_replica_that_does_not_score_the_contact_records_the_erasure_and_says_so() -> None:
    """Memory store on several replicas: this one holds nothing of c-1, which another replica scores."""
    elsewhere = Scorer(scores={"acme:c-2"})
    http = api(elsewhere)
    answer = http.delete("/v1/contacts/acme/c-1")
    assert answer.status_code == 202, answer.text
    assert "recorded" in answer.json()["detail"]
    assert [(e.contact_id, e.erased_at) for e in elsewhere.published] == [("c-1", ERASED_AT)]
    assert http.delete("/v1/contacts/acme/c-1").status_code == 404, "erasing twice is 404 the second time"
    assert len(elsewhere.published) == 1

    owner = Scorer(scores={"acme:c-1"})
    owner.deliver(*emails(3, DAY))
    asyncio.run(owner.eraser.forget(elsewhere.published[0]))
    assert len(owner.store) == 0, "the replica that scores the contact drops it on reading the record"
    assert owner.deliver(*emails(3, DAY)) == [], "and its restore or a redelivery does not bring it back"


def test_a_replica_that_scores_the_contact_still_answers_404_for_an_unknown_one() -> None:
    owner = Scorer(scores={"acme:c-1"})
    assert api(owner).delete("/v1/contacts/acme/c-1").status_code == 404
    assert owner.published == []
