"""The digests that were sent, as a build sees them: read from the send ledger without changing it,
for the site's archive and the next digest's first day.

A build must not fail or hang on the ledger: one that cannot be read (locked by another program,
damaged, not a ledger) gives a warning naming it, and the build goes on with the digests it last
read from that ledger (kept in the cache), so the archive stays as it was last built; with nothing
kept, the archive is empty. (Which digest a send left unfinished is not kept: the digest's period
then starts after the last digest sent.) No ledger at all means nothing was sent: no archive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from site_builder.build.cache import Cache
from site_builder.build.keys import key
from site_builder.digest.period import Period
from site_builder.settings.config import Settings


@dataclass(frozen=True, slots=True)
class Sent:
    """The digests a build publishes, and why they may be out of date."""

    periods: tuple[Period, ...]  # one per last day, newest first (see `by_last_day`)
    warning: str | None = None  # the ledger could not be read: said once, in one line
    unfinished: Period | None = None  # the digest a send began and did not finish (for digest_period)


def by_last_day(periods: tuple[Period, ...]) -> tuple[Period, ...]:
    """One period per last day, newest first. A digest's web copy is named after its last day
    (Links.digest), as the link in its email is; two digests ending on one day (a second send with
    another --since) share that page, which shows the cases of both: from the earlier first day."""
    first: dict[dt.date, dt.date] = {}
    for period in periods:
        first[period.until] = min(period.since, first.get(period.until, period.since))
    return tuple(Period(first[until], until) for until in sorted(first, reverse=True))


def _encode(periods: tuple[Period, ...]) -> bytes:
    return "".join(f"{p.key}\n" for p in periods).encode("ascii")


def _decode(data: bytes) -> tuple[Period, ...] | None:
    """What `_encode` wrote; None for anything else (the cache is sealed, but never trusted blindly)."""
    try:
        periods = []
        for line in data.decode("ascii").splitlines():
            since, until = line.split("..")
            periods.append(Period(dt.date.fromisoformat(since), dt.date.fromisoformat(until)))
    except ValueError:
        return None
    return tuple(periods)


def sent_digests(settings: Settings, cached_if_missing: bool = False) -> Sent:
    """The digests sent, from `settings`' ledger; see the module's docstring for a ledger that cannot be
    read. `cached_if_missing`: no ledger means it is kept elsewhere (a pull request's build, which
    must not hold addresses), not that nothing was sent: the digests the last build read."""
    path = settings.ledger_path
    cache = Cache(settings.cache_dir / "sent")
    name = key("sent digests", str(path.resolve()))
    if not path.exists():
        if cached_if_missing:
            kept = cache.get(name)
            return Sent((kept and _decode(kept)) or ())
        cache.forget(name)  # nothing sent: no archive, nothing to fall back on either
        return Sent(())
    from site_builder.digest.ledger_read import LedgerError, digests_sent  # sqlite3: only when there is a ledger

    try:
        sent, unfinished = digests_sent(path)
    except LedgerError as exc:
        kept = cache.get(name)
        known = _decode(kept) if kept is not None else None
        what = "the archive of sent digests is as the last build read it" if known else "no archive of sent digests"
        return Sent(known or (), f"{exc}; {what}")
    periods = by_last_day(sent)
    if not periods:
        cache.forget(name)
        return Sent((), unfinished=unfinished)
    data = _encode(periods)
    if cache.get(name) != data:
        cache.put(name, data)
    return Sent(periods, unfinished=unfinished)
