"""The only code that writes to disk: builds each output in a staging folder, then swaps it in."""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@dataclass(frozen=True, slots=True)
class Artifact:
    """One file of an output: its path in the output folder and its bytes (or a file to copy)."""

    path: str
    data: bytes | Path


@dataclass(slots=True)
class OutputTree:
    """The files of one output folder (site, digest, leaflets); the same path twice is a bug."""

    name: str
    files: dict[str, bytes | Path] = field(default_factory=dict)

    def add(self, path: str, data: bytes | str | Path) -> None:
        """Add a file; refuses paths outside the folder and paths already added."""
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise ValueError(f"{self.name}: refusing to write outside the output folder: {path!r}")
        key = pure.as_posix()
        if key in self.files:
            raise ValueError(f"{self.name}: two different pages want to be written to {key}")
        self.files[key] = data.encode("utf-8") if isinstance(data, str) else data

    def extend(self, artifacts: Iterable[Artifact]) -> None:
        """Add many artifacts."""
        for artifact in artifacts:
            self.add(artifact.path, artifact.data)

    @property
    def size(self) -> int:
        """Total bytes of in-memory files (copied files are not counted)."""
        return sum(len(d) for d in self.files.values() if isinstance(d, bytes))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False when the system cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


def _write_tree(root: Path, tree: OutputTree) -> None:
    root.mkdir(parents=True)
    for name, data in sorted(tree.files.items()):
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, Path):
            shutil.copyfile(data, target)
        else:
            target.write_bytes(data)


def write_outputs(
    out: Path, trees: Iterable[OutputTree], finish: Mapping[str, Callable[[Path], object]] | None = None
) -> list[Path]:
    """Write every tree to `out/<name>`; either all of them replace the old ones, or none does.

    `finish[name]` runs on a tree's staging folder before anything is swapped in (the search index).
    """
    trees = list(trees)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-build-", dir=out.parent))
    try:
        for tree in trees:
            _write_tree(staging / tree.name, tree)
            if finish and tree.name in finish:
                finish[tree.name](staging / tree.name)
        out.mkdir(exist_ok=True)
        written = []
        for tree in trees:
            new, target = staging / tree.name, out / tree.name
            if target.exists() and not _exchange(new, target):
                target.rename(staging / f"{tree.name}.old")
                new.rename(target)
            elif not target.exists():
                new.rename(target)
            written.append(target)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)
