"""Worker processes for parsing and rendering: forked, so they inherit what the parent has loaded."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

T = TypeVar("T")

# Set in a worker only, by its pool's initializer: the parent's module state is never touched, so
# nothing here is shared between a parent and the workers it forks, or between two pools.
_calls: Sequence[Callable[[], object]] = ()


def fork_pool(workers: int, calls: list[Callable[[], T]] | None = None) -> ProcessPoolExecutor:
    """A pool of `workers` forked processes (imported on first use: a rebuild that parses and
    renders little never starts one, and should not pay for importing multiprocessing). `calls`
    are handed to each worker as it starts, for `call_all`."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    if calls is None:
        return ProcessPoolExecutor(max_workers=workers, mp_context=context)
    # With fork, initargs reach the worker as the parent's objects, unpickled: functions and all.
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_adopt, initargs=(calls,))


def _adopt(calls: Sequence[Callable[[], object]]) -> None:
    global _calls
    _calls = calls


def _call(index: int) -> object:
    return _calls[index]()


def call_all(calls: list[Callable[[], T]], workers: int) -> Iterator[T]:
    """Each of `calls` called in `workers` forked processes, results in order, streamed back one
    by one so memory stays flat."""
    chunk = max(1, min(16, len(calls) // (workers * 8)))
    with fork_pool(workers, calls) as pool:
        yield from pool.map(_call, range(len(calls)), chunksize=chunk)  # type: ignore[misc]
