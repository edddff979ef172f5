"""`site-builder serve` in a real browser: an edit shows up by itself, an error shows in the page."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import Result
from playwright.sync_api import Browser, expect

from tests.conftest import ROOT, case_text
from tests.smtp_server import free_port


@contextmanager
def running_serve(project: Path, *args: str, said: list[str] | None = None) -> Iterator[str]:
    """`site-builder serve` running in a subprocess on a free port; yields its URL once it answers.
    `said` receives what it printed, once it has stopped."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "site_builder", "serve", "--port", str(port), *args],
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
    try:
        yield url
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
        if said is not None:
            said.append(stderr.decode())
    assert b"Traceback" not in stderr, stderr.decode()


@pytest.fixture
def server(project: Path, write_case: Callable[..., Path]) -> Iterator[str]:
    """`site-builder serve` running in a subprocess on a free port, with one case."""
    write_case("room.md", case_text(title="A room was gone"))
    with running_serve(project) as url:
        yield url


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


def kept_files(project: Path) -> dict[Path, bytes]:
    """The published build's output and what the tool keeps about it: its note, manifests and spares."""
    state = project / ".site-builder/cache"
    paths = [
        *(project / "dist").rglob("*"),
        *state.glob("shortcut-*.pickle"),
        *state.glob("manifest-*.json"),
        *(state / "spare").rglob("*"),
    ]
    return {p.relative_to(project): p.read_bytes() for p in paths if p.is_file()}


def wait_for(url: str, text: str, timeout: float = 30) -> None:
    """Poll a served page until it shows `text` (a rebuild finished)."""
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url, timeout=5) as answer:
            body = answer.read().decode()
        if text in body:
            return
        time.sleep(0.2)
    raise AssertionError(f"{url} never showed {text!r}; last body:\n{body[:2000]}")


def test_serve_is_a_preview_that_never_touches_the_published_build(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case("room.md", case_text(title="A room was gone"))
    write_case("draft.md", case_text(title="Work in progress", extra="draft: true\n"))
    assert cli("build").exit_code == 0
    before = kept_files(project)
    assert any(p.name.startswith("shortcut-") for p in before) and any(p.name.startswith("manifest-") for p in before)
    assert Path("dist/site/cases/room/index.html") in before and Path("dist/leaflets/room.pdf") in before
    # --out as an old script would pass it: ignored, the preview still goes to its own folder.
    with running_serve(project, "--out", "dist") as url:
        wait_for(url, "Work in progress")  # drafts and local URLs: a preview
        write_case("room.md", case_text(title="A room was found again"))
        wait_for(f"{url}cases/room/", "A room was found again")
    after = kept_files(project)
    changed = sorted(str(p) for p in before if after.get(p) != before[p])
    assert not changed, f"serve changed the published build's files: {changed}"
    # The preview keeps its own note, manifests and spare (keyed by its folder); dist/ gains nothing.
    assert sorted(str(p) for p in after.keys() - before.keys() if p.parts[0] == "dist") == []
    preview = project / ".site-builder/preview/site"
    assert "A room was found again" in (preview / "cases/room/index.html").read_text(encoding="utf-8")
    assert (preview / "cases/draft/index.html").is_file()
    assert not any(b"127.0.0.1" in data for p, data in after.items() if p.parts[0] == "dist")


SCRATCH = (".room.md.swp", "room.md~", "#room.md#", ".#room.md", "4913", ".goutputstream-QX81B2", "sedAb12Cd")


def test_a_rebuild_names_the_case_saved_not_the_editors_scratch_files(
    project: Path, write_case: Callable[..., Path]
) -> None:
    room = write_case("room.md", case_text(title="A room was gone"))
    said: list[str] = []
    with running_serve(project, said=said) as url:
        for name in SCRATCH:  # what vim, emacs, gedit, sed -i and Office leave while saving
            (room.parent / name).write_text("scratch", encoding="utf-8")
        time.sleep(1.5)  # longer than the watcher's quiet spell: a rebuild, if these started one, is done
        write_case("room.md", case_text(title="A room was found again"))
        wait_for(f"{url}cases/room/", "A room was found again")
        time.sleep(0.5)
    rebuilt = [line for line in said[0].splitlines() if line.startswith("Rebuilt")]
    assert rebuilt == ["Rebuilt after a change to room.md"], said[0]


def test_a_reader_who_leaves_mid_answer_is_no_traceback(project: Path, write_case: Callable[..., Path]) -> None:
    import socket
    import struct

    write_case("room.md", case_text(title="A room was gone"))
    said: list[str] = []
    with running_serve(project, said=said) as url:
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        for _ in range(20):  # the answer is a page of several KB: some writes meet a closed socket
            with socket.create_connection(("127.0.0.1", port)) as reader:
                reader.sendall(b"GET /cases/room/ HTTP/1.1\r\nHost: x\r\n\r\n")
                reader.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset
        time.sleep(1)
        wait_for(f"{url}cases/room/", "A room was gone")
    assert "Traceback" not in said[0] and "Exception occurred" not in said[0], said[0]


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
