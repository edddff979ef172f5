"""One build of a project at a time: a second `build` (or `serve`'s rebuild) waits for the first.

The lock is an advisory `flock` on a file in the project's state folder. The kernel lets go of it
when its holder ends, however it ends, so a killed build never leaves a lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from site_builder.problems import OutputError


def _holder(fd: int) -> int | None:
    """The pid the holder wrote into the lock file, if readable."""
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode("ascii").strip() or "x")
    return None


@contextlib.contextmanager
def project_lock(state: Path, waiting: Callable[[int | None], None]) -> Iterator[None]:
    """Hold the project's build lock; `waiting(pid)` is told once when another build holds it."""
    path = state / "build.lock"
    try:
        state.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the build lock ({exc.strerror}); check the folder") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting(_holder(fd))
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(fd)
