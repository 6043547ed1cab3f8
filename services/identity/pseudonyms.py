"""Pseudonyms for people identified only by an e-mail address or a phone number.

A keyed HMAC of the normalised address or number is stable (the same person always maps to the same id, so
rapport and frequency add up) but cannot be reversed or looked up without the key, so no raw address or
number ever reaches Kafka, a log line or a metric.
"""

import functools
import hashlib
import hmac
import re

_NOT_DIGIT = re.compile(r"[^0-9]")


def normalise_email(address: str) -> str:
    return address.strip().lower()


def normalise_phone(number: str) -> str:
    """Digits only, with one leading `+` when the number was international; extensions are dropped."""
    main = re.split(r"(?i)\s*(?:ext\.?|x|#)\s*\d+$", number.strip())[0]
    digits = _NOT_DIGIT.sub("", main)
    if main.startswith(("+", "00")):
        return "+" + digits.removeprefix("00")
    return digits


@functools.lru_cache(maxsize=8)
def _keyed(key: bytes) -> "hmac.HMAC":
    """The HMAC state after the key, copied per pseudonym: keying it anew each time cost twice as much."""
    return hmac.new(key, digestmod=hashlib.sha256)


def pseudonym(key: bytes, kind: str, normalised: str) -> str:
    """`<kind>_<hex>`: the kind keeps an address and a number from ever colliding."""
    mac = _keyed(key).copy()
    mac.update(f"{kind}:{normalised}".encode())
    return f"{kind}_{mac.hexdigest()[:32]}"


RECENT = 32_768
"""Addresses and numbers whose pseudonyms are remembered: the same people come back again and again (that is
what the guard watches), and a pseudonym costs ~2 µs. Kept in this process only, like the request that named them;
at most a few MB."""


@functools.lru_cache(maxsize=RECENT)
def email_pseudonym(key: bytes, address: str) -> str:
    return pseudonym(key, "em", normalise_email(address))


@functools.lru_cache(maxsize=RECENT)
def phone_pseudonym(key: bytes, number: str) -> str:
    return pseudonym(key, "ph", normalise_phone(number))
