"""Exactly once under faults: runs at the same time on one ledger, a locked ledger, a server that drips."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from site_builder.digest.ledger import Ledger
from tests.conftest import SECRET, case_text
from tests.smtp_server import SmtpServer
from tests.test_send import SEND, configure, counts

# Made when the module is imported, before the fixture that sets the secret: it is set here too.
ENV = {
    **os.environ,
    "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    "SITE_BUILDER_UNSUBSCRIBE_SECRET": SECRET,
}
COMMAND = [sys.executable, "-m", "site_builder", *SEND]


def people_project(project: Path, write_case: Callable[..., Path], count: int) -> list[str]:
    write_case("hotel.md", case_text(title="Hotel room gone", date="2026-03-05"))
    people = [f"p{i:02d}@example.com" for i in range(count)]
    (project / "people.csv").write_text("email\n" + "\n".join(people) + "\n", encoding="utf-8")
    return people


def test_three_runs_at_once_send_each_person_once(
    project: Path, smtp: SmtpServer, write_case: Callable[..., Path]
) -> None:
    configure(project, smtp.port)
    people = people_project(project, write_case, 45)
    Ledger(project / ".site-builder/sent.sqlite").close()  # as after an earlier digest: the runs start together
    runs = [
        subprocess.Popen(COMMAND, cwd=project, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert counts(smtp) == dict.fromkeys(people, 1)
    assert len(smtp.recorder.messages) == 45
    with sqlite3.connect(project / ".site-builder/sent.sqlite") as db:
        assert dict(db.execute("SELECT email, status FROM deliveries").fetchall()) == dict.fromkeys(people, "sent")
    sent = sum(int(out.split(" sent,")[0].rsplit("\n", 1)[-1]) for out, _ in outputs)
    assert sent == 45, outputs
    # The run that ended last saw everyone sent: the digest is finished, the next one may begin.
    assert Ledger(project / ".site-builder/sent.sqlite").unfinished() is None


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_claims_of_dead_runs_are_taken_over_and_live_ones_left(
    project: Path, smtp: SmtpServer, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    configure(project, smtp.port)
    people_project(project, write_case, 4)
    path = project / ".site-builder/sent.sqlite"
    host = socket.gethostname()
    now = dt.datetime.now(dt.UTC)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        Ledger(path).close()
        claims = {
            "p00@example.com": (f"{host} {dead_pid()} run", now),  # died: taken over
            "p01@example.com": (f"{host} {live.pid} run", now),  # alive: left to it
            "p02@example.com": (f"{host} {live.pid} run", now - dt.timedelta(hours=2)),  # past the lease
            "p03@example.com": ("", now),  # written by an earlier version: nobody to wait for
        }
        with sqlite3.connect(path) as db:
            db.executemany(
                "INSERT INTO deliveries (digest, email, status, message_id, attempts, until, updated, owner) "
                "VALUES ('2026-03-01..2026-03-31', ?, 'sending', ?, 1, '2026-03-31', ?, ?)",
                [
                    (email, f"<{email}>", at.isoformat(timespec="seconds"), owner)
                    for email, (owner, at) in claims.items()
                ],
            )
        result = cli(*SEND)
    finally:
        live.kill()
        live.wait()
    assert result.exit_code == 0, result.output
    assert "3 sent, 0 skipped" in result.output
    assert "1 being sent by another run at the same time" in result.output
    assert counts(smtp) == {"p00@example.com": 1, "p02@example.com": 1, "p03@example.com": 1}
    # The Message-ID of the first try is kept.
    assert {m["Message-ID"] for _, _, m in smtp.recorder.messages} == {
        "<p00@example.com>",
        "<p02@example.com>",
        "<p03@example.com>",
    }


@pytest.mark.parametrize("earlier", [True, False], ids=["existing-ledger", "new-file"])
def test_ledger_locked_by_another_program(
    project: Path, smtp: SmtpServer, write_case: Callable[..., Path], cli: Callable[..., Result], earlier: bool
) -> None:
    configure(project, smtp.port)
    people_project(project, write_case, 3)
    path = project / ".site-builder/sent.sqlite"
    path.parent.mkdir(exist_ok=True)
    if earlier:
        Ledger(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        start = time.monotonic()
        result = cli(*SEND)
        elapsed = time.monotonic() - start
    finally:
        other.rollback()
        other.close()
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert ".site-builder/sent.sqlite is locked" in result.stderr and "try again" in result.stderr
    assert elapsed < 10
    assert smtp.recorder.messages == []
    assert cli(*SEND).exit_code == 0  # once it is free
    assert len(smtp.recorder.messages) == 3


class DripServer:
    """Speaks SMTP quickly up to `drip_at` ("greeting", "mail" or "reply": the answer to the message's
    data), then answers one byte at a time, for ever."""

    def __init__(self, drip_at: str) -> None:
        self.drip_at = drip_at
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        for byte in b"250" + b"-" * 100_000:
            if self.stop.wait(0.2):
                return
            conn.sendall(bytes([byte]))

    def _talk(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            try:
                if self.drip_at == "greeting":
                    return self._drip(conn)
                conn.sendall(b"220 slow.example ESMTP\r\n")
                for line in lines:
                    if line.upper().startswith((b"EHLO", b"HELO")):
                        conn.sendall(b"250 slow.example\r\n")
                    elif line.upper().startswith(b"MAIL") and self.drip_at == "mail":
                        return self._drip(conn)
                    elif line.upper().startswith(b"DATA"):
                        conn.sendall(b"354 go ahead\r\n")
                        for data in lines:
                            if data == b".\r\n":
                                return self._drip(conn)  # the whole message is in: the answer drips
                    else:
                        conn.sendall(b"250 OK\r\n")
            except OSError:
                return  # the client hung up: what it should do
        return None

    def __enter__(self) -> DripServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()
        self.listener.close()


@pytest.fixture(params=["greeting", "mail", "reply"])
def drip(request: pytest.FixtureRequest) -> Iterator[DripServer]:
    with DripServer(request.param) as server:
        yield server


def test_server_that_drips_does_not_hang_send(project: Path, write_case: Callable[..., Path], drip: DripServer) -> None:
    people_project(project, write_case, 1)
    configure(project, drip.port)
    toml = project / "site.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("timeout = 5", "timeout = 1").replace("retries = 3", "retries = 2"),
        encoding="utf-8",
    )
    start = time.monotonic()
    done = subprocess.run(
        [*COMMAND, "--connections", "1"], cwd=project, env=ENV, capture_output=True, text=True, timeout=30
    )
    elapsed = time.monotonic() - start
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    if drip.drip_at == "reply":
        # The server has the whole message and may store it: uncertain, and not tried again this run.
        assert "0 sent" in done.stdout and "1 uncertain" in done.stdout
        assert "uncertain: p00@example.com:" in done.stderr and "within 1 s ([smtp] timeout)" in done.stderr
        assert elapsed < 1 + 4, elapsed
        return
    assert "0 sent" in done.stdout and "1 not sent yet" in done.stdout
    assert "not sent yet: p00@example.com:" in done.stderr and "within 1 s ([smtp] timeout)" in done.stderr
    # Two tries of one second each, plus starting Python and a margin.
    assert elapsed < 2 * 1 + 4, elapsed


def message_ids(smtp: SmtpServer, address: str) -> list[str]:
    return [str(m["Message-ID"]) for m in smtp.recorder.to(address)]


def test_message_stored_before_the_line_dropped_is_uncertain_and_retried_once_later(
    project: Path, smtp: SmtpServer, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    configure(project, smtp.port)
    people_project(project, write_case, 3)
    smtp.recorder.drop_after_storing = 1  # the second message is stored, and its "250" never arrives
    first = cli(*SEND, "--connections", "1")
    assert first.exit_code == 1, first.output
    assert "2 sent" in first.output and "1 uncertain: the server may have stored the message" in first.output
    assert "uncertain: p01@example.com: the whole message went out" in first.stderr
    assert "nobody gets the digest twice, except that the 1 uncertain may get a second copy" in first.stderr
    assert counts(smtp) == dict.fromkeys(["p00@example.com", "p01@example.com", "p02@example.com"], 1)
    second = cli(*SEND)  # retried once, with the same Message-ID so mail software can drop the copy
    assert second.exit_code == 0, second.output
    assert "1 sent, 2 skipped" in second.output
    [first_id, again] = message_ids(smtp, "p01@example.com")
    assert first_id == again
    third = cli(*SEND)
    assert "0 sent, 3 skipped" in third.output
    assert len(smtp.recorder.messages) == 4


def test_uncertain_twice_is_not_sent_a_third_time(
    project: Path, smtp: SmtpServer, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    configure(project, smtp.port)
    people_project(project, write_case, 1)
    smtp.recorder.drop_after_storing = 0
    assert "1 uncertain" in cli(*SEND).output
    smtp.recorder.drop_after_storing = 0
    assert "1 uncertain" in cli(*SEND).output
    third = cli(*SEND)
    assert third.exit_code == 1
    assert "1 left out: uncertain twice already" in third.output
    assert len(smtp.recorder.messages) == 2


def test_a_killed_send_is_finished_by_the_same_command_on_a_later_day(
    project: Path, smtp: SmtpServer, write_case: Callable[..., Path]
) -> None:
    configure(project, smtp.port)
    people = people_project(project, write_case, 3)  # the case is dated 2026-03-05
    command = [sys.executable, "-m", "site_builder", "send", "--recipients", "people.csv", "--connections", "1"]
    smtp.recorder.stall_after = 1  # the second message hangs until the sender is killed
    process = subprocess.Popen(
        [*command, "--now", "2026-03-31"], cwd=project, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert smtp.recorder.stalled.wait(30), process.communicate()
    process.kill()
    process.communicate()
    smtp.recorder.release.set()
    assert counts(smtp) == {"p00@example.com": 1}
    # The next day, the default period would start after the digest one person got.
    done = subprocess.run([*command, "--now", "2026-04-01"], cwd=project, env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Finishing the digest of 2026-03-01 to 2026-03-31, which an earlier send began" in done.stdout
    assert "2 sent, 1 skipped" in done.stdout
    assert counts(smtp) == dict.fromkeys(people, 1)
    # Finished: the next send moves on to the next period.
    later = subprocess.run([*command, "--now", "2026-04-30"], cwd=project, env=ENV, capture_output=True, text=True)
    assert "Finishing" not in later.stdout
    assert "No published cases from 2026-04-01 to 2026-04-30" in later.stdout


def test_a_server_that_always_defers_someone_does_not_hold_back_later_digests(
    project: Path, smtp: SmtpServer, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    configure(project, smtp.port)
    people_project(project, write_case, 2)
    smtp.recorder.defer.add("p01@example.com")
    send = ("send", "--recipients", "people.csv")
    first = cli(*send, "--now", "2026-03-31")
    assert first.exit_code == 1 and "1 not sent yet" in first.output
    second = cli(*send, "--now", "2026-04-02")
    assert "Finishing the digest of 2026-03-01 to 2026-03-31" in second.output
    assert "1 not sent yet" in second.output
    third = cli(*send, "--now", "2026-04-03")
    assert "Finishing the digest" in third.output
    assert "1 failed" in third.output and "gave up after 3 runs: 451" in third.stderr
    fourth = cli(*send, "--now", "2026-04-30")
    assert "Finishing" not in fourth.output and "2026-04-01 to 2026-04-30" in fourth.output
    assert counts(smtp) == {"p00@example.com": 1}
