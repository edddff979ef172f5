"""The world's faults through the real command line: one plain line naming the file and what to do,
exit 1 or 2, no traceback, and the previous output byte for byte as it was.

Real faults, no mocks: a read-only tmpfs, a full tmpfs, names over 255 bytes, symbolic links that
loop or point out, a wrong placeholder in site.toml, a file that is not a send ledger. Mounting needs
root, which CI has; elsewhere these tests fail saying so rather than pass without looking.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SITE = ("--only", "site", "--no-search", "--now", "2026-12-01")
DIGEST = ("--since", "2026-06-01", "--until", "2026-12-01")
# An exception's class name in the output means a traceback or a raw exception text reached the user.
PYTHON_TALK = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception)\b")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """site-builder as a user runs it, in the current folder; a hang fails the test."""
    return subprocess.run(
        [sys.executable, "-m", "site_builder", *args], capture_output=True, text=True, timeout=120, check=False
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line(result: subprocess.CompletedProcess[str], code: int, *naming: str) -> str:
    """Checks the exit code, that no Python reached the user, and that exactly one line names the
    file (every text of `naming` on it); returns that line."""
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert not PYTHON_TALK.search(output), output
    lines = [line for line in output.splitlines() if naming[0] in line]
    assert len(lines) == 1, output
    for text in naming:
        assert text in lines[0], output
    return lines[0]


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of `size` mounted at `where` for the length of the block."""
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if done.returncode:
        pytest.fail(f"these tests mount a tmpfs and need root (CI runs as root): {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def touch_a_case(project: Path) -> None:
    """An edit, so that the next build has a page to write."""
    path = project / "cases/en/cleaning-missed-office.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")


def test_read_only_output(sample_project: Path) -> None:
    with tmpfs(sample_project / "mnt", "20m") as mnt:
        out = mnt / "dist"
        assert run("build", *SITE, "--out", str(out)).returncode == 0
        assert run("digest", *DIGEST, "--out", str(out)).returncode == 0
        before = snapshot(mnt)
        touch_a_case(sample_project)
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        for command in (("build", *SITE), ("digest", *DIGEST)):
            result = run(*command, "--out", str(out))
            line = one_line(result, 1, str(mnt), "read-only", "the previous output is unchanged")
            assert len((result.stdout + result.stderr).splitlines()) == 1, line
        assert snapshot(mnt) == before


def test_disk_full(sample_project: Path) -> None:
    with tmpfs(sample_project / "mnt", "6m") as mnt:  # the site with its cards, about 3.3 MB
        out = mnt / "dist"
        assert run("build", *SITE, "--out", str(out)).returncode == 0
        with (mnt / "filler").open("wb", buffering=0) as filler:  # every block the tmpfs has left
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError:
                pass
        before = snapshot(out)
        touch_a_case(sample_project)
        result = run("build", *SITE, "--out", str(out))
        line = one_line(result, 1, str(out), "no space left on device", "free some space")
        assert "the previous output is unchanged" in line
        assert len((result.stdout + result.stderr).splitlines()) == 1, line
        assert snapshot(out) == before
        assert sorted(p.name for p in mnt.iterdir()) == ["dist", "filler"]  # no staging folder left behind


def test_send_outbox_on_a_read_only_disk(sample_project: Path) -> None:
    (sample_project / "people.csv").write_text("email,name,language,segments\nanna@example.com,Anna,en,\n")
    with tmpfs(sample_project / "mnt", "1m") as mnt:
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        result = run("send", "--recipients", "people.csv", *DIGEST, "--dry-run", str(mnt / "outbox"))
        one_line(result, 1, str(mnt / "outbox"), "read-only", "nothing was sent")


def test_slug_too_long_for_a_file_name(sample_project: Path) -> None:
    assert run("build", *SITE).returncode == 0
    before = snapshot(sample_project / "dist")
    path = sample_project / "cases/en/cleaning-missed-office.md"
    slug = "-".join(["longword"] * 30)  # 269 characters: cases/<slug>/ could be made, <slug>.pdf not
    path.write_text(path.read_text(encoding="utf-8").replace("---\n", f"---\nslug: {slug}\n", 1), encoding="utf-8")
    line = one_line(run("build", *SITE), 1, "cases/en/cleaning-missed-office.md:2: slug:", "269", "251")
    assert "nothing was built" not in line
    assert snapshot(sample_project / "dist") == before


def test_file_name_making_a_slug_too_long(sample_project: Path) -> None:
    assert run("build", *SITE).returncode == 0
    before = snapshot(sample_project / "dist")
    source = sample_project / "cases/ru/gostinitsa-konferents-zal.md"
    long_name = "щ" * 125 + ".md"  # 253 bytes, a name the disk takes; its slug 'shchshch...' has 500 letters
    source.rename(source.with_name(long_name))
    one_line(run("build", *SITE), 1, f"cases/ru/{long_name}: slug:", "500", "251", "rename the file")
    assert snapshot(sample_project / "dist") == before


def test_output_folder_name_too_long(sample_project: Path) -> None:
    assert run("build", *SITE).returncode == 0
    before = snapshot(sample_project / "dist")
    out = "x" * 300
    result = run("build", *SITE, "--out", out)
    one_line(result, 1, out, "file name too long", "choose a shorter path")
    assert snapshot(sample_project / "dist") == before


def test_new_with_a_title_too_long_for_a_file_name(sample_project: Path) -> None:
    before = snapshot(sample_project / "cases")
    result = run("new", " ".join(["Longword"] * 30))
    assert result.returncode == 0, result.stderr
    (added,) = set(snapshot(sample_project / "cases")) - set(before)
    assert added == "longword-longword-longword-longword-longword-longword.md"


@pytest.mark.parametrize(
    ("links", "shown", "what"),
    [
        ({"loop": "loop"}, "cases/loop", "loops"),
        ({"a": "b", "b": "a"}, "cases/b", "loops"),
        ({"en/again": ".."}, "cases/en/again", "loops"),
        ({"en/deep": "../en/deep"}, "cases/en/deep", "loops"),
    ],
    ids=["self", "a-b-a", "to-a-parent", "self-by-a-path"],
)  # links that point outside cases/ are warnings: test_hostile_input.py
def test_symbolic_link_loops_under_cases(sample_project: Path, links: dict[str, str], shown: str, what: str) -> None:
    assert run("build", *SITE).returncode == 0
    before = snapshot(sample_project / "dist")
    for name, target in links.items():
        os.symlink(target, sample_project / "cases" / name)
    for command in ("check", "build"):
        args = (command, *SITE) if command == "build" else (command,)
        line = one_line(run(*args), 1, f"{shown}:", what, "not read")
        assert "a case file" in line or "remove the link" in line
    assert snapshot(sample_project / "dist") == before


def test_strings_override_with_a_wrong_placeholder(sample_project: Path) -> None:
    assert run("build", *SITE).returncode == 0
    before = snapshot(sample_project / "dist")
    with (sample_project / "site.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[strings.en]\nresolved_in = "Fixed in {dayz}"\n')
    result = run("build", *SITE)
    line = one_line(result, 2, "site.toml", "strings.en.resolved_in", "{dayz}", "{duration}")
    assert len((result.stdout + result.stderr).splitlines()) == 1, line
    assert snapshot(sample_project / "dist") == before


def test_strings_override_with_a_positional_placeholder(sample_project: Path) -> None:
    with (sample_project / "site.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[strings.da]\npage_of = "Side {} af {pages}"\n')
    one_line(run("check"), 2, "site.toml", "strings.da.page_of", "{}", "{page}, {pages}")


@pytest.fixture
def foreign_ledger(sample_project: Path) -> Callable[[bytes], Path]:
    """Puts a file that is not a send ledger where the ledger belongs."""

    def put(data: bytes) -> Path:
        path = sample_project / ".site-builder/sent.sqlite"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    return put


def test_a_build_only_looks_at_a_file_that_is_not_a_ledger(
    sample_project: Path, foreign_ledger: Callable[[bytes], Path]
) -> None:
    # The site reads the ledger for its archive of digests sent: a file that is not one is a
    # warning naming it, never a failed build, and stays as it was.
    assert run("build", *SITE).returncode == 0
    ledger = foreign_ledger(b"garbage\n")
    touch_a_case(sample_project)
    line = one_line(run("build", *SITE), 0, ".site-builder/sent.sqlite", "is not a send ledger", "no archive")
    assert line.startswith("warning: ")
    assert ledger.read_bytes() == b"garbage\n"
    assert sorted(p.name for p in ledger.parent.glob("sent*")) == ["sent.sqlite"]
    assert not (sample_project / "dist/site/digests").exists()
    # A whole build too (the digest's first day comes from the ledger: the last 30 days instead).
    one_line(run("build", "--now", "2026-12-01", "--no-search", "--jobs", "1"), 0, "sent.sqlite", "no archive")
    assert (sample_project / "dist/digest/digest-2026-12-01.html").is_file()
    assert ledger.read_bytes() == b"garbage\n"
    # Leaflets alone never open it.
    result = run("build", "--only", "leaflets", "--jobs", "1")
    assert result.returncode == 0 and "sent.sqlite" not in result.stdout + result.stderr, result.stderr


def test_digest_with_a_file_that_is_not_a_ledger(sample_project: Path, foreign_ledger: Callable[[bytes], Path]) -> None:
    assert run("digest", *DIGEST).returncode == 0
    before = snapshot(sample_project / "dist")
    ledger = foreign_ledger(b"garbage\n")
    result = run("digest", "--until", "2026-12-01")
    line = one_line(result, 2, ".site-builder/sent.sqlite", "is not a send ledger", "move it away", "--ledger")
    assert line.startswith("Ledger error: ")
    assert ledger.read_bytes() == b"garbage\n"
    assert snapshot(sample_project / "dist") == before


def test_another_programs_database_is_left_as_it_was(
    sample_project: Path, foreign_ledger: Callable[[bytes], Path]
) -> None:
    path = foreign_ledger(b"")
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER)")
    db.close()
    data = path.read_bytes()
    result = run("digest", "--until", "2026-12-01")
    one_line(result, 2, ".site-builder/sent.sqlite", "is not a send ledger", "move it away")
    (sample_project / "people.csv").write_text("email,name,language,segments\nanna@example.com,Anna,en,\n")
    result = run("send", "--recipients", "people.csv", "--until", "2026-12-01", "--ledger", str(path))
    one_line(result, 2, "sent.sqlite", "is not a send ledger", "nothing was sent")
    assert path.read_bytes() == data
