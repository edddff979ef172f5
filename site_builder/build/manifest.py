"""What the writer keeps about each output folder between builds: a manifest (each file's key, size
and mtime) of the live folder and one of its spare, both sealed, named by the folder's path."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from site_builder.build.artifacts import OutputTree
from site_builder.build.keys import key
from site_builder.build.sealed import read_sealed, write_sealed


class Manifest:
    """For one output folder: each file's key, size and mtime after the last successful build."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, list[object]] = {}
        data = read_sealed(path) if path is not None else None
        if data is not None:
            with contextlib.suppress(ValueError):
                loaded = json.loads(data)
                if isinstance(loaded, dict):
                    self.entries = loaded

    def covers(self, tree: OutputTree, previous: Path) -> bool:
        """True when every file of `tree` is keyed, unchanged, and exactly last build's set: nothing to do."""
        if not previous.is_dir() or len(tree.keys) != len(tree.files) or self.entries.keys() != tree.files.keys():
            return False
        if any(not isinstance(e, list) or not e or e[0] != tree.keys[name] for name, e in self.entries.items()):
            return False  # a key changed: no need to look at the files
        folder = str(previous)
        return all(self.valid(name, tree.keys[name], f"{folder}/{name}") for name in tree.files)

    def valid(self, name: str, key: str | None, old: str) -> os.stat_result | None:
        """The stat of `old` if it is the file the same key produced last time, untouched since."""
        entry = self.entries.get(name)
        if key is None or not isinstance(entry, list) or len(entry) != 3 or entry[0] != key:
            return None
        try:
            stat = os.stat(old)  # noqa: PTH116 - 10,000 calls a build: strings are cheaper
        except OSError:
            return None
        return stat if stat.st_size == entry[1] and stat.st_mtime_ns == entry[2] else None

    def entries_for(self, root: Path, tree: OutputTree, linked: set[str]) -> dict[str, list[object]]:
        """The entries describing `tree` as prepared in `root` (a folder's rename keeps its files'
        stats): files `linked` from the live folder keep this manifest's entry (same inode). An
        unkeyed file is listed, never matched."""
        entries: dict[str, list[object]] = {}
        folder = str(root)
        for name in tree.files:
            if name in linked:
                entries[name] = self.entries[name]
            else:
                stat = os.stat(f"{folder}/{name}")  # noqa: PTH116 - as above
                entries[name] = [tree.keys.get(name, ""), stat.st_size, stat.st_mtime_ns]
        return entries

    def save(self) -> None:
        """Write the entries atomically."""
        if self.path is not None:
            write_sealed(self.path, json.dumps(self.entries).encode("utf-8"))

    def forget(self) -> None:
        """Delete the file: what it described is about to change."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def folder_tag(target: Path) -> str:
    """A short name for an output folder's path, for the state kept about it."""
    return key(str(target))[:16]


def manifest_path(state: Path | None, target: Path, suffix: str) -> Path | None:
    if state is None:
        return None
    return state / f"manifest-{folder_tag(target)}{suffix}.json"


def spare_folder(state: Path | None, target: Path) -> Path | None:
    """Where the output before the live one is kept, if it can be swapped with `target` (same file system)."""
    if state is None:
        return None
    state.mkdir(parents=True, exist_ok=True)
    if state.stat().st_dev != target.parent.stat().st_dev:
        return None
    return state / "spare" / f"{target.name}-{folder_tag(target)}"


def forget_state(target: Path, state: Path | None) -> None:
    """Delete both manifests of `target`: what they describe is no longer known."""
    for suffix in ("", "-spare"):
        path = manifest_path(state, target, suffix)
        if path is not None:
            path.unlink(missing_ok=True)
