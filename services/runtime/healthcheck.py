"""`python -m services.runtime.healthcheck`: the container image's HEALTHCHECK, whichever service the container runs.

One image runs any of the three services, each on its own port setting. A container runs one of them, so the
check passes when `/healthz` answers 200 on any of the three ports configured in the environment (or their
defaults). Standard library only: it runs every few seconds and must start fast.
"""

import os
import sys
import urllib.error
import urllib.request

PORT_SETTINGS = {"INGEST_PORT": "8080", "SCORING_PORT": "8081", "NOTIFY_PORT": "8082"}
TIMEOUT_SECONDS = 3.0


def alive(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=TIMEOUT_SECONDS) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main() -> None:
    ports = [os.environ.get(name, default) for name, default in PORT_SETTINGS.items()]
    if any(alive(port) for port in ports):
        return
    sys.stderr.write(f"no service answers /healthz on 127.0.0.1 ports {', '.join(ports)}\n")
    raise SystemExit(1)


if __name__ == "__main__":
    main()
