"""What renderers hand the writer: artifacts (one file each: bytes, a file, a render function or work
done elsewhere) gathered in one tree per output folder. Renderers import this, never the writer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

# An empty, "." or ".." part anywhere (so also a leading or trailing slash): checked the slow way.
_SUSPECT = re.compile(r"(?:^|/)\.{0,2}(?:/|$)")


class Deferred:
    """A file its renderer makes in worker processes of its own: `start` hands it over, `result`
    waits for it. The writer starts a few ahead of the one it waits for, so they work in parallel."""

    __slots__ = ()

    def start(self) -> None:
        """Begin making the file (once: a second call does nothing)."""

    def result(self) -> bytes | Path:
        """The file, once made."""
        raise NotImplementedError


Content = bytes | Path | Callable[[], bytes | Path] | Deferred


class Background(Protocol):
    """Work a finish hook started on a prepared folder: waited for before the swap, cancelled on a failure."""

    def wait(self) -> object:
        """Wait until done; raises if it failed."""

    def cancel(self) -> None:
        """Stop it and remove what it left."""


Finish = Callable[[Path, Path, "set[str] | None"], "Background | None"]


@dataclass(frozen=True, slots=True)
class Artifact:
    """One file of an output: its path in the output folder, and its bytes, a file to copy, or a
    function that renders it. `key` names everything it depends on: same key, same bytes."""

    path: str
    data: Content
    key: str | None = None
    made_from_others: bool = False  # rendered only once every other file of its output is done


@dataclass(slots=True)
class OutputTree:
    """The files of one output folder (site, digest, leaflets); the same path twice is a bug."""

    name: str
    files: dict[str, Content] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    made_from_others: set[str] = field(default_factory=set)  # see Artifact

    def add(
        self,
        path: str,
        data: bytes | str | Content,
        key: str | None = None,
        made_from_others: bool = False,
    ) -> None:
        """Add a file; refuses paths outside the folder and paths already added."""
        name = path
        if _SUSPECT.search(path):
            pure = PurePosixPath(path)  # the slow, thorough way, for the rare path that needs it
            if pure.is_absolute() or ".." in pure.parts or not pure.parts:
                raise ValueError(f"{self.name}: refusing to write outside the output folder: {path!r}")
            name = pure.as_posix()
        if name in self.files:
            raise ValueError(f"{self.name}: two different pages want to be written to {name}")
        self.files[name] = data.encode("utf-8") if isinstance(data, str) else data
        if key:
            self.keys[name] = key
        if made_from_others:
            self.made_from_others.add(name)

    def replace(self, artifact: Artifact) -> bool:
        """Put `artifact` in place of the file already at its path; False when there is none."""
        if artifact.path not in self.files:
            return False
        self.files[artifact.path] = artifact.data
        if artifact.key:
            self.keys[artifact.path] = artifact.key
        else:
            self.keys.pop(artifact.path, None)
        if artifact.made_from_others:
            self.made_from_others.add(artifact.path)
        else:
            self.made_from_others.discard(artifact.path)
        return True

    def extend(self, artifacts: Iterable[Artifact]) -> None:
        """Add many artifacts."""
        for artifact in artifacts:
            self.add(artifact.path, artifact.data, artifact.key, artifact.made_from_others)

    @property
    def size(self) -> int:
        """Total bytes of in-memory files (copied and not yet rendered files are not counted)."""
        return sum(len(d) for d in self.files.values() if isinstance(d, bytes))
