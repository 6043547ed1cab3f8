"""A compact binary form of `ContactState`, shared by every store so that a million pairs fit in memory.

A touch is 14 bytes: event time (4, seconds from 2020), the event key (8), and one 16-bit code for channel,
direction, kind, outcome and exemption. Layout, little-endian:

    contact: version u8 · team level u8 · timezone (u16 length + UTF-8) · timezone time i32 · policy u32 · pairs u16
    pair:    sender (u16 length + UTF-8) · level u8 · flags u8 · [floor i32 + u64] · [first engaged i32] · touches u8
    then (version 2 on): consent marks u8 · each mark: time i32 · event key u64 · code u8 (channel, or 7 for every
    channel; +8 for an opt-out) · team due i32 (0: none); a pair's flags say whether its due time i32 follows
    its first engagement, and bits 3-5 hold the level readers were told plus one when a damped re-rise left it
    below the pair's level (0: the same; older readers ignore those bits), and bit 6 that its last alert went out
    historical (older readers ignore it too) · [team told u8]: the level readers were told of the team when a
    damped re-rise left it below the team's level, or the team's level itself when only the next byte is needed
    (older readers stop before it; the team level byte has no bits to spare that they would ignore) · [team
    flags u8]: bit 0, the team's last alert went out historical, only when set (older readers stop before it)

Version 1 states (before consent) are still read, as states without marks; every state is written as version 2.
"""

import logging
import struct
from functools import cache

from schemas import Channel, Direction, Kind, Level, Outcome
from schemas.events import SECONDS_EPOCH
from services.scoring.engine.consent import ConsentMark
from services.scoring.engine.touches import Described, Touch, describe
from services.scoring.state.history import ContactState, PairHistory

VERSION = 2
READABLE = (1, 2)
EPOCH = SECONDS_EPOCH

_TOUCH = struct.Struct("<iQH")
_MARK = struct.Struct("<iQB")
_EVERY_CHANNEL = 7
_OPT_OUT = 8
_FLOOR = struct.Struct("<iQ")
_I32 = struct.Struct("<i")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_CHANNELS = list(Channel)
_DIRECTIONS = list(Direction)
_KINDS = list(Kind)
_OUTCOMES: list[Outcome | None] = [None, *Outcome]
_LEVELS = list(Level)
_HAS_FLOOR = 1
_HAS_FIRST = 2
_HAS_DUE = 4
_TOLD_SHIFT = 3
_HISTORICAL = 64
_TEAM_HISTORICAL = 1

log = logging.getLogger("rapport_guard.scoring")


class CorruptState(ValueError):
    """Stored bytes this version cannot read."""


def _code(touch: Touch) -> int:
    return (
        _CHANNELS.index(touch.channel)
        | _DIRECTIONS.index(touch.direction) << 3
        | _KINDS.index(touch.kind) << 4
        | _OUTCOMES.index(touch.outcome) << 7
        | int(touch.exempt) << 10
    )


@cache
def _fields(code: int) -> Described:
    return describe(
        _CHANNELS[code & 7],
        _DIRECTIONS[code >> 3 & 1],
        _KINDS[code >> 4 & 7],
        _OUTCOMES[code >> 7 & 7],
        bool(code >> 10 & 1),
    )


def _text(value: str) -> bytes:
    raw = value.encode()
    return _U16.pack(len(raw)) + raw


def encode(state: ContactState) -> bytes:
    """Canonical: the same state always encodes to the same bytes (senders sorted)."""
    parts = [
        bytes((VERSION, _LEVELS.index(state.team_alerted))),
        _text(state.timezone or ""),
        _I32.pack(state.timezone_at - EPOCH),
        _U32.pack(state.policy_mark),
        _U16.pack(len(state.pairs)),
    ]
    for sender_id, pair in sorted(state.pairs.items()):
        flags = (
            (_HAS_FLOOR if pair.floor is not None else 0)
            | (_HAS_FIRST if pair.first_engaged_at is not None else 0)
            | (_HAS_DUE if pair.due_at is not None else 0)
            | (0 if pair.told is None else _LEVELS.index(pair.told) + 1) << _TOLD_SHIFT
            | (_HISTORICAL if pair.historical else 0)
        )
        parts += (_text(sender_id), bytes((_LEVELS.index(pair.alerted), flags)))
        if pair.floor is not None:
            parts.append(_FLOOR.pack(pair.floor[0] - EPOCH, pair.floor[1]))
        if pair.first_engaged_at is not None:
            parts.append(_I32.pack(pair.first_engaged_at - EPOCH))
        if pair.due_at is not None:
            parts.append(_I32.pack(pair.due_at - EPOCH))
        parts.append(bytes((len(pair.touches),)))
        parts += (_TOUCH.pack(touch.at - EPOCH, touch.key, _code(touch)) for touch in pair.touches)
    parts.append(bytes((len(state.consent),)))
    parts += (_MARK.pack(mark.at - EPOCH, mark.key, _mark_code(mark)) for mark in state.consent)
    parts.append(_I32.pack(0 if state.team_due_at is None else state.team_due_at - EPOCH))
    if state.team_told is not None or state.team_historical:
        told = state.team_alerted if state.team_told is None else state.team_told
        parts.append(bytes((_LEVELS.index(told),)))
    if state.team_historical:
        parts.append(bytes((_TEAM_HISTORICAL,)))
    return b"".join(parts)


def _mark_code(mark: ConsentMark) -> int:
    channel = _EVERY_CHANNEL if mark.channel is None else _CHANNELS.index(mark.channel)
    return channel | (_OPT_OUT if mark.opt_out else 0)


def _mark(at: int, key: int, code: int) -> ConsentMark:
    channel = None if code & 7 == _EVERY_CHANNEL else _CHANNELS[code & 7]
    return ConsentMark(at + EPOCH, key, channel, bool(code & _OPT_OUT))


def decode(blob: bytes) -> ContactState:
    try:
        return _decode(memoryview(blob))
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise CorruptState(f"unreadable contact state: {exc}") from None


def restore(blob: bytes | None) -> ContactState:
    """A stored state, or an empty one for a contact never seen; unreadable bytes start the contact afresh
    rather than stall its partition forever."""
    if blob is None:
        return ContactState()
    try:
        return decode(blob)
    except CorruptState:
        log.exception("unreadable state for one contact; starting it afresh")
        return ContactState()


def _decode(view: memoryview) -> ContactState:
    version = view[0]
    if version not in READABLE:
        raise CorruptState(f"state format {version} is not one of {READABLE}")
    state = ContactState(team_alerted=_LEVELS[view[1]])
    (size,) = _U16.unpack_from(view, 2)
    state.timezone = bytes(view[4 : 4 + size]).decode() or None
    offset = 4 + size
    state.timezone_at = _I32.unpack_from(view, offset)[0] + EPOCH
    (state.policy_mark,) = _U32.unpack_from(view, offset + 4)
    (count,) = _U16.unpack_from(view, offset + 8)
    offset += 10
    for _ in range(count):
        (size,) = _U16.unpack_from(view, offset)
        sender_id = bytes(view[offset + 2 : offset + 2 + size]).decode()
        offset += 2 + size
        pair = PairHistory(alerted=_LEVELS[view[offset]])
        flags = view[offset + 1]
        told = flags >> _TOLD_SHIFT & 7
        pair.told = None if told == 0 else _LEVELS[told - 1]
        pair.historical = bool(flags & _HISTORICAL)
        offset += 2
        if flags & _HAS_FLOOR:
            floor_at, floor_key = _FLOOR.unpack_from(view, offset)
            pair.floor = (floor_at + EPOCH, floor_key)
            offset += _FLOOR.size
        if flags & _HAS_FIRST:
            pair.first_engaged_at = _I32.unpack_from(view, offset)[0] + EPOCH
            offset += 4
        if flags & _HAS_DUE:
            pair.due_at = _I32.unpack_from(view, offset)[0] + EPOCH
            offset += 4
        touches = view[offset]
        offset += 1
        end = offset + touches * _TOUCH.size
        pair.touches = [
            Touch(at + EPOCH, key, *_fields(code)) for at, key, code in _TOUCH.iter_unpack(view[offset:end])
        ]
        offset = end
        state.pairs[sender_id] = pair
    if version >= 2:
        marks = view[offset]
        offset += 1
        end = offset + marks * _MARK.size
        state.consent = [_mark(*fields) for fields in _MARK.iter_unpack(view[offset:end])]
        (team_due,) = _I32.unpack_from(view, end)
        state.team_due_at = None if team_due == 0 else team_due + EPOCH
        rest = end + _I32.size
        if len(view) > rest:
            told = _LEVELS[view[rest]]
            state.team_told = None if told is state.team_alerted else told
        if len(view) > rest + 1:
            state.team_historical = bool(view[rest + 1] & _TEAM_HISTORICAL)
    return state
