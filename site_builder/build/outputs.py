"""The products a build makes, each one class behind one protocol, and the registry of them.

A new output is one new class (in its product's package) added to OUTPUTS: the pipeline, the
shortcut, the command line's `--only` and the build's note all go through this list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from site_builder.digest.output import DigestOutput
from site_builder.leaflets.output import LeafletsOutput
from site_builder.website.output import Website

if TYPE_CHECKING:
    from site_builder.build.artifacts import Artifact, Finish, OutputTree
    from site_builder.build.request import BuildRequest
    from site_builder.cases.model import Case
    from site_builder.leaflets.workers import LayoutWorkers


@dataclass(frozen=True, slots=True)
class Edited:
    """What a shortcut build hands each output: the cases whose text changed, each with its older and
    newer neighbour, and, when one of them is shown whole somewhere, every case shown whole."""

    cases: tuple[tuple[Case, Case | None, Case | None], ...]
    whole: tuple[Case, ...] | None
    remembered: dict[str, tuple[str, ...]] = field(default_factory=dict)  # from the last full build, by output


class Output(Protocol):
    """One product of a build, written to its own folder OUT/<name>/."""

    @property
    def name(self) -> str:
        """Its folder under OUT, and its name for `--only`."""

    @property
    def carried(self) -> tuple[str, str] | None:
        """(another output, a folder in it) that also carries this output's files, if any."""

    def shows(self, request: BuildRequest) -> str:
        """A digest of everything besides the cases that this output shows (its settings, theme, options)."""

    def render(self, cases: tuple[Case, ...], request: BuildRequest, workers: LayoutWorkers | None) -> list[Artifact]:
        """Every file of the output for the published `cases` (newest first), each with its key."""

    def shown_whole(self, cases: tuple[Case, ...], request: BuildRequest) -> tuple[Case, ...]:
        """The cases this output shows whole (text included) beyond each case's own page or leaflet."""

    def remade(self, edited: Edited, request: BuildRequest, workers: LayoutWorkers | None) -> list[Artifact]:
        """The files to put in place of the last build's when only the text of `edited` cases changed."""

    def remember(self, cases: tuple[Case, ...], request: BuildRequest) -> tuple[str, ...]:
        """What the build's note keeps for this output, for a build from the note (the site: its newest pages)."""

    def finish(self, request: BuildRequest, remembered: tuple[str, ...]) -> Finish | None:
        """What runs on its prepared folder before the swap (the search index), if anything."""

    def written(self, tree: OutputTree, changed: int, request: BuildRequest) -> None:
        """After the build was put in place: tidy what the output keeps for itself."""


OUTPUTS: tuple[Output, ...] = (Website(), DigestOutput(), LeafletsOutput())  # in the order they are made
NAMES = tuple(output.name for output in OUTPUTS)
BY_NAME = {output.name: output for output in OUTPUTS}


def chosen(names: Iterable[str]) -> tuple[Output, ...]:
    """The outputs named (all when none is), in build order."""
    wanted = set(names) or set(NAMES)
    return tuple(output for output in OUTPUTS if output.name in wanted)
