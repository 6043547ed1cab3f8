import base64
from pathlib import Path

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


def test_secrets_come_from_files_in_secrets_dir_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A Kubernetes or Docker secret mount: one file per setting, named as its variable, a trailing newline and all."""
    monkeypatch.delenv("GENERIC_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("IDENTITY_HMAC_KEY", raising=False)
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    (tmp_path / "GENERIC_WEBHOOK_SECRET").write_text(secret + "\n")
    (tmp_path / "IDENTITY_HMAC_KEY").write_text("from-the-file-" + "x" * 32 + "\n")
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("IDENTITY_HMAC_KEY", "from-the-environment-" + "y" * 32)
    settings = IngestionSettings.load()
    assert settings.generic_webhook_secret.get_secret_value() == secret
    assert settings.identity_hmac_key.get_secret_value() == "from-the-environment-" + "y" * 32


def test_a_secrets_dir_that_is_not_there_stops_the_service(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path / "not-mounted"))
    with pytest.raises(SystemExit):
        IngestionSettings.load()
    assert f"SECRETS_DIR: {tmp_path / 'not-mounted'} is not a directory" in capsys.readouterr().err
