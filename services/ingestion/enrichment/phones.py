"""Work phone or cell phone: the dialled number against the contact's numbers, else the numbering plan.

The difference is the heart of the product: a call to someone's cell phone reaches them off work, so the policy
weighs it differently. The CRM's own labels win; `phonenumbers` only decides when the CRM does not say.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, number_type
from phonenumbers.timezone import time_zones_for_number

from schemas import Channel
from services.identity.pseudonyms import normalise_phone

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.PAGER}
UNKNOWN_ZONE = "Etc/Unknown"


@dataclass(frozen=True)
class LabelledNumber:
    """One of the contact's numbers as the CRM files it; `channel` is what its label means."""

    number: str
    channel: Channel


def parse(number: str, region: str | None = None) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_possible_number(parsed) else None


def same_number(a: str, b: str) -> bool:
    """Equal once normalised; a number without country code matches the same national number with one."""
    left, right = normalise_phone(a), normalise_phone(b)
    if not left or not right:
        return False
    if left == right:
        return True
    shorter, longer = sorted((left.lstrip("+").lstrip("0"), right.lstrip("+").lstrip("0")), key=len)
    return len(shorter) >= 7 and longer.endswith(shorter)


def phone_channel(dialled: str | None, numbers: Iterable[LabelledNumber]) -> Channel | None:
    """The channel of the contact's number that was dialled; else what the numbering plan says; None: unknown."""
    if not dialled:
        return None
    for labelled in numbers:
        if same_number(dialled, labelled.number):
            return labelled.channel
    return classify(dialled)


def classify(number: str) -> Channel | None:
    """`phone_mobile` for a mobile range, `phone_work` for a fixed line, None where the plan does not tell."""
    parsed = parse(number)
    if parsed is None:
        return None
    kind = number_type(parsed)
    if kind in _MOBILE_TYPES:
        return Channel.PHONE_MOBILE
    if kind == PhoneNumberType.FIXED_LINE:
        return Channel.PHONE_WORK
    return None


def number_timezone(numbers: Iterable[str]) -> str | None:
    """The time zone of the first number whose region has exactly one (Germany: yes; the US: per area code)."""
    for number in numbers:
        parsed = parse(number)
        if parsed is None:
            continue
        zones = [zone for zone in time_zones_for_number(parsed) if zone != UNKNOWN_ZONE]
        if len(zones) == 1:
            return zones[0]
    return None


def numbers_in(text: str | None) -> list[str]:
    """Phone numbers written in international form in free text (a task's subject, a call note)."""
    if not text:
        return []
    return [
        phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        for match in phonenumbers.PhoneNumberMatcher(text, None)
    ]
