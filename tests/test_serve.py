"""`site-builder serve` in a real browser: an edit shows up by itself, an error shows in the page."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import ROOT, case_text
from tests.smtp_server import free_port


@pytest.fixture
def server(project: Path, write_case: Callable[..., Path]) -> Iterator[str]:
    """`site-builder serve` running in a subprocess on a free port."""
    write_case("room.md", case_text(title="A room was gone"))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "site_builder", "serve", "--port", str(port)],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, process.communicate()[1]
            time.sleep(0.2)
    yield url
    process.terminate()
    _, stderr = process.communicate(timeout=10)
    assert b"Traceback" not in stderr, stderr.decode()


def test_edit_reloads_the_open_page_and_errors_show_in_it(server: str, project: Path, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(f"{server}cases/room/")
    expect(page.locator("h1")).to_have_text("A room was gone")
    case = project / "cases/room.md"
    case.write_text(case_text(title="A room was found again"), encoding="utf-8")
    expect(page.locator("h1")).to_have_text("A room was found again", timeout=15_000)  # no manual reload
    case.write_text(case_text(title="Broken", date="2026-02-30"), encoding="utf-8")
    errors = page.locator(".build-errors")
    expect(errors).to_contain_text("cases/room.md:3: date: '2026-02-30' is not a real date", timeout=15_000)
    case.write_text(case_text(title="Fixed again"), encoding="utf-8")
    expect(page.locator("h1")).to_have_text("Fixed again", timeout=15_000)


def test_preview_includes_drafts_and_refuses_paths_outside(
    server: str, write_case: Callable[..., Path], browser: Browser
) -> None:
    write_case("draft.md", case_text(title="Work in progress", extra="draft: true\n"))
    page = browser.new_page()
    page.goto(server)
    expect(page.locator(".card-title")).to_contain_text(["Work in progress"], timeout=15_000)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{server}../../etc/passwd", timeout=5)
    assert info.value.code == 404
    info.value.close()


def test_a_page_listens_for_builds_after_the_one_it_was_read_in(tmp_path: Path) -> None:
    import http.server
    import threading

    from site_builder.preview import PreviewState, make_handler

    (tmp_path / "index.html").write_text("<html><body><h1>Old</h1></body></html>", encoding="utf-8")
    state = PreviewState()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(tmp_path, state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(f"{base}/", timeout=5) as answer:
            assert b'/__live/reload.js?v=0"' in answer.read()
        state.publish(None)  # a build ends after the page was read, before its script is fetched
        with urllib.request.urlopen(f"{base}/__live/reload.js?v=0", timeout=5) as answer:
            assert b"/__live/events?v=0" in answer.read()  # so the events say: reload
        with urllib.request.urlopen(f"{base}/__live/events?v=0", timeout=5) as answer:
            assert answer.read() == b"event: reload\ndata: 1\n\n"
    finally:
        server.shutdown()
        server.server_close()
