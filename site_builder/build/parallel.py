"""Worker processes for parsing and rendering: forked, so they inherit what the parent has loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor


def fork_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` forked processes (imported on first use: a rebuild that parses and
    renders little never starts one, and should not pay for importing multiprocessing)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
