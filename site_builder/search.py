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


def _version() -> str:
    from importlib.metadata import version

    return version("pagefind")


def _listed(site: Path) -> dict[str, object]:
    try:
        listed = json.loads((site / BUNDLES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return listed if isinstance(listed, dict) else {}


def index_site(site: Path, previous: Path, changed: set[str] | None, settings: Settings) -> int:
    """Index the case pages of `site` (a folder about to be swapped in), bundle by bundle; a bundle
    whose pages are those of `previous` and none of them `changed` is taken from there (changed
    None: everything is new). Returns the pages indexed."""
    for old in [*site.glob("pagefind*"), site / BUNDLES]:  # a reused folder may hold older bundles
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    pages = case_pages(site)
    if not pages:  # no case pages: Pagefind indexes every page, as it does on its own
        return _run(site, site / "pagefind", settings.language)
    groups = bundles(pages)
    # Bundles made by another Pagefind are not merged with new ones: all are made again.
    reuse = changed is not None and previous.is_dir() and _listed(previous).get("pagefind") == _version()
    before = bundles(case_pages(previous)) if reuse else {}
    indexed = 0
    for name, members in groups.items():
        kept = before.get(name) == members and (previous / name).is_dir()
        if kept and changed is not None and changed.isdisjoint(members):
            shutil.copytree(previous / name, site / name, copy_function=os.link)
            continue
        with tempfile.TemporaryDirectory(prefix=".pages-", dir=site.parent) as folder:
            for page in members:  # the bundle's pages alone, at their paths in the site: links, not copies
                if (site / page).exists():
                    (Path(folder) / page).parent.mkdir(parents=True, exist_ok=True)
                    os.link(site / page, Path(folder) / page)
            indexed += _run(Path(folder), site / name, settings.language)
    listing = {"pagefind": _version(), "merge": sorted(name for name in groups if name != "pagefind")}
    (site / BUNDLES).write_text(json.dumps(listing), encoding="utf-8")
    return indexed


def _run(pages: Path, output: Path, language: str) -> int:
    import asyncio

    # A thread of its own: the caller may already run an event loop (a test browser, a preview server).
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _index(pages, output, language)).result()
