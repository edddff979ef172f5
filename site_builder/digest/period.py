"""The dates a digest covers: a module of its own, so a build can name it without loading email code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from site_builder.cases.model import Case


@dataclass(frozen=True, slots=True)
class Period:
    """The publication dates a digest covers, both ends included."""

    since: dt.date
    until: dt.date

    @property
    def key(self) -> str:
        """The digest's name in the send ledger."""
        return f"{self.since.isoformat()}..{self.until.isoformat()}"

    def select(self, cases: tuple[Case, ...]) -> tuple[Case, ...]:
        """Published cases dated within the period, newest first."""
        return tuple(c for c in cases if not c.draft and self.since <= c.date <= self.until)
