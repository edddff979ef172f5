"""The search index: Pagefind reads the written case pages and adds its bundles beside them (no server needed).

Pagefind has no incremental mode: it indexes every page it is given, 10,000 case pages in 15 s.
So a big site gets several bundles (`pagefind/`, `pagefind-1/`, ...), each holding the case pages
whose path falls into it, and a build indexes again only the bundles whose pages changed; the
search box merges them in the browser (Pagefind's `mergeIndex`, listed in `pagefind-bundles.json`).
A site of fewer than 2 * SHARD case pages has one bundle, `pagefind/`, as Pagefind makes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from site_builder.config import Settings

SHARD = 1000  # case pages per bundle, about: an edit re-indexes about this many pages
BUNDLES = "pagefind-bundles.json"  # the bundles the search box merges into the first one


async def _index(pages: Path, output: Path, language: str) -> int:
    from pagefind.index import IndexConfig, PagefindIndex  # with asyncio, 20 ms to import: only when indexing

    # One index for all languages, so a Danish reader can find a Russian case and filter by language.
    config = IndexConfig(force_language=language, output_path=str(output))
    # One folder at once: adding pages one by one costs a round trip to Pagefind each (100x slower).
    # Pagefind's file names are not the same from run to run, even for the same pages.
    async with PagefindIndex(config) as index:
        added = await index.add_directory(str(pages))
        await index.write_files(output_path=str(output))
    return int(added["page_count"])


def case_pages(site: Path) -> list[str]:
    """The pages the search indexes: one per case (cases/<slug>/index.html), as paths inside the site."""
    try:
        with os.scandir(site / "cases") as entries:  # 10,000 folders: no stat each, unlike a glob
            return sorted(f"cases/{entry.name}/index.html" for entry in entries if entry.is_dir())
    except OSError:
        return []


def bundles(pages: list[str]) -> dict[str, list[str]]:
    """Which bundle holds each page: by a digest of its path, so that a page stays in its bundle."""
    count = max(1, len(pages) // SHARD)
    found: dict[str, list[str]] = {}
    for page in pages:
        number = int.from_bytes(hashlib.blake2b(page.encode(), digest_size=4).digest(), "big") % count
        found.setdefault("pagefind" if number == 0 else f"pagefind-{number}", []).append(page)
    return found


def _entry_version(bundle: Path) -> str | None:
    """The Pagefind version that made a bundle, as its entry file says."""
    try:
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(entry.get("version")) if isinstance(entry, dict) else None


def _members(pages: list[str], language: str) -> str:
    """What a bundle was made from: its pages and the language, digested."""
    return hashlib.blake2b("\n".join([language, *pages]).encode(), digest_size=16).hexdigest()


def _made(previous: Path) -> dict[str, str]:
    """The bundles the previous build made, by name, with the digest of what each holds."""
    try:
        listing = json.loads((previous / BUNDLES).read_text(encoding="utf-8"))
        made = listing["made"] if isinstance(listing, dict) else {}
    except (OSError, ValueError, KeyError):
        return {}
    return {str(k): str(v) for k, v in made.items()} if isinstance(made, dict) else {}


def remove_index(site: Path) -> None:
    """Remove every bundle and the listing (a reused folder may hold a build's from before last)."""
    for old in [*site.glob("pagefind*"), site / BUNDLES]:
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def index_site(site: Path, previous: Path, changed: set[str] | None, settings: Settings) -> int:
    """Index the case pages of `site` (a folder about to be swapped in), bundle by bundle. A bundle
    the previous build made of the same pages, none of them in `changed` (None: everything is new)
    and by the same Pagefind as the bundles made now, is taken from `previous`. Returns the pages indexed."""
    remove_index(site)
    pages = case_pages(site)
    groups = bundles(pages) if pages else {}
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
    indexed = 0
    if not pages:  # no case pages: Pagefind indexes every page, as it does on its own
        indexed = _run(site, site / "pagefind", settings.language)
    for name in [name for name in groups if name not in kept]:
        indexed += _index_pages(site, groups[name], site / name, settings.language)
    made_now = {_entry_version(site / name) for name in groups if name not in kept}
    for name in kept:
        # Bundles made by another Pagefind are not merged with new ones: made again too.
        if made_now and _entry_version(previous / name) not in made_now:
            indexed += _index_pages(site, groups[name], site / name, settings.language)
        else:
            shutil.copytree(previous / name, site / name, copy_function=os.link)
    listing = {"merge": sorted(name for name in groups if name != "pagefind"), "made": digests}
    (site / BUNDLES).write_text(json.dumps(listing), encoding="utf-8")
    return indexed


def _index_pages(site: Path, pages: list[str], output: Path, language: str) -> int:
    """One bundle: Pagefind run over these pages alone, at their paths in the site (hard links)."""
    with tempfile.TemporaryDirectory(prefix=".pages-", dir=site.parent) as folder:
        for page in pages:
            if (site / page).exists():
                (Path(folder) / page).parent.mkdir(parents=True, exist_ok=True)
                os.link(site / page, Path(folder) / page)
        return _run(Path(folder), output, language)


def _run(pages: Path, output: Path, language: str) -> int:
    import asyncio

    # A thread of its own: the caller may already run an event loop (a test browser, a preview server).
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _index(pages, output, language)).result()
