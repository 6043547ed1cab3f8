"""Child processes that neither see the terminal's Ctrl-C nor outlive their parent.

The runner gets Ctrl-C alone and stops the children in order; if the runner itself dies, Linux sends each
child SIGTERM (PR_SET_PDEATHSIG), so nothing is left behind.
"""

import ctypes
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if sys.platform == "linux":
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    hook: Callable[[], None] = _die_with_parent
    return subprocess.Popen(args, process_group=0, preexec_fn=hook, **kwargs)  # noqa: PLW1509


def wait_until_answering(
    process: subprocess.Popen[bytes], url: str, timeout: float, name: str, log_tail: Callable[[], str]
) -> None:
    """Until `url` answers 200; fails at once, with the log's tail, if the child exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log_tail()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{name} not ready after {timeout} s:\n{log_tail()}")


def stop(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM, and SIGKILL if the child has not gone after `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
