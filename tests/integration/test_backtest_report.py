"""The backtest's HTML report in a real browser: headless Chromium (Debian's package) loads it without a console
error, and its charts are drawn (their colours cover real areas of the screenshot)."""

import shutil
import subprocess
from pathlib import Path

from services.backtest.charts import COLOURS
from services.cli.main import main
from tests.harness.exports import email, write_jsonl
from tests.harness.png import colour_counts


def history(path: Path) -> Path:
    """Unanswered pursuit of one contact, a reply that resolves another, and two senders on a third."""
    items = [email(n, "a", 2 * n) for n in range(8)]
    items += [email(n, "b", 2 * n) for n in range(3)]
    items += [email(9, "b", 7) | {"direction": "inbound", "kind": "reply"}]
    items += [email(n, "t", n, sender=f"rep-{n % 3}") | {"event_id": f"t-{n}"} for n in range(9)]
    return write_jsonl(path, items)


def test_report_renders_its_charts_in_headless_chromium_without_console_errors(tmp_path: Path) -> None:
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is needed: `make system-deps` installs it"
    out = tmp_path / "report"
    assert main(["backtest", str(history(tmp_path / "h.jsonl")), "--out", str(out), "--identity-key", "k" * 20]) == 0
    screenshot = tmp_path / "report.png"
    browsing = subprocess.run(
        [
            browser,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--force-device-scale-factor=0.5",
            "--window-size=1000,4000",
            f"--screenshot={screenshot}",
            (out / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert browsing.returncode == 0, browsing.stderr
    console = [line for line in browsing.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    pixels = colour_counts(screenshot)
    for series in ("watch", "stalking", "rules", "touches"):
        red, green, blue = (int(COLOURS[series][i : i + 2], 16) for i in (1, 3, 5))
        assert pixels[(red, green, blue)] > 300, f"{series} bars are not drawn"
