"""The only code that writes to disk: builds each output in a staging folder, then swaps it in.

Unchanged files are hard links to the previous output, so they keep their inode and mtime (static
hosts and rsync see no change) and cost no rendering: an artifact whose key matches the manifest
of the last build is linked without being rendered at all.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2

Content = bytes | Path | Callable[[], bytes | Path]


@dataclass(frozen=True, slots=True)
class Artifact:
    """One file of an output: its path in the output folder, and its bytes, a file to copy, or a
    function that renders it. `key` names everything it depends on: same key, same bytes."""

    path: str
    data: Content
    key: str | None = None


@dataclass(slots=True)
class OutputTree:
    """The files of one output folder (site, digest, leaflets); the same path twice is a bug."""

    name: str
    files: dict[str, Content] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, data: bytes | str | Path | Callable[[], bytes | Path], key: str | None = None) -> None:
        """Add a file; refuses paths outside the folder and paths already added."""
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise ValueError(f"{self.name}: refusing to write outside the output folder: {path!r}")
        name = pure.as_posix()
        if name in self.files:
            raise ValueError(f"{self.name}: two different pages want to be written to {name}")
        self.files[name] = data.encode("utf-8") if isinstance(data, str) else data
        if key:
            self.keys[name] = key

    def extend(self, artifacts: Iterable[Artifact]) -> None:
        """Add many artifacts."""
        for artifact in artifacts:
            self.add(artifact.path, artifact.data, artifact.key)

    @property
    def size(self) -> int:
        """Total bytes of in-memory files (copied and not yet rendered files are not counted)."""
        return sum(len(d) for d in self.files.values() if isinstance(d, bytes))


@dataclass
class WriteResult:
    """Where each tree went and how many of its files were new or changed."""

    path: Path
    written: int
    kept: int


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False when the system cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


class Manifest:
    """For one output folder: each file's key, size and mtime after the last successful build."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, list[object]] = {}
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self.entries = loaded
            except (OSError, ValueError):
                pass

    def covers(self, tree: OutputTree, previous: Path) -> bool:
        """True when every file of `tree` is keyed, unchanged, and exactly last build's set: nothing to do."""
        if not previous.is_dir() or len(tree.keys) != len(tree.files) or self.entries.keys() != tree.files.keys():
            return False
        return all(self.unchanged(name, tree.keys[name], previous / name) for name in tree.files)

    def unchanged(self, name: str, key: str | None, old: Path) -> bool:
        """True when `old` is the file the same key produced last time, untouched since."""
        entry = self.entries.get(name)
        if key is None or not isinstance(entry, list) or len(entry) != 3 or entry[0] != key:
            return False
        try:
            stat = old.stat()
        except OSError:
            return False
        return [stat.st_size, stat.st_mtime_ns] == entry[1:]


def _run(job: int) -> bytes | Path:
    return _PENDING[job]()


_PENDING: list[Callable[[], bytes | Path]] = []


def _render_all(renders: list[Callable[[], bytes | Path]], jobs: int) -> Iterator[bytes | Path]:
    """Call every render function, in order, in worker processes when there are several (they inherit
    the functions by fork); results stream back one by one, so memory stays flat."""
    global _PENDING
    workers = min(jobs or os.cpu_count() or 1, len(renders) // 2)
    if workers <= 1:
        yield from (render() for render in renders)
        return
    _PENDING = renders
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            yield from pool.map(_run, range(len(renders)), chunksize=max(1, min(16, len(renders) // (workers * 8))))
    finally:
        _PENDING = []


def _same(old: Path, content: bytes | Path) -> bool:
    """True when the old output file holds exactly these bytes (sizes first: usually enough to say no)."""
    try:
        size = content.stat().st_size if isinstance(content, Path) else len(content)
        if old.stat().st_size != size:
            return False
        return old.read_bytes() == (content.read_bytes() if isinstance(content, Path) else content)
    except OSError:
        return False


def _write_tree(root: Path, tree: OutputTree, previous: Path, manifest: Manifest, jobs: int) -> tuple[int, int]:
    """Fill `root` with the tree; reuse (hard-link) every unchanged file of `previous`."""
    root.mkdir(parents=True)
    made_dirs: set[Path] = {root}
    pending: list[str] = []
    written = 0

    def target_for(name: str) -> Path:
        target = root / name
        if target.parent not in made_dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(target.parent)
        return target

    def place(name: str, content: bytes | Path) -> int:
        target, old = target_for(name), previous / name
        if _same(old, content):
            os.link(old, target)  # same bytes as before: keep the old file, and its mtime
            return 0
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_bytes(content)
        return 1

    # In the order the renderers gave: a file made from others (the booklet) comes after them.
    for name, data in tree.files.items():
        if manifest.unchanged(name, tree.keys.get(name), previous / name):
            os.link(previous / name, target_for(name))
        elif isinstance(data, bytes | Path):
            written += place(name, data)
        else:
            pending.append(name)
    renders = [tree.files[name] for name in pending]
    for name, content in zip(pending, _render_all(renders, jobs), strict=True):  # type: ignore[arg-type]
        written += place(name, content)
    return written, len(tree.files) - written


def _manifest_file(state: Path | None, target: Path) -> Path | None:
    if state is None:
        return None
    return state / f"manifest-{hashlib.blake2b(str(target).encode(), digest_size=8).hexdigest()}.json"


def _save_manifest(path: Path | None, root: Path, tree: OutputTree) -> None:
    if path is None:
        return
    entries = {}
    for name, key in tree.keys.items():
        stat = (root / name).stat()
        entries[name] = [key, stat.st_size, stat.st_mtime_ns]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(entries), encoding="utf-8")
    temporary.replace(path)


def write_outputs(
    out: Path,
    trees: Iterable[OutputTree],
    finish: Mapping[str, Callable[[Path, Path, bool], object]] | None = None,
    state: Path | None = None,
    jobs: int = 0,
    remove: Iterable[str] = (),
) -> list[WriteResult]:
    """Write every tree to `out/<name>`; either all of them replace the old ones, or none does.

    `finish[name](staging, previous, changed)` runs on a tree's staging folder before anything is
    swapped in (the search index). `state` is where the manifests of the last build are kept.
    `remove` names outputs to delete because they are empty now.
    """
    trees = list(trees)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-build-", dir=out.parent))
    try:
        counts = []
        untouched: set[str] = set()
        for tree in trees:
            previous = out / tree.name
            manifest = Manifest(_manifest_file(state, previous))
            if manifest.covers(tree, previous):
                untouched.add(tree.name)  # every file as it was: the old folder stays, nothing is swapped
                counts.append((0, len(tree.files)))
                continue
            written, kept = _write_tree(staging / tree.name, tree, previous, manifest, jobs)
            if finish and tree.name in finish:
                finish[tree.name](staging / tree.name, previous, written > 0 or not previous.exists())
            counts.append((written, kept))
        out.mkdir(exist_ok=True)
        results = []
        for tree, (written, kept) in zip(trees, counts, strict=True):
            new, target = staging / tree.name, out / tree.name
            if tree.name in untouched:
                results.append(WriteResult(target, written, kept))
                continue
            if target.exists() and not _exchange(new, target):
                target.rename(staging / f"{tree.name}.old")
                new.rename(target)
            elif not target.exists():
                new.rename(target)
            _save_manifest(_manifest_file(state, target), target, tree)
            results.append(WriteResult(target, written, kept))
        for name in remove:  # outputs that have nothing in them now: the old folder goes, in the same step
            if (out / name).exists():
                (out / name).rename(staging / f"{name}.removed")
        return results
    finally:
        shutil.rmtree(staging, ignore_errors=True)
