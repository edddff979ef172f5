"""Sending the digest: one message per person, recorded in the ledger, never twice, over one or more connections."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parseaddr

from site_builder.cases.model import Case
from site_builder.cases.translations import for_reader, siblings
from site_builder.digest.addresses import canonical
from site_builder.digest.compose import message_id, sender
from site_builder.digest.ledger import Delivery, Ledger
from site_builder.digest.period import Period
from site_builder.digest.recipients import Recipient
from site_builder.digest.transport import (
    ConnectFailure,
    PermanentFailure,
    SendAborted,
    TemporaryFailure,
    Transport,
    UncertainDelivery,
)
from site_builder.digest.wire import Built, DigestMessages
from site_builder.settings.config import Settings

_Due = tuple[Recipient, tuple[Case, ...], Delivery | None]
# Runs that may try someone whose server keeps failing temporarily; then they count as failed, so an
# unfinished digest cannot hold back every later one.
MAX_RUNS = 3


@dataclass(slots=True)
class SendReport:
    """What happened to each person on the list."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    nothing_new: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    deferred: list[tuple[str, str]] = field(default_factory=list)
    # Being sent by another run on the same ledger at the same time: that run reports them.
    elsewhere: list[str] = field(default_factory=list)
    # On the suppression list (unsubscribed, bounced): never sent again, whichever list names them.
    suppressed: list[str] = field(default_factory=list)
    # The whole message went out and the line dropped before the server confirmed it: it may have
    # arrived. Not retried in this run; a later run sends it once more, with the same Message-ID.
    uncertain: list[tuple[str, str]] = field(default_factory=list)
    # Uncertain twice: not sent again (each copy may have arrived).
    left_uncertain: list[str] = field(default_factory=list)
    finished: bool = False  # everyone due was handled: the next send begins the next digest
    aborted: str | None = None


@dataclass(frozen=True, slots=True)
class SendOptions:
    """How to pace and retry; `record` is False for a dry run, which must not touch the ledger."""

    rate: float | None = None
    record: bool = True
    sleep: Callable[[float], None] = time.sleep
    # Adds a DKIM signature to each message's final bytes just before they are sent; None: unsigned.
    sign: Callable[[bytes], bytes] | None = None


def send_digest(
    cases: tuple[Case, ...],
    recipients: tuple[Recipient, ...],
    settings: Settings,
    period: Period,
    transports: Sequence[Transport],
    ledger: Ledger,
    options: SendOptions,
    progress: Callable[[Recipient], None] = lambda _: None,
) -> SendReport:
    """Send each recipient the cases of `period` they want and have not had, one connection per transport."""
    report = SendReport()
    if options.record:
        ledger.start(period)
    due = _plan(period.select(cases), recipients, period, ledger, report, settings, siblings(cases))
    parts = frozenset({settings.language, *(c.language for c in cases if not c.draft)})
    run = _Run(due, settings, period, ledger, options, progress, report, len(transports), parts)
    if len(transports) == 1:
        run.work(transports[0])
    else:
        with ThreadPoolExecutor(len(transports), thread_name_prefix="send") as pool:
            futures = [pool.submit(run.work, transport) for transport in transports]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                # Ctrl-C or a failed connection thread: the others finish the message they are on.
                run.stop()
                raise
    run.finish()
    # People another run had at the same time count once that run has sent them: of two runs that
    # saw each other's people, the one ending last finishes the digest.
    elsewhere = [
        e for e in report.elsewhere if (known := ledger.delivery(period.key, e)) is None or known.status != "sent"
    ]
    if options.record and not (report.aborted or report.deferred or elsewhere or report.uncertain):
        ledger.finish(period)
        report.finished = True
    return report


class _Run:
    """What the connections share: who is next, the ledger, the report and the pace."""

    def __init__(
        self,
        due: list[_Due],
        settings: Settings,
        period: Period,
        ledger: Ledger,
        options: SendOptions,
        progress: Callable[[Recipient], None],
        report: SendReport,
        connections: int,
        parts: frozenset[str],
    ) -> None:
        self.settings, self.period, self.ledger, self.options = settings, period, ledger, options
        self.progress, self.report = progress, report
        self.envelope_from = parseaddr(sender(settings))[1]
        self.messages = DigestMessages(settings, period, self.envelope_from, parts)
        self.queue: deque[_Due] = deque(due)
        # People whose connection could not be opened, left for a connection that works.
        self.handed_back: deque[tuple[_Due, str]] = deque()
        self.active = connections
        self.stopped = False
        # Separate locks so that recording "sent" never waits for another connection's message to be
        # built or paced: the window between the server's 250 and the commit stays as short as it was.
        self.take = threading.Lock()  # queue, handed_back, active, in_flight, stopped, building, progress
        # A connection with nothing left to take waits while others still hold someone: a person they
        # cannot deliver is handed back, and must find a connection that works still running.
        self.changed = threading.Condition(self.take)
        self.in_flight = 0
        self.record = threading.Lock()  # ledger and report
        self.pace = threading.Lock()
        self.last_send = 0.0

    def work(self, transport: Transport) -> None:
        """One connection's loop: take the next person, claim, send, record; until none is left or the run stops."""
        # Every way out lowers `active` once: _next finding no one, _hand_back or _give_up.
        try:
            while (job := self._next()) is not None and self._send(transport, *job):
                pass
        except BaseException:
            self._give_up()
            raise
        finally:
            transport.close()

    def stop(self) -> None:
        """Take no one else; messages already under way finish and are recorded."""
        with self.changed:
            self.stopped = True
            self.changed.notify_all()

    def finish(self) -> None:
        """After a stop, everyone not tried goes to the report (and handed-back people to the ledger)."""
        for (person, _, _), error in self.handed_back:
            if self.options.record:
                self.ledger.mark(self.period.key, person.email, "deferred", error)
            self.report.deferred.append((person.email, error))
        self.report.deferred.extend((p.email, "not tried") for p, _, _ in self.queue)

    def _next(self) -> tuple[_Due, Built, int] | None:
        """The next person this run has claimed, with their message; None when none is left."""
        while (taken := self._take()) is not None:
            job, mid = taken
            person, chosen, _ = job
            attempts = 1
            self._wait_for_pace()
            if self.options.record:
                with self.record:
                    claim = self.ledger.claim(self.period.key, person.email, mid, self.period.until)
                    if not claim.ours:
                        # Sent or being sent by another run on this ledger (run at the same time).
                        (self.report.skipped if claim.sent else self.report.elsewhere).append(person.email)
                mid, attempts = claim.message_id, claim.attempts
                if not claim.ours:
                    with self.changed:
                        self.in_flight -= 1
                        self.changed.notify_all()
                    continue
            with self.take:
                date = dt.datetime.now(dt.UTC)
                built = self.messages.build(chosen, person.language, person.name, person.email, mid, date)
            if self.options.sign is not None:
                # Outside the lock: the other connection builds its next message meanwhile.
                built = Built(self.options.sign(built.data), built.cases)
            return job, built, attempts
        return None

    def _take(self) -> tuple[_Due, str] | None:
        # Leaving the loop and lowering `active` happen under one lock with taking, so a person handed
        # back is never left behind by a connection that has just seen an empty queue.
        with self.changed:
            while not self.stopped and not (self.handed_back or self.queue) and self.in_flight:
                self.changed.wait()
            if self.stopped or not (self.handed_back or self.queue):
                self.active -= 1
                self.changed.notify_all()
                return None
            self.in_flight += 1
            if self.handed_back:
                job, _ = self.handed_back.popleft()
            else:
                job = self.queue.popleft()
                self.progress(job[0])
            person, _, known = job
            # Reusing the Message-ID on a retry lets mail software spot the (rare) double delivery.
            mid = (
                known.message_id
                if known is not None
                else message_id(self.settings, self.period.key, canonical(person.email))
            )
            return job, mid

    def _send(self, transport: Transport, job: _Due, built: Built, attempts: int) -> bool:
        """Deliver one message and record the outcome; False when this connection should stop."""
        email = job[0].email
        outcome = _deliver(transport, built.data, self.envelope_from, email, self.settings, self.options)
        if isinstance(outcome, ConnectFailure) and self._hand_back(job, str(outcome)):
            return False
        if type(outcome) is TemporaryFailure and attempts >= MAX_RUNS:
            outcome = PermanentFailure(f"gave up after {attempts} runs: {outcome}")
        with self.record:
            if outcome is None:
                if self.options.record:
                    self.ledger.mark_sent(self.period.key, email, [c.slug for c in built.cases])
                self.report.sent.append(email)
            elif isinstance(outcome, PermanentFailure):
                if self.options.record:
                    self.ledger.mark(self.period.key, email, "failed", str(outcome))
                self.report.failed.append((email, str(outcome)))
            elif isinstance(outcome, UncertainDelivery):
                if self.options.record:
                    self.ledger.mark_uncertain(self.period.key, email, str(outcome))
                self.report.uncertain.append((email, str(outcome)))
            else:
                if self.options.record:
                    self.ledger.mark(self.period.key, email, "deferred", str(outcome))
                self.report.deferred.append((email, str(outcome)))
                if isinstance(outcome, SendAborted | ConnectFailure):
                    self.report.aborted = self.report.aborted or str(outcome)
        with self.changed:
            self.in_flight -= 1
            self.changed.notify_all()
        if isinstance(outcome, SendAborted | ConnectFailure):
            self._give_up()
            return False
        return True

    def _give_up(self) -> None:
        with self.changed:
            self.active -= 1
            self.stopped = True
            self.changed.notify_all()

    def _hand_back(self, job: _Due, error: str) -> bool:
        """Leave the person to a connection that still works (a server may allow fewer connections than asked)."""
        with self.changed:
            if self.active > 1 and not self.stopped:
                self.handed_back.append((job, error))
                self.active -= 1
                self.in_flight -= 1
                self.changed.notify_all()
                return True
            return False

    def _wait_for_pace(self) -> None:
        if not self.options.rate:
            return
        with self.pace:
            wait = self.last_send + 1 / self.options.rate - time.monotonic()
            if wait > 0:
                self.options.sleep(wait)
            self.last_send = time.monotonic()


def _plan(
    in_period: tuple[Case, ...],
    recipients: tuple[Recipient, ...],
    period: Period,
    ledger: Ledger,
    report: SendReport,
    settings: Settings,
    stories: dict[str, frozenset[str]],
) -> list[_Due]:
    """Who is due a message and with which cases (one version of each story, in the person's language
    when there is one; a story had in any language is not sent again); the rest go to the report."""
    due = []
    shown = settings.digest.untranslated == "show"
    suppressed = ledger.suppressed()
    choices: dict[tuple[tuple[str, ...], str, frozenset[str]], tuple[Case, ...]] = {}
    for person in recipients:
        if canonical(person.email) in suppressed:
            report.suppressed.append(person.email)
            continue
        known = ledger.delivery(period.key, person.email)
        if known is not None and known.status == "sent":
            report.skipped.append(person.email)
            continue
        if known is not None and known.uncertain >= 2:
            report.left_uncertain.append(person.email)
            continue
        had = ledger.delivered_slugs(person.email)
        # Most people share their segments, language and history: choose once for each such group.
        group = (person.segments, person.language, frozenset(had))
        chosen = choices.get(group)
        if chosen is None:
            wanted = [c for c in in_period if person.wants(c) and not stories.get(c.slug, frozenset({c.slug})) & had]
            chosen = choices[group] = for_reader(wanted, person.language, settings.fallbacks, shown)
        if chosen:
            due.append((person, chosen, known))
        else:
            report.nothing_new.append(person.email)
    return due


def _deliver(
    transport: Transport,
    message: bytes,
    envelope_from: str,
    email: str,
    settings: Settings,
    options: SendOptions,
) -> Exception | None:
    """Try up to `retries` times with doubling waits; None on success, else the last failure."""
    last: Exception | None = None
    for attempt in range(settings.digest.retries):
        if attempt:
            options.sleep(settings.digest.backoff * 2 ** (attempt - 1))
        try:
            transport.send(message, envelope_from, email)
            return None
        except PermanentFailure as exc:
            return exc
        except (SendAborted, UncertainDelivery) as exc:
            return exc  # an uncertain message is not sent again in this run: it may have arrived
        except TemporaryFailure as exc:
            last = exc
    return last
