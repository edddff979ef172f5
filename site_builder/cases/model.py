"""The case model: a validated, immutable Case and its sections."""

from __future__ import annotations

import datetime as dt
import pickle
from dataclasses import dataclass, field, fields
from pathlib import Path

from site_builder.build.keys import key

COSTS = ("economic", "time", "social", "emotional")

Moment = dt.date | dt.datetime


# Section and Case are frozen but not slotted: the case cache pickles thousands of them, and
# slotted dataclasses unpickle field by field, several times slower.
@dataclass(frozen=True)
class Section:
    """One section of a case: which one it is, its heading as written, and safe HTML."""

    key: str
    heading: str
    html: str


class Body:
    """A case's sections, kept as bytes until something reads them: a build that re-renders one
    page of 10,000 cached cases should not rebuild 50,000 section objects first."""

    __slots__ = ("_blob", "_sections")

    def __init__(self, sections: tuple[Section, ...]) -> None:
        self._sections: tuple[Section, ...] | None = sections
        self._blob: bytes | None = None

    @property
    def sections(self) -> tuple[Section, ...]:
        """The sections, in the order written."""
        if self._sections is None:
            assert self._blob is not None
            self._sections = tuple(Section(*fields) for fields in pickle.loads(self._blob))  # noqa: S301 - ours
        return self._sections

    def __getstate__(self) -> bytes:
        if self._blob is None:
            fields = tuple((s.key, s.heading, s.html) for s in self.sections)
            self._blob = pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL)
        return self._blob

    def __setstate__(self, blob: bytes) -> None:
        self._blob, self._sections = blob, None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Body) and self.sections == other.sections

    def __hash__(self) -> int:
        return hash(self.sections)

    def __repr__(self) -> str:
        return f"Body({self.sections!r})"


_NOT_FACE = ("body", "digest", "face")  # a case's text, and digests


@dataclass(frozen=True)
class Case:
    """A resolved complaint, fully checked: nothing downstream needs to check it again."""

    source: Path
    slug: str
    title: str
    date: dt.date
    received: Moment | None
    resolved: Moment | None
    customer: str | None  # the name, only when the customer consented; otherwise None
    industry: str | None
    tags: tuple[str, ...]
    costs: tuple[str, ...]
    compensation: str | None
    language: str
    summary: str
    draft: bool
    body: Body  # the sections; see `sections`
    translation_key: str | None = None  # cases sharing one are translations of one story
    # False when the summary is Problem's first sentence: a page that shows both would say it twice.
    summary_written: bool = True
    assets: tuple[tuple[str, Path], ...] = ()  # files the body links to: (path beside the page, source)
    local_links: tuple[str, ...] = ()  # every relative link target in the body, existing or not
    digest: str = ""  # of the file's path and text: pages that show this case depend on it
    responded: Moment | None = None  # the first reply to the customer, between received and resolved
    # Whether the body has What we changed: set below, so that the page of changes can pick its cases
    # without reading every case's sections.
    has_change: bool = field(default=False, compare=False)
    face: str = field(default="", compare=False)  # of everything but its text: set below

    def __post_init__(self) -> None:
        # What lists and neighbours' links may show of a case (a theme can show any field), digested
        # once when parsed: the case cache keeps it, and 10,000 of them take 0.15 s.
        change = self.change
        object.__setattr__(self, "has_change", change is not None)
        shown = tuple(getattr(self, f.name) for f in fields(self) if f.name not in _NOT_FACE)
        # What we changed is text, but the page of changes shows it: an edit of it re-renders that page
        # (and the lists, as a change of any field does; rare enough not to key them apart).
        object.__setattr__(self, "face", key(shown, change.html if change else None))

    @property
    def sections(self) -> tuple[Section, ...]:
        """Every section in the order written."""
        return self.body.sections

    def section(self, key: str) -> Section:
        """The required section `key` (problem, cause, fix or thanks)."""
        return next(s for s in self.sections if s.key == key)

    @property
    def extra_sections(self) -> tuple[Section, ...]:
        """Sections beyond the four, shown after Fix."""
        return tuple(s for s in self.sections if s.key == "extra")

    @property
    def change(self) -> Section | None:
        """The optional "What we changed" section, or None."""
        return next((s for s in self.sections if s.key == "changed"), None)

    @property
    def response_time(self) -> dt.timedelta | None:
        """Time from complaint to fix; whole days unless both moments have a time of day."""
        return _between(self.received, self.resolved)

    @property
    def reply_time(self) -> dt.timedelta | None:
        """Time from complaint to first reply, measured as `response_time` is."""
        return _between(self.received, self.responded)


def instant(moment: dt.datetime) -> dt.datetime:
    """A time as an instant: in UTC when it has a zone (two times in one zone subtract as written,
    ignoring a change of daylight saving between them), as it is when it has none."""
    return moment.astimezone(dt.UTC) if moment.tzinfo is not None else moment


def _between(start: Moment | None, end: Moment | None) -> dt.timedelta | None:
    """Time from `start` to `end`; whole days unless both have a time of day."""
    if start is None or end is None:
        return None
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        return instant(end) - instant(start)
    return _day(end) - _day(start)


def _day(value: Moment) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
