"""The only code that changes how this Python process behaves: the garbage collector's pace, a
quick exit, and a faster WeasyPrint import. Everything else leaves process state alone."""

from __future__ import annotations

import atexit
import contextlib
import gc
import io
import os
import sys
import threading
from typing import Any, NoReturn

_PYTHONS_PACE = (700, 10, 10)


def collect_for_a_build() -> None:
    """A build allocates hundreds of thousands of objects that mostly live until it ends; the default
    collector walks them all again and again (a fifth of a 10,000-case rebuild)."""
    gc.set_threshold(100_000, 50, 100)


def collect_at_pythons_pace() -> None:
    """Back to Python's own pace, for work that leaves cyclic garbage (WeasyPrint's boxes point to
    their parents: 100 MB more per layout worker at the build's pace)."""
    gc.set_threshold(*_PYTHONS_PACE)


def exit_quickly(code: str | int | None) -> NoReturn:
    """End the process with `code` without tearing down every object: a build of 10,000 cases
    leaves a million, which the interpreter's teardown frees one by one (0.15 s for nothing). The
    exit handlers still run (workers, temporary folders) and the output is flushed."""
    if not isinstance(code, int | None) or threading.active_count() > 1 or sys.getprofile() or sys.gettrace():
        sys.exit(code)  # a message to print, threads to wait for, a profiler to report: the usual way
    atexit._run_exitfuncs()
    with contextlib.suppress(BrokenPipeError):  # output piped into `head`, say
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code or 0)


def _not_searched(name: str) -> None:
    return None


def import_weasyprint() -> Any:
    """`import weasyprint`, without the dozens of subprocesses its library lookup starts on Linux."""
    if "weasyprint" in sys.modules:
        return sys.modules["weasyprint"]
    if sys.platform.startswith("linux"):
        import ctypes.util

        # WeasyPrint tries several names for each library (pango-1.0, libpango-1.0-0, ... and last
        # the Linux soname, libpango-1.0.so.0). cffi sends every name that fails to load to
        # ctypes.util.find_library, which runs ldconfig, gcc and ld each time: 54 processes, a
        # quarter of a second per import, paid again by every worker. The soname alone is found by
        # the dynamic loader on its own, so the search adds nothing there; where it would (a
        # library only a linker path knows), the import fails and is done again the usual way.
        searching = ctypes.util.find_library
        ctypes.util.find_library = _not_searched
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # its "could not import" advice, if it fails
                import weasyprint

            return weasyprint
        except OSError:
            for name in [name for name in sys.modules if name == "weasyprint" or name.startswith("weasyprint.")]:
                del sys.modules[name]
        finally:
            ctypes.util.find_library = searching
    import weasyprint

    return weasyprint
