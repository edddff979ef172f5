"""The only code that writes to disk: builds each output in a staging folder, then swaps it in.

Unchanged files are hard links to the previous output, so they keep their inode and mtime (static
hosts and rsync see no change) and cost no rendering: an artifact whose key matches the manifest
of the last build is linked without being rendered at all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from site_builder.build.artifacts import Background, Deferred, Finish, OutputTree
from site_builder.build.manifest import Manifest, manifest_path, spare_folder
from site_builder.build.parallel import call_all
from site_builder.build.swap import Step, claim, commit, inode

AHEAD = 16  # deferred files started beyond the one waited for: enough to keep workers busy, few in memory


@dataclass
class WriteResult:
    """Where each tree went and how many of its files were new or changed."""

    path: Path
    written: int
    kept: int


def _render_all(renders: list[Callable[[], bytes | Path]], jobs: int) -> Iterator[bytes | Path]:
    """Call every render function, in order, in worker processes when there are several (they inherit
    the functions by fork); results stream back one by one, so memory stays flat."""
    workers = min(jobs or os.cpu_count() or 1, len(renders) // 2)
    if workers <= 1:
        yield from (render() for render in renders)
        return
    yield from call_all(renders, workers)


def _resolve(deferred: list[Deferred]) -> Iterator[bytes | Path]:
    """Each deferred file in order, with up to AHEAD more started meanwhile."""
    started = 0
    for index, item in enumerate(deferred):
        while started < min(len(deferred), index + 1 + AHEAD):
            deferred[started].start()
            started += 1
        yield item.result()


def _same(old: Path, content: bytes | Path) -> bool:
    """True when the old output file holds exactly these bytes (sizes first: usually enough to say no)."""
    try:
        size = content.stat().st_size if isinstance(content, Path) else len(content)
        if old.stat().st_size != size:
            return False
        return old.read_bytes() == (content.read_bytes() if isinstance(content, Path) else content)
    except OSError:
        return False


class _Filler:
    """Puts files into a folder being prepared: new bytes, or hard links to the live folder's files.
    Paths are strings here: at 10,000 files, pathlib's overhead is most of the cost."""

    def __init__(self, root: Path, previous: Path) -> None:
        self.root = str(root)
        self.previous = str(previous)
        self.made_dirs: set[str] = {self.root}

    def target(self, name: str) -> str:
        target = f"{self.root}/{name}"
        parent = os.path.dirname(target)
        if parent not in self.made_dirs:
            os.makedirs(parent, exist_ok=True)
            self.made_dirs.add(parent)
        return target

    def link(self, name: str, live: os.stat_result | None = None) -> None:
        """The live file, unchanged: the same inode, so its mtime stays."""
        old = f"{self.previous}/{name}"
        try:
            present = os.stat(f"{self.root}/{name}")
            if os.path.samestat(present, live or os.stat(old)):
                return  # a spare's file that already is the live one
        except OSError:
            pass
        target = self.target(name)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        os.link(old, target)

    def place(self, name: str, content: bytes | Path) -> int:
        """Write `content` unless the live file already holds it; 1 when written."""
        if _same(Path(self.previous, name), content):
            self.link(name)
            return 0
        target = self.target(name)
        # The spare's file may be a hard link to a live file: replace it, never write through it.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            Path(target).write_bytes(content)
        return 1


class _Fill:
    """Makes `root` hold exactly the tree, rendering only what neither the live folder (`previous`)
    nor `root` itself (a spare from the build before last, listed by `spare`) already has.

    In two steps, so that the writer can wait for files made elsewhere (leaflets, by workers) only
    once it has done everything else: creating it does all that needs no waiting; `finish` waits
    for the rest and returns the files written, the files kept, and the names linked to the live
    folder."""

    def __init__(
        self, root: Path, tree: OutputTree, previous: Path, live: Manifest, spare: Manifest, jobs: int
    ) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root, self.tree, self.spare, self.jobs = root, tree, spare, jobs
        self.filler = _Filler(root, previous)
        self.linked: set[str] = set()
        self.written = 0
        self.changed: set[str] = set()  # the files whose bytes differ from the live folder's
        pending: list[str] = []
        here, before = str(root), str(previous)
        for name, data in tree.files.items():
            key = tree.keys.get(name)
            stat = live.valid(name, key, f"{before}/{name}")
            if stat is not None:
                self.filler.link(name, stat)
                self.linked.add(name)
            elif spare.valid(name, key, f"{here}/{name}"):
                self._changed(name, 1)  # not the live file, but the spare still holds these bytes (a change undone)
            elif isinstance(data, bytes | Path):
                self._changed(name, self.filler.place(name, data))
            else:
                pending.append(name)
        # Two rounds: a file made from others (the booklet, from the leaflets) must not start in one
        # worker while another is still making its parts; it would make them a second time.
        self.later = [name for name in pending if name in tree.made_from_others]
        self.deferred = self._round([name for name in pending if name not in tree.made_from_others])
        for name in spare.entries.keys() - tree.files.keys():  # gone now: before a finish hook reads the folder
            _remove(root, name)

    def _changed(self, name: str, written: int) -> None:
        if written:
            self.written += written
            self.changed.add(name)

    def _round(self, names: list[str]) -> dict[str, Deferred]:
        """Start the deferred files, render the others; returns the deferred ones, still to collect."""
        deferred = {name: data for name in names if isinstance(data := self.tree.files[name], Deferred)}
        for item in list(deferred.values())[:AHEAD]:
            item.start()  # their workers make them while this process renders the rest
        names = [name for name in names if name not in deferred]
        renders = [self.tree.files[name] for name in names]
        for name, content in zip(names, _render_all(renders, self.jobs), strict=True):  # type: ignore[arg-type]
            self._changed(name, self.filler.place(name, content))
        return deferred

    def _collect(self, deferred: dict[str, Deferred]) -> None:
        for name, content in zip(deferred, _resolve(list(deferred.values())), strict=True):
            self._changed(name, self.filler.place(name, content))

    def finish(self) -> tuple[int, int, set[str]]:
        """Collect the deferred files, make the files made from others."""
        self._collect(self.deferred)
        self._collect(self._round(self.later))
        return self.written, len(self.tree.files) - self.written, self.linked


def _remove(root: Path, name: str) -> None:
    """Delete a file and the folders it leaves empty."""
    path = root / name
    path.unlink(missing_ok=True)
    for folder in path.parents:
        if folder == root or not folder.is_relative_to(root):
            break
        try:
            folder.rmdir()
        except OSError:
            break  # not empty


def recorded(out: Path, name: str, state: Path | None) -> dict[str, str] | None:
    """Each file the last build wrote to `out/<name>`, with its key; {} when the last build left
    that output empty (no folder, no list), None when that is not known."""
    target = out.resolve() / name
    path = manifest_path(state, target, "")
    if path is None:
        return None
    if not path.exists():
        return None if target.exists() else {}
    entries = Manifest(path).entries
    keys: dict[str, str] = {}
    for file, entry in entries.items():
        if not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[0], str) or not entry[0]:
            return None  # an unkeyed or malformed entry: what the file holds is not known
        keys[file] = entry[0]
    return keys or None


def write_outputs(
    out: Path,
    trees: Iterable[OutputTree],
    finish: Mapping[str, Finish] | None = None,
    state: Path | None = None,
    jobs: int = 0,
    remove: Iterable[str] = (),
) -> list[WriteResult]:
    """Write every tree to `out/<name>`; either all of them replace the old ones, or none does.

    Each tree is prepared in a folder of its own, never in the live one, then swapped in: the
    folder of the build before last when `state` keeps one (only what changed since is touched),
    else a fresh staging folder. `finish[name](folder, previous, changed)` runs on a prepared
    folder before anything is swapped in (the search index), with the names of the files whose bytes
    changed (None: no previous folder), deferred files not yet among them: it may return work it
    started in the background, waited for before the swap. `state` is where the manifests of
    the last build and the spare folders are kept. `remove` names outputs to delete because
    they are empty now.
    """
    trees = list(trees)
    out = out.resolve()
    own = claim(out, state=state, create=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=own))
    background = contextlib.ExitStack()  # a failure anywhere stops the hooks' background work
    try:
        covered: set[str] = set()
        started: list[Background] = []
        filling: dict[str, tuple[Path, Manifest, _Fill]] = {}
        for tree in trees:
            previous = out / tree.name
            manifest = Manifest(manifest_path(state, previous, ""))
            spare_manifest = Manifest(manifest_path(state, previous, "-spare"))
            if manifest.covers(tree, previous):
                covered.add(tree.name)  # every file as it was: the old folder stays, nothing is swapped
                continue
            spare = spare_folder(state, previous)
            if spare is not None and spare.is_dir() and spare_manifest.entries:
                root = spare
                spare_manifest.forget()  # a crash from here on leaves the spare unlisted, so never trusted
            else:
                root = staging / tree.name
                spare_manifest = Manifest(None)
            fill = _Fill(root, tree, previous, manifest, spare_manifest, jobs)
            filling[tree.name] = (root, manifest, fill)
            # The hook starts before the deferred files are collected (the search index needs none
            # of them), and before the next output is prepared: its work overlaps the rest.
            if finish and tree.name in finish:
                work = finish[tree.name](root, previous, set(fill.changed) if previous.exists() else None)
                if work is not None:
                    background.callback(work.cancel)
                    started.append(work)
        # Files made elsewhere (leaflets, by workers) are waited for only now that the rest is done.
        results, steps = [], []
        for tree in trees:
            target = out / tree.name
            if tree.name in covered:
                results.append(WriteResult(target, 0, len(tree.files)))
                continue
            root, manifest, fill = filling[tree.name]
            written, kept, linked = fill.finish()
            results.append(WriteResult(target, written, kept))
            steps.append(_step(target, root, tree, linked, manifest, state))
        for work in started:
            work.wait()
        background.pop_all()
        for name in remove:  # outputs that have nothing in them now: the old folder goes, in the same step
            steps.append(_removal(out / name, state))
        commit(out, staging, steps)
        for step in steps:
            if step.prepared is not None and step.old_ino is None:
                _first_spare(Path(step.target), state)
        return results
    finally:
        background.close()
        shutil.rmtree(staging, ignore_errors=True)


def _step(target: Path, root: Path, tree: OutputTree, linked: set[str], live: Manifest, state: Path | None) -> Step:
    """The commit step that puts the tree prepared in `root` at `target`, with the manifests after it."""
    spare, spare_file = spare_folder(state, target), manifest_path(state, target, "-spare")
    staged = None
    if live.path is not None:
        # Written now, moved into place by the commit: the journal names it, it need not hold it.
        staged = Manifest(None)
        staged.path, staged.entries = (
            live.path.with_name(f"{live.path.name}.next"),
            live.entries_for(root, tree, linked),
        )
        staged.save()
    return Step(
        target=str(target),
        prepared=str(root),
        new_ino=inode(root),
        old_ino=inode(target),
        spare=str(spare) if spare is not None else None,
        manifest=str(live.path) if live.path is not None else None,
        spare_manifest=str(spare_file) if spare_file is not None else None,
        staged=str(staged.path) if staged is not None and staged.path is not None else None,
    )


def _removal(target: Path, state: Path | None) -> Step:
    """The commit step that removes an output with nothing in it any more, with what is kept of it."""
    spare, live = spare_folder(state, target), manifest_path(state, target, "")
    spare_file = manifest_path(state, target, "-spare")
    return Step(
        target=str(target),
        prepared=None,
        new_ino=None,
        old_ino=inode(target),
        spare=str(spare) if spare is not None else None,
        manifest=str(live) if live is not None else None,
        spare_manifest=str(spare_file) if spare_file is not None else None,
    )


def _first_spare(target: Path, state: Path | None) -> None:
    """After a first build (no old tree to keep), the spare starts as links to the new one, so
    that the next build already touches only what changes. Its manifest is written last: a spare
    left half made is never trusted."""
    spare, spare_file, live = (
        spare_folder(state, target),
        manifest_path(state, target, "-spare"),
        manifest_path(state, target, ""),
    )
    if spare is None or spare_file is None or live is None or not live.exists():
        return
    spare_file.unlink(missing_ok=True)
    shutil.rmtree(spare, ignore_errors=True)
    spare.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(target, spare, copy_function=os.link)
    shutil.copyfile(live, spare_file)
