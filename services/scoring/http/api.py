"""The scoring service's HTTP face: the pre-send check, a relationship's summary, and erasing a contact.

The check judges with exactly the functions the stream uses, against the same stored state; it never writes.
"""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas import Channel, Level, contact_key
from schemas.common import Identifier, UtcDatetime, known_timezone
from schemas.judgement import Judgement
from services.identity.parties import Contact, Sender, contact_id, sender_id
from services.runtime.api_keys import ApiKey, Scope
from services.runtime.erasures import ErasedContacts
from services.runtime.http_auth import ApiAuth, auth_responses, refuse_tenant
from services.runtime.store_unavailable import StoreUnavailable
from services.scoring.engine.judge import ContactView, Decision, check, judge_pair, judge_team, team_applies
from services.scoring.engine.touches import instant, seconds
from services.scoring.http.direct_route import direct_route
from services.scoring.http.fast_path import FastPath
from services.scoring.http.shared_loads import SharedLoads
from services.scoring.metrics import CHECKS
from services.scoring.policy.file import PolicySet
from services.scoring.processing.erasure import ContactEraser, Erased, ErasureNotRecorded
from services.scoring.state.history import ContactState
from services.scoring.state.store import StateStore

Clock = Callable[[], datetime]
CHECK_PATH = "/v1/check"


class CheckRequest(BaseModel):
    tenant: Identifier = "default"
    sender: Sender
    contact: Contact
    channel: Channel
    at: UtcDatetime | None = Field(default=None, description="When the touch would be made; default now.")

    @field_validator("contact")
    @classmethod
    def _known_zone(cls, contact: Contact) -> Contact:
        if contact.timezone is not None:
            known_timezone(contact.timezone)
        return contact


class Answer(Judgement[Level]):
    """An HTTP answer leads with the judgement (`schemas.Judgement`, as on scores and alerts, without the
    per-channel instants). Every field is in every answer, so the OpenAPI document marks them all required."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class CheckResponse(Answer):
    decision: Decision
    sender_id: str
    contact_id: str


class PairSummary(Answer):
    tenant: str
    sender_id: str
    contact_id: str
    touches: int = Field(description="Touches remembered for this pair (both directions).")
    last_touch_at: UtcDatetime | None
    alerted_level: Level = Field(description="The level last announced on outreach.alerts.")
    team_level: Level | None = Field(description="The whole team's level towards the contact, when it applies.")


class Problem(BaseModel):
    detail: str


STORE_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "The state store cannot be reached"}
}


def scoring_router(
    store: StateStore,
    policies: PolicySet,
    identity_key: bytes,
    clock: Clock,
    state_lock: AbstractAsyncContextManager[None],
    *,
    auth: ApiAuth,
    eraser: ContactEraser | None = None,
) -> APIRouter:
    """Every route needs an API key with its scope (`check`, `read`, `erase`) for the tenant it names. `eraser`
    records erasures on Kafka; without one (tests of one process) an erase is local only."""
    contacts = eraser or ContactEraser(store, ErasedContacts(), clock, publish=None)
    loads = SharedLoads(store)
    router = APIRouter(prefix="/v1", tags=["scoring"], route_class=auth.key_first_route())
    checker = auth.require(Scope.CHECK, rate_limited=True)
    decided = {decision: CHECKS.labels(decision=decision.value) for decision in Decision}

    async def check_touch(request: CheckRequest, caller: Annotated[ApiKey, Depends(checker)]) -> CheckResponse:
        refuse_tenant(caller, request.tenant)
        sender = sender_id(request.sender, identity_key)
        contact = contact_id(request.contact, identity_key)
        state = await _loaded(loads, contact_key(request.tenant, contact))
        at = seconds(request.at or clock())
        policy = policies.for_tenant(request.tenant)
        verdict = check(ContactView(state, policy, request.contact.timezone), sender, at, request.channel)
        decided[verdict.decision].inc()
        return CheckResponse(decision=verdict.decision, sender_id=sender, contact_id=contact, **vars(verdict.judgement))

    router.add_api_route(
        CHECK_PATH.removeprefix(router.prefix),
        check_touch,
        methods=["POST"],
        response_model=CheckResponse,
        responses={**STORE_DOWN, **auth_responses(rate_limited=True)},
        summary="Would this touch be welcome? allow | warn | block, with reasons and the next welcome time",
        route_class_override=direct_route(auth, Scope.CHECK, CheckRequest, rate_limited=True),
    )

    @router.get(
        "/pairs/{tenant}/{sender_id}/{contact_id}",
        response_model=PairSummary,
        responses={
            404: {"model": Problem, "description": "Nothing is kept about this pair"},
            **STORE_DOWN,
            **auth_responses(),
        },
        dependencies=[Depends(auth.require(Scope.READ))],
        summary="A relationship as of now: level, rapport, reasons, next welcome time",
    )
    async def pair_summary(
        tenant: str = Path(pattern=r"^[^\s:]+$"),
        sender_id: str = Path(pattern=r"^[^\s:]+$"),
        contact_id: str = Path(pattern=r"^[^\s:]+$"),
    ) -> PairSummary:
        state = await _loaded(loads, contact_key(tenant, contact_id))
        pair = state.pairs.get(sender_id)
        if pair is None:
            raise HTTPException(404, "nothing is kept about this sender and contact")
        policy = policies.for_tenant(tenant)
        at = max(seconds(clock()), pair.last_at)
        view = ContactView(state, policy)
        judgement = judge_pair(view, sender_id, at)
        team = judge_team(view, at, judgement.next_allowed_at) if team_applies(state, policy) else None
        return PairSummary(
            tenant=tenant,
            sender_id=sender_id,
            contact_id=contact_id,
            touches=len(pair.touches),
            last_touch_at=instant(pair.last_at) if pair.touches else None,
            alerted_level=pair.announced,
            team_level=None if team is None else team.level,
            **vars(judgement),
        )

    @router.delete(
        "/contacts/{tenant}/{contact_id}",
        status_code=204,
        responses={
            202: {
                "model": Problem,
                "description": "Recorded for the replica that scores this contact (memory store only): this one "
                "cannot tell whether anything is kept about it",
            },
            404: {"model": Problem, "description": "Nothing is kept about this contact, or it was erased already"},
            503: {"model": Problem, "description": "The state store or Kafka cannot be reached; nothing was erased"},
            **auth_responses(),
        },
        dependencies=[Depends(auth.require(Scope.ERASE))],
        summary="Erase everything kept about a contact (right to be forgotten), in every service",
        description="Answered once the erasure is recorded on the compacted topic `outreach.erasures`, which every "
        "service honours: scoring replicas drop the state and refuse the contact's late or replayed events, "
        "notification forgets its cool-down and drops alerts scored before the erase. With the memory store, each "
        "replica holds only the contacts of the partitions it scores: a replica that does not score this contact "
        "records the erasure all the same and answers 202 (the scoring replica drops the contact on reading the "
        "record, and no take-over brings it back), unless it knows the contact erased already (404).",
    )
    async def erase_contact(
        tenant: str = Path(pattern=r"^[^\s:]+$"), contact_id: str = Path(pattern=r"^[^\s:]+$")
    ) -> Response:
        async with state_lock:
            try:
                outcome = await contacts.erase(tenant, contact_id)
            except StoreUnavailable as exc:
                raise HTTPException(503, exc.readiness) from None
            except ErasureNotRecorded as exc:
                raise HTTPException(503, str(exc)) from None
        if outcome is Erased.UNKNOWN:
            raise HTTPException(404, "nothing is kept about this contact")
        if outcome is Erased.RECORDED:
            detail = "erasure recorded; the replica that scores this contact drops it when it reads the record"
            return JSONResponse(Problem(detail=detail).model_dump(), status_code=202)
        return Response(status_code=204)

    return router


def mount(app: FastAPI, router: APIRouter) -> None:
    """Adds the scoring routes to `app`, the pre-send check served past the router (`FastPath`)."""
    app.include_router(router)
    check = next(route for route in router.routes if isinstance(route, APIRoute) and route.path == CHECK_PATH)
    app.add_middleware(FastPath, owner=app, route=check)


async def _loaded(loads: SharedLoads, key: str) -> ContactState:
    try:
        return await loads.load(key)
    except StoreUnavailable as exc:
        raise HTTPException(503, exc.readiness) from None
