from services.identity.pseudonyms import email_pseudonym, normalise_phone, phone_pseudonym

KEY = b"identity-key-for-tests"


def test_the_same_address_written_differently_is_one_person() -> None:
    assert email_pseudonym(KEY, " Dana@Example.ORG ") == email_pseudonym(KEY, "dana@example.org")


def test_pseudonyms_hide_the_address_and_depend_on_the_key() -> None:
    pseudonym = email_pseudonym(KEY, "dana@example.org")
    assert pseudonym.startswith("em_")
    assert "dana" not in pseudonym
    assert pseudonym != email_pseudonym(b"another-key-entirely", "dana@example.org")


def test_phone_numbers_normalise_before_hashing() -> None:
    assert normalise_phone("+49 (30) 1234-5678") == "+493012345678"
    assert normalise_phone("0049 30 12345678") == "+493012345678"
    assert normalise_phone("030 1234 5678 ext. 12") == "03012345678"
    assert phone_pseudonym(KEY, "+49 30 12345678") == phone_pseudonym(KEY, "+49-30-1234 5678")
    assert phone_pseudonym(KEY, "+4930123").startswith("ph_")
