"""Figures for the trust page: how many cases, how fast they were fixed, what they cost (pure)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from site_builder.cases.model import COSTS, Case

# Response-time buckets: (upper bound, key of the label).
BUCKETS = (
    (dt.timedelta(days=1), "bucket_day"),
    (dt.timedelta(days=3), "bucket_3days"),
    (dt.timedelta(days=7), "bucket_week"),
    (dt.timedelta(days=14), "bucket_2weeks"),
    (dt.timedelta.max, "bucket_longer"),
)


@dataclass(frozen=True, slots=True)
class IndustryRow:
    """One industry: how many cases and how fast they were fixed."""

    name: str
    cases: int
    median: dt.timedelta | None


@dataclass(frozen=True, slots=True)
class Stats:
    """Everything the trust page shows."""

    cases: int
    timed: int
    median: dt.timedelta | None
    p90: dt.timedelta | None
    per_month: tuple[tuple[dt.date, int], ...]
    buckets: tuple[tuple[str, int], ...]
    costs: tuple[tuple[str, int], ...]
    industries: tuple[IndustryRow, ...]
    replied: int = 0  # cases with both received and responded
    reply_median: dt.timedelta | None = None  # time to first reply
    reply_p90: dt.timedelta | None = None


def _median(times: list[dt.timedelta]) -> dt.timedelta | None:
    return dt.timedelta(seconds=statistics.median(t.total_seconds() for t in times)) if times else None


def _p90(times: list[dt.timedelta]) -> dt.timedelta | None:
    if len(times) < 2:
        return times[0] if times else None
    seconds = statistics.quantiles([t.total_seconds() for t in times], n=10, method="inclusive")[8]
    return dt.timedelta(seconds=round(seconds))


def _months(cases: tuple[Case, ...]) -> tuple[tuple[dt.date, int], ...]:
    """Cases per month, from the first month to the last, empty months included."""
    counts = Counter(c.date.replace(day=1) for c in cases)
    if not counts:
        return ()
    month, last, rows = min(counts), max(counts), []
    while month <= last:
        rows.append((month, counts.get(month, 0)))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return tuple(rows)


def compute(cases: tuple[Case, ...], industry_name: Callable[[str], str] = lambda name: name) -> Stats:
    """The trust page's figures for the published cases."""
    response = [c.response_time for c in cases]  # computed once: it is a property
    times = sorted(t for t in response if t is not None)
    buckets = Counter(next(key for bound, key in BUCKETS if t < bound) for t in times)
    costs = Counter(cost for c in cases for cost in c.costs)
    replies = sorted(t for t in (c.reply_time for c in cases) if t is not None)
    by_industry: dict[str, list[dt.timedelta | None]] = {}
    for case, time in zip(cases, response, strict=True):
        by_industry.setdefault(industry_name(case.industry) if case.industry else "", []).append(time)
    industries = sorted(
        (
            IndustryRow(name, len(group), _median([t for t in group if t is not None]))
            for name, group in by_industry.items()
            if name
        ),
        key=lambda row: (-row.cases, row.name),
    )
    return Stats(
        cases=len(cases),
        timed=len(times),
        median=_median(times),
        p90=_p90(times),
        per_month=_months(cases),
        buckets=tuple((key, buckets.get(key, 0)) for _, key in BUCKETS),
        costs=tuple((cost, costs.get(cost, 0)) for cost in COSTS),
        industries=tuple(industries),
        replied=len(replies),
        reply_median=_median(replies),
        reply_p90=_p90(replies),
    )
