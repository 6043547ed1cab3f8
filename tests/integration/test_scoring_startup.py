"""A scoring process refuses to start on a bad policy, and says which field is wrong."""

from pathlib import Path

from services.devstack.ports import free_port
from services.devstack.processes import ServiceProcess


def test_a_bad_policy_file_stops_the_service_naming_the_field(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("tiers:\n  stranger:\n    min_gap: three days\n")
    process = ServiceProcess(
        "scoring",
        free_port(),
        {
            "POLICY_FILE": str(policy),
            "IDENTITY_HMAC_KEY": "k" * 32,
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        },
        tmp_path / "scoring.log",
    )
    process.start()
    assert process.process is not None
    assert process.process.wait(60) == 2
    log = process.log_path.read_text()
    assert "policy.tiers.stranger.min_gap: must be a duration like '3d', got 'three days'" in log
