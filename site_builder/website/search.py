"""The search index: Pagefind reads the written case pages and adds its bundles beside them (no server needed).

Pagefind has no incremental mode: it indexes every page it is given, 10,000 case pages in 15 s.
So a big site gets several bundles (`pagefind/`, `pagefind-1/`, ...), each holding the case pages
whose path falls into it, plus `pagefind-new/` for the newest cases (edited most, so kept small),
and a build indexes again only the bundles whose pages changed; the search box merges them in the
browser (Pagefind's `mergeIndex`, listed in `pagefind-bundles.json`). A site of fewer than
2 * SHARD case pages has one bundle, `pagefind/`, as Pagefind makes it. Pagefind's command line is
run, not its Python service: the service costs 0.25 s more to start and talk to.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import IO, Any

from site_builder.build.keys import key
from site_builder.problems import SearchError
from site_builder.settings.config import Settings

SHARD = 1000  # case pages per bundle, about: an edit re-indexes about this many pages
FRESH = 200  # the newest case pages, in a bundle of their own: the ones edited most are quick to index
NEWEST = "pagefind-new"  # that bundle's name
BUNDLES = "pagefind-bundles.json"  # the bundles the search box merges into the first one


def case_pages(site: Path) -> list[str]:
    """The pages the search indexes: one per case (cases/<slug>/index.html, and <language>/cases/...
    for each other language), and each language's page of changes, as paths inside the site."""
    found: list[str] = []
    try:
        with os.scandir(site) as top:
            parts = ["", *sorted(f"{e.name}/" for e in top if e.is_dir() and (site / e.name / "cases").is_dir())]
    except OSError:
        return []
    for part in parts:
        try:
            with os.scandir(site / part / "cases") as entries:  # 10,000 folders: no stat each, unlike a glob
                found.extend(f"{part}cases/{entry.name}/index.html" for entry in entries if entry.is_dir())
        except OSError:
            continue
    # What changed because you told us: the one other page whose text is the cases' own.
    found.extend(f"{part}changes/index.html" for part in parts if (site / part / "changes/index.html").is_file())
    return sorted(found)


def bundles(pages: list[str], newest: Sequence[str] = ()) -> dict[str, list[str]]:
    """Which bundle holds each page: the `newest` FRESH in one of their own (once there are several
    bundles), the others by a digest of their path, so that a page stays in its bundle."""
    if len(pages) < 2 * SHARD:
        return {"pagefind": pages}
    fresh = set(newest[: min(FRESH, len(pages) - SHARD)]).intersection(pages)
    rest = [page for page in pages if page not in fresh]
    count = max(1, len(rest) // SHARD)
    found: dict[str, list[str]] = {}
    for page in rest:
        number = int.from_bytes(hashlib.blake2b(page.encode(), digest_size=4).digest(), "big") % count
        found.setdefault(f"pagefind-{number}", []).append(page)
    # The first bundle is the one the search box loads first: there must be one, so the lowest
    # numbered is called that (bundle 0 could be empty when bundles are small).
    first = min(found, key=lambda name: int(name.rsplit("-", 1)[1]))
    found["pagefind"] = found.pop(first)
    return {NEWEST: sorted(fresh), **found} if fresh else found


def _entry(bundle: Path) -> dict[str, Any]:
    """A bundle's entry file, as Pagefind wrote it ({} when there is none or it is unreadable)."""
    try:
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return entry if isinstance(entry, dict) else {}


def _entry_version(bundle: Path) -> str | None:
    """The Pagefind version that made a bundle, as its entry file says."""
    version = _entry(bundle).get("version")
    return None if version is None else str(version)


def _inodes(folder: Path) -> dict[str, int] | None:
    """Every file under `folder` with its inode (None when there is no such folder): two folders
    with the same answer hold the very same files."""
    found: dict[str, int] = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    inner = _inodes(Path(entry.path))
                    found.update({f"{entry.name}/{name}": inode for name, inode in (inner or {}).items()})
                else:
                    found[entry.name] = entry.inode()
    except OSError:
        return None
    return found


def _members(pages: list[str], language: str) -> str:
    """What a bundle was made from: its pages and the language, digested."""
    return key(language, *pages)


def _made(previous: Path) -> dict[str, str]:
    """The bundles the previous build made, by name, with the digest of what each holds."""
    try:
        listing = json.loads((previous / BUNDLES).read_text(encoding="utf-8"))
        made = listing["made"] if isinstance(listing, dict) else {}
    except (OSError, ValueError, KeyError):
        return {}
    return {str(k): str(v) for k, v in made.items()} if isinstance(made, dict) else {}


def remove_index(site: Path, keep: AbstractSet[str] = frozenset()) -> None:
    """Remove every bundle but `keep`, and the listing (a reused folder may hold a build's from before last)."""
    for old in [*site.glob("pagefind*"), site / BUNDLES]:
        if old.name in keep:
            continue
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def index_site(site: Path, previous: Path, changed: set[str] | None, settings: Settings, newest: list[str]) -> Indexing:
    """Start indexing the case pages of `site` (a folder about to be swapped in), bundle by bundle;
    the caller waits for it before the swap. `newest`: the newest case pages, newest first. A
    bundle the previous build made of the same pages, none of them in `changed` (None: everything
    is new) and by the same Pagefind as the bundles made now, is taken from `previous`."""
    pages = case_pages(site)
    groups = bundles(pages, newest) if pages else {}
    made = _made(previous) if changed is not None else {}
    digests = {name: _members(members, settings.language) for name, members in groups.items()}
    kept = [
        name
        for name, members in groups.items()
        if made.get(name) == digests[name]
        and (previous / name).is_dir()
        and changed is not None
        and changed.isdisjoint(members)
    ]
    # The folder may hold bundles of the build before last: the ones that are the kept bundles
    # themselves (the same files, linked) stay; unlinking and linking 1,000 files each costs 30 ms.
    remove_index(site, keep={name for name in kept if _inodes(site / name) == _inodes(previous / name)})
    indexing = Indexing(site, settings.language)
    if not pages:  # no case pages: Pagefind indexes every page, as it does on its own
        indexing.queue("pagefind", None)
    for name in groups:
        if name not in kept:
            indexing.queue(name, groups[name])
    try:
        indexing.next()  # the first bundle (after an edit, the only one) is made while the build collects its leaflets
        for name in kept:
            if not (site / name).exists():
                shutil.copytree(previous / name, site / name, copy_function=os.link)
        indexing.kept = {name: groups[name] for name in kept}
        merge = sorted(name for name in groups if name != "pagefind")
        listing = {"merge": merge, "made": digests, "newest": groups.get(NEWEST, [])}
        (site / BUNDLES).write_text(json.dumps(listing), encoding="utf-8")
    except BaseException:
        indexing.cancel()
        raise
    return indexing


class Indexing:
    """Pagefind's command line at work on one bundle after another, in a process of its own, so
    that the build goes on meanwhile. Threads are avoided on purpose: the leaflet workers are forked
    from this process, and a fork taken while a thread holds a lock may hang."""

    def __init__(self, site: Path, language: str) -> None:
        self.site, self.language = site, language
        self.waiting: list[tuple[str, list[str] | None]] = []
        self.kept: dict[str, list[str]] = {}
        self.made: list[str] = []
        self.running: tuple[subprocess.Popen[bytes], Path | None, IO[bytes]] | None = None

    def queue(self, name: str, pages: list[str] | None) -> None:
        """Index these pages (None: every page of the site) into bundle `name`, after those queued before."""
        self.waiting.append((name, pages))

    def next(self) -> bool:
        """Start the next bundle; False when none is left."""
        if not self.waiting:
            return False
        name, pages = self.waiting.pop(0)
        executable = _executable()  # before staging: nothing to clean up when Pagefind is missing
        folder = None if pages is None else _stage(self.site, pages)
        command = [
            str(executable),
            "--site",
            str(folder or self.site),
            "--output-path",
            str(self.site / name),
            "--force-language",
            self.language,  # one index for all languages: a Danish reader finds a Russian case
            "--silent",
        ]
        # What it says goes to a file, not a pipe: a pipe read only at the end could fill and stall it.
        said = tempfile.TemporaryFile()  # noqa: SIM115 - open until the process ends: closed by _release
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=said, stderr=subprocess.STDOUT)
        except BaseException as exc:
            _release(folder, said)
            if isinstance(exc, OSError):  # a wrong PAGEFIND_BINARY_PATH, a binary for another machine
                raise SearchError(f"Pagefind could not be started ({executable}): {exc}") from exc
            raise
        self.running = (process, folder, said)
        self.made.append(name)
        return True

    def _finish_running(self) -> None:
        assert self.running is not None
        process, folder, said = self.running
        process.wait()  # interrupted here, `running` still names it: cancel() stops it
        self.running = None
        said.seek(0)
        output = said.read().decode(errors="replace").strip()
        _release(folder, said)
        bundle = self.site / self.made[-1]
        if process.returncode != 0 or _page_count(bundle) is None:
            why = output or f"exit code {process.returncode}"
            raise SearchError(f"Pagefind could not index the pages of {bundle.name}/: {why}")

    def wait(self) -> None:
        """Wait for every bundle; raises SearchError when one could not be made."""
        try:
            while self.running is not None:
                self._finish_running()
                self.next()
            versions = {_entry_version(self.site / name) for name in self.made}
            for name, pages in self.kept.items():
                # Bundles made by another Pagefind are not merged with new ones: made again too.
                if versions and _entry_version(self.site / name) not in versions:
                    shutil.rmtree(self.site / name)
                    self.queue(name, pages)
            while self.next():
                self._finish_running()
        except BaseException:
            self.cancel()
            raise

    def cancel(self) -> None:
        """Stop Pagefind and remove what it was given (the build failed elsewhere)."""
        self.waiting.clear()
        if self.running is not None:
            process, folder, said = self.running
            self.running = None
            process.kill()
            process.wait()
            _release(folder, said)


def _release(folder: Path | None, said: IO[bytes]) -> None:
    """What a Pagefind run was given, gone: its staging folder and the file of what it said."""
    said.close()
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _executable() -> Path:
    from pagefind.service import get_executable  # the binary the pagefind package ships, or PAGEFIND_BINARY_PATH

    found = get_executable()
    if found is None:
        raise SearchError("Pagefind is not installed (pip install 'pagefind[bin]'), or use --no-search")
    return found


def _page_count(bundle: Path) -> int | None:
    """The pages a bundle holds, as its entry file says; None when there is no readable entry."""
    try:
        return sum(int(language["page_count"]) for language in _entry(bundle)["languages"].values())
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _stage(site: Path, pages: list[str]) -> Path:
    """A folder holding these pages alone, at their paths in the site (hard links), for Pagefind."""
    folder = Path(tempfile.mkdtemp(prefix=".pages-", dir=site.parent))
    try:
        for page in pages:
            if (site / page).exists():
                (folder / page).parent.mkdir(parents=True, exist_ok=True)
                os.link(site / page, folder / page)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder
