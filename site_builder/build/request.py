"""What a build is asked to make: one frozen value that every part of a build reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from site_builder.build.outputs import NAMES
from site_builder.digest.period import Period
from site_builder.leaflets.options import BookletFilter, LeafletOptions
from site_builder.settings.config import Settings


@dataclass(frozen=True, slots=True)
class BuildRequest:
    """Everything a build's output depends on besides the case files themselves."""

    cases_dir: Path
    out: Path
    settings: Settings
    period: Period  # the digest's dates
    today: dt.date  # cases dated after it are not published yet
    outputs: tuple[str, ...] = NAMES  # by name, in build order
    leaflet: LeafletOptions = field(default_factory=LeafletOptions)
    booklet: BookletFilter = field(default_factory=BookletFilter)
    drafts: bool = False
    strict: bool = False
    sent: tuple[Period, ...] = ()  # the digests sent, one per last day, newest first: the site's archive

    def wants(self, output: str) -> bool:
        """True when `output` is among the outputs asked for."""
        return output in self.outputs
