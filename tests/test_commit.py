"""The build's promises under faults: a build killed at any write or rename leaves each output whole,
the next run puts the three back together before anything else, and the build after equals a clean
one byte for byte; two builds at once; output folders that are not the tool's."""

from __future__ import annotations

import builtins
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from site_builder.build import swap
from site_builder.cli import main
from tests.conftest import case_text

OUTPUTS = ("site", "digest", "leaflets")
BUILD = ["build", "--now", "2026-04-01", "--since", "2026-03-01", "--until", "2026-03-31", "--jobs", "1"]
CONFIG = 'search = false\n[leaflet]\nsize = "A6"\n'
Tree = dict[str, bytes]


def _tree(folder: Path) -> Tree:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _outputs(out: Path) -> dict[str, Tree | None]:
    return {name: _tree(out / name) if (out / name).is_dir() else None for name in OUTPUTS}


def _build(*extra: str) -> None:
    result = CliRunner().invoke(main, [*BUILD, *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _write(name: str, text: str) -> None:
    path = Path("cases") / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _state_a() -> None:
    for day in range(1, 5):
        _write(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-0{day}"))


def _state_b() -> None:
    """From A: an edit, a deletion and an addition, so that every output changes."""
    _write("c1.md", case_text(title="Case 1", date="2026-03-01", word="quickly"))
    Path("cases/c4.md").unlink()
    _write("c5.md", case_text(title="Case 5", date="2026-03-05"))


def _state_c() -> None:
    _write("c2.md", case_text(title="Case 2 retold", date="2026-03-02"))


def _counting_writes(root: str, kill_at: int) -> None:
    """In this (forked) process, count every write and rename under `root`; be killed at the
    `kill_at`-th. Files are killed right after being opened for writing (so they are left empty),
    renames, links and deletions right before they happen."""
    seen = 0

    def step(*paths: Any, after: bool = False) -> Callable[[], None]:
        nonlocal seen
        inside = any(isinstance(p, str | bytes | os.PathLike) and os.fsdecode(p).startswith(root) for p in paths)
        if inside or not paths:
            seen += 1
            if seen == kill_at:
                if not after:
                    os.kill(os.getpid(), signal.SIGKILL)
                return lambda: os.kill(os.getpid(), signal.SIGKILL)
        return lambda: None

    def before(original: Callable[..., Any], count: int) -> Callable[..., Any]:
        def patched(*args: Any, **kwargs: Any) -> Any:
            relative = "dir_fd" in kwargs or "src_dir_fd" in kwargs  # rmtree's: inside what it deletes
            step(*(() if relative else args[:count]))
            return original(*args, **kwargs)

        return patched

    for name, count in (("rename", 2), ("replace", 2), ("link", 2), ("unlink", 1), ("rmdir", 1), ("mkdir", 1)):
        setattr(os, name, before(getattr(os, name), count))
    swap.exchange = before(swap.exchange, 2)
    real_open, real_os_open = io.open, os.open

    def opened(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        if any(flag in mode for flag in "wax+"):
            step(file, after=True)()
        return handle

    def os_opened(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_os_open(path, flags, *args, **kwargs)
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            step(os.path.join(os.getcwd(), path), after=True)()
        return fd

    io.open = builtins.open = opened
    os.open = os_opened


def _killed_build(root: Path, kill_at: int) -> bool:
    """Build B in a forked process killed at its `kill_at`-th write; True when it was killed."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            _counting_writes(str(root), kill_at)
            CliRunner().invoke(main, BUILD)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status)


@contextmanager
def _inside(folder: Path) -> Iterator[None]:
    here = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(here)


def _clean_outputs(work: Path, states: list[Callable[[], None]]) -> tuple[dict[str, Tree | None], Path]:
    """The outputs of a clean build of the states applied in turn (built at `work`, so every key
    and cached leaflet is the same as in the real sequence), and its leaflet cache."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "cases").mkdir(parents=True)
    (work / "site.toml").write_text(CONFIG, encoding="utf-8")
    with _inside(work):
        for state in states:
            state()
        _build()
    return _outputs(work / "dist"), work / ".site-builder/cache/leaflets"


def test_a_build_killed_at_every_write_and_rename_heals(tmp_path: Path) -> None:
    work = tmp_path / "project"
    outputs_b, leaflets_b = _clean_outputs(work, [_state_a, _state_b])
    shutil.copytree(leaflets_b, tmp_path / "leaflets")
    outputs_c, leaflets_c = _clean_outputs(work, [_state_a, _state_b, _state_c])
    shutil.copytree(leaflets_c, tmp_path / "leaflets", dirs_exist_ok=True)
    # Build A for real, then keep that project (outputs, spare, manifests, caches) to start from.
    outputs_a, _ = _clean_outputs(work, [_state_a])
    shutil.copytree(tmp_path / "leaflets", work / ".site-builder/cache/leaflets", dirs_exist_ok=True)
    pristine = tmp_path / "after-a"
    shutil.copytree(work, pristine, symlinks=True)
    assert outputs_a != outputs_b and all(outputs_a[n] != outputs_b[n] for n in OUTPUTS)

    kills = 0
    for kill_at in range(1, 1000):
        shutil.rmtree(work)
        shutil.copytree(pristine, work, symlinks=True)
        with _inside(work):
            _state_b()
            if not _killed_build(work, kill_at):
                break  # the build got through: every step has had its kill
            kills += 1
            out = work / "dist"
            found = _outputs(out)
            for name in OUTPUTS:  # each output is one build's, whole
                assert found[name] in (outputs_a[name], outputs_b[name]), f"kill {kill_at}: {name} is mixed"
            swap.claim(out, Path("cases"), Path(".site-builder/cache"))  # what the next run does first
            together = _outputs(out)
            assert together in (outputs_a, outputs_b), f"kill {kill_at}: outputs of two builds side by side"
            _build()
            assert _outputs(out) == outputs_b, f"kill {kill_at}: the next build differs from a clean one"
            assert sorted(p.name for p in out.iterdir()) == [swap.AREA, *sorted(OUTPUTS)]
            assert not list((out / swap.AREA).iterdir()), f"kill {kill_at}: staging left behind"
            # Nothing comes back: the builds after it (each refreshing the spare the one before left)
            # equal clean builds too.
            _state_c()
            _build()
            assert _outputs(out) == outputs_c, f"kill {kill_at}: the build after differs from a clean one"
            _build()
            assert _outputs(out) == outputs_c, f"kill {kill_at}: the second build after differs"
    assert kills > 30, f"only {kills} steps were killed: the harness is not seeing the writes"


def test_two_builds_at_once_make_one_whole_output(project: Path, write_case: Callable[..., Path]) -> None:
    for day in range(1, 4):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-0{day}"))
    (project / "site.toml").write_text(CONFIG, encoding="utf-8")
    command = [sys.executable, "-m", "site_builder", *BUILD]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(3)]
    outputs = [run.communicate(timeout=120)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert all("Traceback" not in output for output in outputs)
    assert any("another build of this project is running (pid " in output for output in outputs), outputs
    built = _outputs(project / "dist")
    shutil.rmtree(project / "dist")
    shutil.rmtree(project / ".site-builder")
    _build()
    assert _outputs(project / "dist") == built


def test_a_build_waits_for_the_lock_and_says_who_holds_it(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("c1.md", case_text(title="Case 1", date="2026-03-01"))
    (project / "site.toml").write_text(CONFIG, encoding="utf-8")
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; from pathlib import Path;"
            "p = Path('.site-builder/cache'); p.mkdir(parents=True, exist_ok=True);"
            "fd = os.open(p / 'build.lock', os.O_RDWR | os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_EX);"
            "os.write(fd, b'4242\\n'); print('held', flush=True); time.sleep(2)",
        ],
        stdout=subprocess.PIPE,
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        started = time.monotonic()
        result = CliRunner().invoke(main, [*BUILD, "--only", "site"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "another build of this project is running (pid 4242); waiting for it" in result.output
        assert time.monotonic() - started > 0.5  # it did wait


@pytest.mark.parametrize("name", OUTPUTS)
def test_an_output_folder_not_made_by_the_tool_is_refused(
    project: Path, write_case: Callable[..., Path], name: str
) -> None:
    write_case("c1.md", case_text(title="Case 1", date="2026-03-01"))
    mine = project / "dist" / name
    mine.mkdir(parents=True)
    (mine / "precious.txt").write_text("the user's", encoding="utf-8")
    result = CliRunner().invoke(main, [*BUILD], catch_exceptions=False)
    assert result.exit_code == 2
    assert f"{mine}: already there and not made by site-builder" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in (project / "dist").iterdir()) == [name]
    assert _tree(mine) == {"precious.txt": b"the user's"}


def test_an_output_folder_that_is_a_link_is_refused(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("c1.md", case_text(title="Case 1", date="2026-03-01"))
    _build("--only", "site")
    web_root = project / "www"
    web_root.mkdir()
    (web_root / "index.html").write_text("live site", encoding="utf-8")
    shutil.rmtree(project / "dist/site")
    (project / "dist/site").symlink_to(web_root)
    result = CliRunner().invoke(main, [*BUILD, "--only", "site"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "dist/site: a symbolic link (to " in result.output and "rsync" in result.output
    assert (project / "dist/site").is_symlink() and _tree(web_root) == {"index.html": b"live site"}


def test_out_overlapping_the_cases_is_refused(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("c1.md", case_text(title="Case 1", date="2026-03-01"))
    before = _tree(project / "cases")
    result = CliRunner().invoke(main, [*BUILD, "--out", "cases"], catch_exceptions=False)
    assert result.exit_code == 2 and "overlaps the cases folder" in result.output
    assert _tree(project / "cases") == before


def test_staging_stays_inside_the_output_and_leftovers_go(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("c1.md", case_text(title="Case 1", date="2026-03-01"))
    _build("--only", "site")
    left = project / "dist" / swap.AREA / "staging-killed"
    (left / "site").mkdir(parents=True)
    old_style = project / ".dist-build-abcd1234"  # what versions before this one left beside the output
    (old_style / "site").mkdir(parents=True)
    unrelated = project / ".dist-build-notours"
    unrelated.mkdir()
    _build("--only", "site")
    assert not left.exists() and not old_style.exists() and unrelated.exists()
