"""Pseudonyms for people identified only by an e-mail address or a phone number.

A keyed HMAC of the normalised address or number is stable (the same person always maps to the same id, so
rapport and frequency add up) but cannot be reversed or looked up without the key, so no raw address or
number ever reaches Kafka, a log line or a metric.
"""

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


def pseudonym(key: bytes, kind: str, normalised: str) -> str:
    """`<kind>_<hex>`: the kind keeps an address and a number from ever colliding."""
    digest = hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}_{digest[:32]}"


def email_pseudonym(key: bytes, address: str) -> str:
    return pseudonym(key, "em", normalise_email(address))


def phone_pseudonym(key: bytes, number: str) -> str:
    return pseudonym(key, "ph", normalise_phone(number))
