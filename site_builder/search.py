"""The search index: Pagefind reads the written site and adds pagefind/ beside it (no server needed)."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from site_builder.config import Settings


async def _index(site: Path, language: str) -> int:
    from pagefind.index import IndexConfig, PagefindIndex  # with asyncio, 20 ms to import: only when indexing

    # One index for all languages, so a Danish reader can find a Russian case and filter by language.
    config = IndexConfig(force_language=language, output_path=str(site / "pagefind"))
    # One folder at once: adding pages one by one costs a round trip to Pagefind each (100x slower).
    # Pagefind's file names are not the same from run to run, even for the same pages.
    async with PagefindIndex(config) as index:
        added = await index.add_directory(str(site))
        await index.write_files(output_path=str(site / "pagefind"))
    return int(added["page_count"])


def index_site(site: Path, previous: Path, changed: bool, settings: Settings) -> int:
    """Index the site in `site` (a folder about to be swapped in); reuse the previous index if no page changed."""
    old = previous / "pagefind"
    shutil.rmtree(site / "pagefind", ignore_errors=True)  # a reused folder may hold an older index
    if not changed and old.is_dir():
        shutil.copytree(old, site / "pagefind", copy_function=os.link)
        return 0
    import asyncio

    # A thread of its own: the caller may already run an event loop (a test browser, a preview server).
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _index(site, settings.language)).result()
