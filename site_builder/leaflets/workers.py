"""Processes that lay out PDFs, forked when a build starts and fed print HTML through pipes.

Forked before the cases are loaded, a worker imports WeasyPrint while the build loads and renders
everything else, so one edited leaflet costs its layout only. Jobs are plain HTML, so a worker needs
nothing the build loads after it was forked. No threads: the build hands out jobs and collects
results itself, so forking more workers later stays safe.
"""

from __future__ import annotations

import collections
import contextlib
import os
import traceback
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from site_builder.problems import LayoutError

if TYPE_CHECKING:  # multiprocessing is imported when workers start: a site-only build never needs it
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

Job = tuple[str, float, bool]  # print HTML, its base font size, and whether it is a print-shop file


def _serve(connection: Connection, inherited: list[Connection]) -> None:
    """A worker's life: import WeasyPrint at once, then lay out every job sent until told to stop."""
    for other in inherited:
        other.close()  # the parent's ends of other workers' pipes: they must see the parent leave, not us
    try:
        from site_builder import runtime
        from site_builder.leaflets.pdf import pdf_from_html

        # Only the import before the first job: it leaves nothing behind, so a worker that gets no
        # job (nothing to lay out) can be stopped at once, mid-import, without a font folder to clean.
        broken = ""
        try:
            runtime.import_weasyprint()
        except Exception as exc:  # a missing library: said in answer to every job, not by dying
            broken = _said(exc)
        while True:
            try:
                job = connection.recv()
            except EOFError:
                return  # the build has gone
            if job is None:
                return
            try:
                answer: tuple[bool, object] = (False, broken) if broken else (True, pdf_from_html(job))
            except Exception as exc:  # reported to the build, which stops with it
                answer = (False, _said(exc))
            connection.send(answer)
    except KeyboardInterrupt:
        return  # Ctrl-C reaches every process; the build reports it


def _said(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()


class LayoutWorkers:
    """Up to `most` worker processes: one now, more when jobs wait for a free one."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.processes: dict[Connection, BaseProcess] = {}
        self.used: set[Connection] = set()  # workers that got a job (the others may be stopped at once)
        self.idle: list[Connection] = []
        self.busy: dict[Connection, int] = {}  # each worker's job in hand
        self.waiting: collections.deque[tuple[int, Job]] = collections.deque()
        self.done: dict[int, tuple[bool, object]] = {}
        self.arrived: dict[int, Callable[[bytes], None]] = {}  # what to do with a PDF as soon as it comes
        self.tickets = 0
        self._add()

    def _add(self) -> None:
        import multiprocessing

        ours, theirs = multiprocessing.Pipe()
        others = [*self.idle, *self.busy]
        process = multiprocessing.get_context("fork").Process(target=_serve, args=(theirs, others), daemon=True)
        process.start()
        theirs.close()
        self.processes[ours] = process
        self.idle.append(ours)

    def submit(self, job: Job, arrived: Callable[[bytes], None] | None = None) -> int:
        """Hand a job to a free worker (or queue it); returns the ticket to collect its PDF with.
        `arrived` is called with the PDF when it comes back, whether or not anybody collects it."""
        ticket = self.tickets
        self.tickets += 1
        if arrived is not None:
            self.arrived[ticket] = arrived
        self.waiting.append((ticket, job))
        if not self.idle and len(self.processes) < self.most:
            self._add()
        self._hand_out()
        return ticket

    def _hand_out(self) -> None:
        while self.idle and self.waiting:
            connection = self.idle.pop()
            ticket, job = self.waiting.popleft()
            try:
                connection.send(job)
            except OSError:
                raise LayoutError("a worker laying out leaflets stopped unexpectedly") from None
            self.busy[connection] = ticket
            self.used.add(connection)

    def _collect(self) -> None:
        """Wait for at least one worker to answer."""
        from multiprocessing.connection import Connection, wait

        for connection in wait(list(self.busy)):
            assert isinstance(connection, Connection)
            ticket = self.busy.pop(connection)
            try:
                answer = self.done[ticket] = connection.recv()
            except (EOFError, OSError):
                raise LayoutError("a worker laying out leaflets stopped unexpectedly") from None
            self.idle.append(connection)
            arrived = self.arrived.pop(ticket, None)
            if arrived is not None and answer[0] and isinstance(answer[1], bytes):
                arrived(answer[1])
        self._hand_out()

    def result(self, ticket: int) -> bytes:
        """The PDF of a submitted job, waiting for it if need be."""
        while ticket not in self.done:
            if not self.busy:
                raise LayoutError(f"no job {ticket} was handed out")
            self._collect()
        ok, value = self.done.pop(ticket)
        if not ok:
            raise LayoutError(value)
        assert isinstance(value, bytes)
        return value

    def close(self) -> None:
        """Let the workers finish what they hold, then stop them: those that had a job cleanly (they
        remove their font folders), the others at once (a build with nothing to lay out does not
        wait for their import)."""
        self.waiting.clear()
        with contextlib.suppress(LayoutError, OSError):
            while self.busy:
                self._collect()
        self.done.clear()
        self.arrived.clear()
        for connection, process in self.processes.items():
            if connection in self.used:
                with contextlib.suppress(OSError):
                    connection.send(None)
            else:
                process.kill()
        self._stop(patience=5)

    def terminate(self) -> None:
        """Stop at once (an interrupted build)."""
        self._stop(patience=0)

    def _stop(self, patience: float) -> None:
        """Wait up to `patience` seconds for each worker to leave, kill those still there, forget them all."""
        for connection, process in self.processes.items():
            if patience:
                process.join(timeout=patience)
            if process.is_alive():
                process.kill()
            process.join()
            connection.close()
        self.processes.clear()
        self.idle.clear()
        self.busy.clear()


@contextlib.contextmanager
def layout_workers(jobs: int, wanted: bool = True) -> Iterator[LayoutWorkers | None]:
    """Workers for `jobs` processes (0: one per core) while the block runs; None when layouts
    should run in this process (one job, or none wanted). Stopped at the end, at once on an error."""
    most = jobs or os.cpu_count() or 1
    if not wanted or most <= 1:
        yield None
        return
    workers = LayoutWorkers(most)
    try:
        yield workers
    except BaseException:
        workers.terminate()
        raise
    workers.close()
