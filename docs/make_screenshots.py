"""Make the README's screenshots: the live preview of a case, and the same page showing a mistake.

Run from the repository root: python docs/make_screenshots.py (needs Debian's chromium).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.smtp_server import free_port  # noqa: E402


def main() -> None:
    """Start `serve` on a copy of the samples, take two pictures, stop."""
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        shutil.copytree(ROOT / "cases", project / "cases")
        shutil.copy(ROOT / "site.toml", project / "site.toml")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "site_builder", "serve", "--port", str(port)],
            cwd=project,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/cases/cleaning-missed-office/"
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1000, "height": 640})
                page.goto(url)
                page.screenshot(path=str(ROOT / "docs/preview.png"))
                case = project / "cases/en/cleaning-missed-office.md"
                case.write_text(case.read_text(encoding="utf-8").replace("date: 2026-06-12", "date: 2026-06-31"))
                page.wait_for_selector(".build-errors", timeout=15_000)
                page.screenshot(path=str(ROOT / "docs/preview-error.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
