"""The dates a digest covers: a module of its own, so a build can name it without loading email code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from site_builder.cases.model import Case
    from site_builder.digest.sent import Sent
    from site_builder.settings.config import Settings


@dataclass(frozen=True, slots=True)
class Period:
    """The publication dates a digest covers, both ends included."""

    since: dt.date
    until: dt.date
    # An earlier run began sending this digest and did not finish: this run finishes it.
    resumed: bool = field(default=False, compare=False, repr=False)

    @property
    def key(self) -> str:
        """The digest's name in the send ledger."""
        return f"{self.since.isoformat()}..{self.until.isoformat()}"

    def select(self, cases: tuple[Case, ...]) -> tuple[Case, ...]:
        """Published cases dated within the period, newest first."""
        return tuple(c for c in cases if not c.draft and self.since <= c.date <= self.until)


def digest_period(
    settings: Settings,
    since: dt.date | None,
    until: dt.date | None,
    today: dt.date,
    sent: Sent | None = None,
) -> Period:
    """--since/--until; else the digest an earlier send began and did not finish, whatever the date; else
    from the day after the last digest sent (or the last `digest.days` days) to today. `sent`: what the
    caller has read of the ledger already (else it is read here)."""
    if since is None and until is None:
        if sent is None:
            from site_builder.digest.ledger_read import unfinished  # sqlite3: only when needed

            started = unfinished(settings.ledger_path)
        else:
            started = sent.unfinished
        if started is not None:
            return Period(started.since, started.until, resumed=True)
    end = until or today
    if since is None:
        if sent is None:
            from site_builder.digest.ledger_read import last_sent_until

            last = last_sent_until(settings.ledger_path)
        else:
            last = max((period.until for period in sent.periods), default=None)
        since = last + dt.timedelta(days=1) if last else end - dt.timedelta(days=settings.digest.days)
    return Period(since, end)
