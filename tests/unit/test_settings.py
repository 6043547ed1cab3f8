import pytest

from services.ingestion.settings import IngestionSettings


def test_a_bad_secret_stops_the_service_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GENERIC_WEBHOOK_SECRET", "whsec_c2hvcnQ=")
    monkeypatch.setenv("IDENTITY_HMAC_KEY", "x" * 32)
    with pytest.raises(SystemExit):
        IngestionSettings.load()
    err = capsys.readouterr().err
    assert "GENERIC_WEBHOOK_SECRET" in err
    assert "24-64 bytes" in err
    assert "c2hvcnQ" not in err


def test_missing_secrets_are_named(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GENERIC_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("IDENTITY_HMAC_KEY", raising=False)
    with pytest.raises(SystemExit):
        IngestionSettings.load()
    err = capsys.readouterr().err
    assert "GENERIC_WEBHOOK_SECRET: Field required" in err
    assert "IDENTITY_HMAC_KEY: Field required" in err
