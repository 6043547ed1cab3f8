"""The keys file as the service sees it while running: reloaded on SIGHUP and when the file changes.

Rotation needs no restart: add the new key's hash, hand the key out, remove the old hash. A reload that fails
keeps the keys in force, so a typo while editing never locks every caller out.
"""

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from services.runtime.api_keys import ApiKeysFileError, KeyRing, load_key_ring

log = logging.getLogger(__name__)

FileStamp = tuple[int, int, int] | None


def _stamp(path: Path) -> FileStamp:
    """What changes when the file is edited in place or replaced by a rename (as Kubernetes does with Secrets)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size, status.st_ino)


class ApiKeysFile:
    """Loads at construction (a bad file raises `ApiKeysFileError`), then follows the file's changes."""

    def __init__(
        self, path: Path, check_every_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = path
        self.check_every_seconds = check_every_seconds
        self.clock = clock
        self._stamp = _stamp(path)
        self._ring = load_key_ring(path)
        self._checked_at = clock()
        log.info("api keys loaded from %s: %s", path, _names(self._ring))

    def current(self) -> KeyRing:
        """The keys in force; looks at the file's stamp at most once per `check_every_seconds`."""
        now = self.clock()
        if now - self._checked_at >= self.check_every_seconds:
            self._checked_at = now
            if _stamp(self.path) != self._stamp:
                self.reload("the file changed")
        return self._ring

    def reload(self, reason: str = "SIGHUP") -> bool:
        """Read the file again; on failure keep the old keys and say why. True when the new keys are in force."""
        self._stamp = _stamp(self.path)
        try:
            ring = load_key_ring(self.path)
        except ApiKeysFileError as exc:
            log.error("api keys not reloaded (%s), the previous keys stay in force: %s", reason, exc)
            return False
        self._ring = ring
        log.info("api keys reloaded (%s): %s", reason, _names(ring))
        return True


def reload_on_sighup(keys: ApiKeysFile) -> Callable[[], None]:
    """Installs the SIGHUP handler on the running loop; returns how to remove it. Off the main thread (a test
    client) there are no signals, and the file's changes are still followed."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGHUP, keys.reload)
    except (ValueError, RuntimeError, NotImplementedError):
        return lambda: None

    def forget() -> None:
        loop.remove_signal_handler(signal.SIGHUP)

    return forget


def _names(ring: KeyRing) -> str:
    return ", ".join(f"{key.name} ({key.tenant})" for key in ring.keys) or "none"
