"""The commit of a build: every prepared output folder swapped in, all or nothing.

Each output (site, digest, leaflets) is a folder of its own, swapped in with one atomic exchange;
three exchanges are not one step, so the commit is recorded first. Once every output is prepared,
a journal naming each swap, the inodes before and after it and the manifests that go with it is
written (atomically: that write is the commit), then carried out step by step, then deleted. A run
killed anywhere in between leaves the journal, and the next run completes it before it reads
anything, so the live outputs are always one build's, together. Every step can be done twice.

The tool keeps its own things inside the output folder in `OUT/.site-builder-output/`: the journal
and the staging folders of builds under way. That folder's presence is what says the output
folders beside it are the tool's to replace: it never replaces a `site/`, `digest/` or `leaflets/`
it did not make, nor writes through a symbolic link.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from site_builder.build import outputs
from site_builder.build.manifest import forget_state, manifest_path
from site_builder.build.sealed import read_sealed, write_sealed
from site_builder.problems import OutputError

AREA = ".site-builder-output"  # inside OUT: ours
_JOURNAL = "commit"
_STAGING = "staging-"
_OLD_STAGING = re.compile(r"\.(?P<out>.+)-build-[a-z0-9_]{8}")  # beside OUT, from versions before this one
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@dataclass(frozen=True, slots=True)
class Step:
    """One output's part of a commit: put `prepared` at `target` (or, with no `prepared`, remove
    `target`), keep the old tree as the spare, and write the manifests that describe both."""

    target: str
    prepared: str | None
    new_ino: int | None
    old_ino: int | None
    spare: str | None = None
    manifest: str | None = None
    spare_manifest: str | None = None
    staged: str | None = None  # the live manifest after the commit, written beside it before the commit


def inode(path: Path) -> int | None:
    """The inode of `path` itself (not what a link points to), or None when there is nothing."""
    try:
        return os.lstat(path).st_ino
    except OSError:
        return None


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False when the system cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


def area(out: Path) -> Path:
    """The tool's own folder inside `out`."""
    return out / AREA


def claim(out: Path, cases_dir: Path | None = None, state: Path | None = None, create: bool = False) -> Path:
    """Make sure `out` is ours to write (refusing with an OutputError otherwise), complete a commit a
    killed run left, remove staging folders killed builds left; returns the tool's own folder in
    it, made when `create`."""
    out = out.absolute()
    if cases_dir is not None:
        cases = cases_dir.resolve()
        resolved = out.resolve()
        if resolved == cases or resolved.is_relative_to(cases) or cases.is_relative_to(resolved / "site"):
            raise OutputError(
                f"{out}: the output folder overlaps the cases folder {cases_dir}; choose another --out (default: dist)"
            )
    if out.is_symlink() and not out.exists():
        raise OutputError(f"{out}: a symbolic link to nothing; point --out at a folder")
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: not a folder; choose another --out")
    own = area(out)
    for name in outputs.NAMES:  # read now: a registry a test extends is seen
        folder = out / name
        if folder.is_symlink():
            raise OutputError(
                f"{folder}: a symbolic link (to {folder.readlink()}); site-builder replaces its output folders "
                f"whole and does not write through links: build into a folder of real ones and copy it "
                f"(rsync -a --delete {folder}/ DESTINATION/)"
            )
        if folder.exists() and not own.is_dir() and not _made_before(folder, state):
            raise OutputError(
                f"{folder}: already there and not made by site-builder; it would be replaced: "
                f"move it away or choose another --out"
            )
    if create:
        try:
            own.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{out}: cannot create {own.name} in it ({exc.strerror}); check the folder") from exc
    for leftover in out.parent.glob(f".{out.name}-build-*"):
        if _OLD_STAGING.fullmatch(leftover.name) and leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
    if own.is_dir():
        recover(out, state)
        for leftover in own.glob(f"{_STAGING}*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in own.glob(".tmp-*"):  # a journal killed while being written: never committed
            leftover.unlink(missing_ok=True)
    return own


def _made_before(folder: Path, state: Path | None) -> bool:
    """An output folder an earlier version made, known by the manifest it kept of it."""
    path = manifest_path(state, folder, "")
    return path is not None and path.exists()


def commit(out: Path, staging: Path, steps: list[Step]) -> None:
    """Record the steps (the commit point), carry them out, forget them."""
    if not steps:
        return
    journal = area(out) / _JOURNAL
    record = {"staging": str(staging), "steps": [asdict(step) for step in steps]}
    write_sealed(journal, json.dumps(record).encode("utf-8"))
    _complete(journal, staging, steps)


def recover(out: Path, state: Path | None) -> bool:
    """Complete the commit a killed run left in `out`, if any; True when there was one."""
    journal = area(out) / _JOURNAL
    if not journal.exists():
        return False
    data = read_sealed(journal)
    try:
        record = json.loads(data if data is not None else b"null")
        staging = Path(record["staging"])
        steps = [Step(**step) for step in record["steps"]]
    except (ValueError, TypeError, KeyError):
        # Not ours, or damaged: which swaps happened cannot be known. Each output is still whole;
        # forgetting every manifest makes the next build compare every file by its bytes.
        journal.unlink()
        for name in outputs.NAMES:
            forget_state(out / name, state)
        return True
    _complete(journal, staging, steps)
    return True


def _complete(journal: Path, staging: Path, steps: list[Step]) -> None:
    for step in steps:
        _apply(step, staging)
    journal.unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)


def _apply(step: Step, staging: Path) -> None:
    """Carry out one step; whatever part of it was done already is recognised by inodes and skipped."""
    target = Path(step.target)
    aside = staging / f"{target.name}.old"  # where the old tree waits when no exchange is possible
    if step.prepared is None:
        if inode(target) is not None:
            staging.mkdir(parents=True, exist_ok=True)
            target.rename(staging / f"{target.name}.removed")
        for path in (step.manifest, step.spare_manifest):
            if path:
                Path(path).unlink(missing_ok=True)
        if step.spare:
            shutil.rmtree(step.spare, ignore_errors=True)
        return
    prepared = Path(step.prepared)
    now = inode(target)
    if now != step.new_ino:
        if now != step.old_ino and not (now is None and inode(aside) == step.old_ino):
            raise OutputError(
                f"{target}: changed by something else while the build was being put in place; build again"
            )
        if inode(prepared) != step.new_ino:
            raise OutputError(f"{prepared}: the prepared output is gone; build again")
        if now is None:
            prepared.rename(target)
        elif not exchange(prepared, target):
            target.rename(aside)  # a system without renameat2: two renames, the journal covers the gap
            prepared.rename(target)
    staged = Path(step.staged) if step.staged else None
    pending = staged is not None and staged.exists()  # moved into place last: then this step is done
    live = Path(step.manifest) if step.manifest else None
    if step.spare and step.old_ino is not None:
        spare = Path(step.spare)
        if inode(spare) != step.old_ino:
            if step.spare_manifest:
                Path(step.spare_manifest).unlink(missing_ok=True)  # before the spare folder changes
            old = next((p for p in (prepared, aside) if inode(p) == step.old_ino), None)
            if old is not None:
                shutil.rmtree(spare, ignore_errors=True)
                spare.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(OSError):  # another file system after all: goes with the staging folder
                    old.rename(spare)
        if pending and live is not None and live.exists() and step.spare_manifest:
            if inode(spare) == step.old_ino:
                live.replace(step.spare_manifest)  # the old tree's manifest goes with it, renamed
            else:
                Path(step.spare_manifest).unlink(missing_ok=True)
    elif pending and step.spare_manifest:
        Path(step.spare_manifest).unlink(missing_ok=True)
    if pending and staged is not None and live is not None:
        staged.replace(live)
