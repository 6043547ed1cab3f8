"""CRM settings that are wrong stop the service at start, naming the variable."""

import pytest

from services.ingestion.settings import IngestionSettings


@pytest.fixture(autouse=True)
def required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENERIC_WEBHOOK_SECRET", "whsec_" + "a" * 32)
    monkeypatch.setenv("IDENTITY_HMAC_KEY", "x" * 32)


@pytest.mark.parametrize(
    ("variables", "named", "problem"),
    [
        ({"SALESFORCE_ORGANIZATION_ID": "00D-not-an-id"}, "SALESFORCE_ORGANIZATION_ID", "15 or 18"),
        ({"PIPEDRIVE_WEBHOOK_USER": "rg"}, "PIPEDRIVE_WEBHOOK_PASSWORD", "together"),
        ({"DEDUPE_STORE_URL": "postgres://db"}, "DEDUPE_STORE_URL", "pattern"),
        ({"PUBLIC_BASE_URL": "hooks.example.com"}, "PUBLIC_BASE_URL", "pattern"),
    ],
)
def test_bad_crm_settings_stop_the_service_naming_them(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variables: dict[str, str],
    named: str,
    problem: str,
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit):
        IngestionSettings.load()
    err = capsys.readouterr().err
    assert named in err
    assert problem in err


def test_crms_are_off_until_configured() -> None:
    settings = IngestionSettings.load()
    assert settings.hubspot_secrets() == []
    assert settings.salesforce_organization_id is None
    assert settings.dedupe_ttl_seconds >= 96 * 3600
