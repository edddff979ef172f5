"""CI builds from a fresh clone with the build cache restored, as the ready-made workflows do it:
every file of the clone has a new mtime and inode, and still nothing is parsed, rendered or laid
out again but what changed. Each build runs in a process of its own, as in CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from site_builder.build.shortcut import MOST
from site_builder.cli import main
from tests.conftest import ROOT, SAMPLE_CASES, case_text
from tests.test_archive import LEDGER, record

NOW = "2026-11-30"
BUILD = ["build", "--now", NOW, "--no-search", "-v"]
# The command line with every site page rendered logged to $RENDERED, one line per page, from this
# process and from the workers it forks (the log is opened for appending at each page).
COUNTING = """
import os, sys
from site_builder.website.pages import SiteRenderer
real = SiteRenderer._render_page
def counting(self, name, *args):
    with open(os.environ["RENDERED"], "a", encoding="utf-8") as log:
        log.write(name + "\\n")
    return real(self, name, *args)
SiteRenderer._render_page = counting
from site_builder.cli import run
run()
"""


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=CI", "-c", "user.email=ci@example.com", *args], cwd=cwd, check=True)


def _origin(folder: Path) -> Path:
    """A repository holding the sample cases and more, so that more than MOST files are there: a
    fresh clone changes every file's signature, more than the shortcut would parse."""
    shutil.copytree(SAMPLE_CASES, folder / "cases")
    shutil.copy(ROOT / "site.toml", folder / "site.toml")
    for i in range(MOST + 1 - len(list(SAMPLE_CASES.rglob("*.md")))):
        text = case_text(title=f"Room {i} was gone", date=f"2026-0{1 + i % 9}-{10 + i % 18}")
        (folder / "cases" / "en" / f"room-{i}.md").write_text(text, encoding="utf-8")
    _git("init", "-q", "-b", "main", cwd=folder)
    _git("add", "-A", cwd=folder)
    _git("commit", "-q", "-m", "cases", cwd=folder)
    return folder


def _clone(origin: Path, workspace: Path) -> Path:
    """A fresh clone at the workspace's path (GitHub's runner uses the same path on every run),
    its files' mtimes then set a day back, so that not one matches the last build's."""
    shutil.rmtree(workspace, ignore_errors=True)
    _git("clone", "-q", str(origin), str(workspace), cwd=origin.parent)
    past = time.time() - 86400
    for path in workspace.rglob("*"):
        if ".git" not in path.parts:
            os.utime(path, (past, past))
    return workspace


def _save(workspace: Path, archive: Path, *paths: str) -> None:
    """Keep `paths` as actions/cache does: one POSIX tar (mtimes to the nanosecond, hard links)."""
    subprocess.run(["tar", "--posix", "-cf", str(archive), "-P", "-C", str(workspace), *paths], check=True)


def _restore(workspace: Path, archive: Path) -> None:
    subprocess.run(["tar", "-xf", str(archive), "-P", "-C", str(workspace)], check=True)


def _build(workspace: Path, log: Path) -> tuple[str, list[str]]:
    """Build in a process of its own; its output, and the templates of the site pages it rendered."""
    log.unlink(missing_ok=True)
    log.touch()
    env = {**os.environ, "RENDERED": str(log), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", COUNTING, *BUILD], cwd=workspace, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, log.read_text(encoding="utf-8").splitlines()


def _laid_out(workspace: Path) -> set[str]:
    """The leaflet cache's files: each layout stores one under a new key."""
    return {p.name for p in (workspace / ".site-builder/cache/leaflets").rglob("*") if p.is_file()}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_fresh_clone_with_the_cache_restored_makes_nothing_again(tmp_path: Path) -> None:
    origin = _origin(tmp_path / "origin")
    workspace, log = tmp_path / "runner/work/project", tmp_path / "rendered"
    first = _clone(origin, workspace)
    output, rendered = _build(first, log)
    assert rendered and len(_laid_out(first)) > MOST
    built = _files(first / "dist")
    _save(first, tmp_path / "cache.tar", ".site-builder")
    _save(first, tmp_path / "with-dist.tar", ".site-builder", "dist")

    # The build cache alone (no dist/): the pages come from the spare the cache keeps, the
    # leaflets from their cache, and the plan is the shortcut's (no case parsed again).
    again = _clone(origin, workspace)
    _restore(again, tmp_path / "cache.tar")
    cached = _laid_out(again)
    output, rendered = _build(again, log)
    assert "Plan: from the last build: nothing changed" in output
    assert rendered == [] and _laid_out(again) == cached
    assert _files(again / "dist") == built

    # Then one case edited: its leaflet is the one layout.
    case = again / "cases/en/room-3.md"
    case.write_text(case.read_text(encoding="utf-8") + "\nWe wrote to say so the same day.\n", encoding="utf-8")
    output, rendered = _build(again, log)
    assert "Plan: from the last build: only the text of 1 case changed" in output
    assert len(_laid_out(again) - cached) == 1
    assert "case.html" in rendered and len(rendered) < 10, rendered

    # The workflows keep dist/ too: then nothing at all is written again.
    last = _clone(origin, workspace)
    _restore(last, tmp_path / "with-dist.tar")
    output, rendered = _build(last, log)
    assert "Plan: from the last build: nothing changed" in output
    assert rendered == [] and _laid_out(last) == cached
    written = [line for line in output.splitlines() if line.endswith("new or changed")]
    assert len(written) == 3 and all(line.endswith(" 0 new or changed") for line in written), output
    assert _files(last / "dist") == built


def test_a_pull_requests_build_publishes_the_archive_main_read(sample_project: Path) -> None:
    """A pull request's build has no send ledger (it holds addresses): with --archive-from-cache it
    publishes the digests main's last build read, kept in the cache, so nothing shows as changed."""
    record(sample_project / LEDGER, ("2026-10-01", "2026-11-05", "sent"))
    site = ("build", "--only", "site", "--no-search", "--now", NOW)
    assert CliRunner().invoke(main, site, catch_exceptions=False).exit_code == 0
    archive = sample_project / "dist/site/digests/2026-11-05/index.html"
    assert archive.is_file()
    (sample_project / LEDGER).unlink()
    pull_request = (*site, "--archive-from-cache", "--summary", "summary.md")
    result = CliRunner().invoke(main, pull_request, catch_exceptions=False)
    assert result.exit_code == 0 and archive.is_file()
    summary = (sample_project / "summary.md").read_text(encoding="utf-8")
    assert ": 0 added, 0 changed, 0 removed since the last build in the cache" in summary, summary
    # Without it, no ledger still means nothing was sent: no archive.
    assert CliRunner().invoke(main, site, catch_exceptions=False).exit_code == 0
    assert not archive.exists()
