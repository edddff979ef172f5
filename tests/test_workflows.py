"""The ready-made GitHub workflows parse, call only commands that exist, and their steps run here."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder.cli import main
from site_builder.digest.ledger import Ledger
from site_builder.digest.period import Period
from tests.conftest import ROOT, case_text

WORKFLOWS = ROOT / ".github/workflows"


def load(name: str) -> dict[Any, Any]:
    """A workflow file as data."""
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps(name: str) -> dict[str, str]:
    """Step name -> its run script, for every step that runs a script."""
    found = {}
    for job in load(name)["jobs"].values():
        for step in job.get("steps", []):
            if "run" in step:
                found[step["name"]] = step["run"]
    return found


def run_step(script: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a step's script with bash, with this environment's site-builder on PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, "PATH": path, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("name", ["pull-request.yml", "publish.yml", "digest.yml"])
def test_workflow_parses_and_calls_existing_commands(name: str) -> None:
    data = load(name)
    assert data["jobs"] and (data.get("on") or data.get(True))  # YAML 1.1 reads a bare `on` as True
    commands = set(main.commands)
    for script in steps(name).values():
        for command in re.findall(r"(?<![\w./-])site-builder ([a-z][\w-]*)", script):
            assert command in commands, f"{name}: site-builder {command} does not exist"
            options = {o for p in main.commands[command].params for o in p.opts}
            used = re.findall(r"(--[a-z][a-z-]+)", script.split(f"site-builder {command}", 1)[1].split("\n", 1)[0])
            assert set(used) <= options, f"{name}: {set(used) - options}"


FAKE_GH = """#!/bin/sh
# gh as the publish workflow uses it: the runs of digest.yml are the folders of $ARTIFACTS (newest:
# highest number), each holding its send-ledger artifact or not.
echo "$*" >> "$ARTIFACTS/calls"
case "$1 $2" in
  "run list") ls "$ARTIFACTS" | grep -v calls | sort -rn ;;
  "run download") [ -f "$ARTIFACTS/$3/sent.sqlite" ] && mkdir -p "$7" && cp "$ARTIFACTS/$3/sent.sqlite" "$7/" ;;
  *) exit 2 ;;
esac
"""


def fake_gh(folder: Path, artifacts: Path) -> dict[str, str]:
    """The environment of a step that finds the fake gh first on its PATH, serving `artifacts`."""
    (folder / "gh").write_text(FAKE_GH, encoding="utf-8")
    (folder / "gh").chmod(0o755)
    artifacts.mkdir(exist_ok=True)
    path = os.pathsep.join((str(folder), str(Path(sys.executable).parent), os.environ["PATH"]))
    return {"PATH": path, "ARTIFACTS": str(artifacts)}


def test_pull_request_and_publish_steps_run(sample_project: Path, tmp_path: Path) -> None:
    # The digest's runs: 303 ended before it kept a ledger, 302 kept the newest (a digest sent until
    # 5 November), 301 an older one. Publishing reads 302's and publishes that digest's web copy.
    artifacts = tmp_path / "artifacts"
    for run, sent in (("303", None), ("302", ("2026-10-01", "2026-11-05")), ("301", ("2026-07-01", "2026-07-31"))):
        (artifacts / run).mkdir(parents=True)
        if sent:
            with Ledger(artifacts / run / "sent.sqlite") as store:
                period = Period(dt.date.fromisoformat(sent[0]), dt.date.fromisoformat(sent[1]))
                store.claim(period.key, "anna@example.com", "<1@x>", period.until)
                store.mark_sent(period.key, "anna@example.com", [])
    env = {**fake_gh(tmp_path, artifacts), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    for name in ("pull-request.yml", "publish.yml"):
        for step, script in steps(name).items():
            if step == "Install":
                continue
            result = run_step(script, sample_project, env)
            assert result.returncode == 0, f"{name} / {step}:\n{result.stdout}\n{result.stderr}"
    assert (sample_project / "dist/site/index.html").is_file()
    assert "run list --workflow digest.yml" in (artifacts / "calls").read_text(encoding="utf-8")
    ledger = sample_project / ".site-builder/sent.sqlite"
    assert ledger.read_bytes() == (artifacts / "302/sent.sqlite").read_bytes()
    assert not ledger.stat().st_mode & 0o222, "fetched read-only"
    site = sample_project / "dist/site"
    assert (site / "digests/2026-11-05/index.html").is_file() and (site / "ru/digests/2026-11-05/index.html").is_file()
    assert not (site / "digests/2026-07-31").exists(), "the newest ledger only"
    summaries = (tmp_path / "summary.md").read_text(encoding="utf-8").split("### What this build publishes")
    assert len(summaries) == 3, "each workflow's build appends its summary"
    assert "| Check of the cases | passed" in summaries[1] and "no earlier build in the cache" in summaries[1]
    assert "since the last build in the cache" in summaries[2], "publish compares with the pull request's build"


def cache_step(name: str) -> dict[str, Any]:
    """The workflow's step that restores the build cache."""
    job = load(name)["jobs"]["build" if name == "publish.yml" else "check"]
    [step] = [s for s in job["steps"] if "cache" in s.get("uses", "")]
    assert isinstance(step, dict)
    return step


def test_the_build_cache_is_kept_between_runs_without_the_ledger() -> None:
    publish, pull = cache_step("publish.yml"), cache_step("pull-request.yml")
    # Publishing restores and saves; a pull request only restores main's (its own would become
    # what its next run compares with), from the same paths (else the cache's version differs).
    assert publish["uses"] == "actions/cache@v4" and pull["uses"] == "actions/cache/restore@v4"
    paths = publish["with"]["path"].split()
    assert paths == pull["with"]["path"].split() == [".site-builder", "!.site-builder/sent.sqlite", "dist"]
    for step in (publish, pull):
        key, prefix = step["with"]["key"], step["with"]["restore-keys"]
        # Another tool version, theme or site.toml never restores: they are in the prefix itself.
        for part in ("pyproject.toml", "site_builder/**", "theme/**", "theme-overrides/**", "site.toml"):
            assert f"'{part}'" in prefix
        assert key.startswith(prefix) and "${{ github.sha }}" in key[len(prefix) :]
    assert publish["with"]["restore-keys"] == pull["with"]["restore-keys"]
    for name, job in (("publish.yml", "build"), ("pull-request.yml", "check")):
        first = load(name)["jobs"][job]["steps"][:2]
        assert first == [{"uses": "actions/checkout@v4"}, cache_step(name)], "hashed before Install adds files"
    names = [step.get("name") for step in load("publish.yml")["jobs"]["build"]["steps"]]
    assert names.index("Restore the build cache") < names.index("Fetch the send ledger of the last digest (read-only)")
    check = load("pull-request.yml")["jobs"]["check"]["steps"]
    [upload] = [step for step in check if step.get("uses") == "actions/upload-artifact@v4"]
    assert upload["with"]["path"] == "dist/site"
    [build] = [step for step in check if "site-builder build" in step.get("run", "")]
    assert build["run"].strip() == 'site-builder build --archive-from-cache --summary "$GITHUB_STEP_SUMMARY"'
    assert build["if"] == "${{ !cancelled() }}", "the summary says why a failed check built nothing"


@pytest.mark.parametrize("artifact", [True, False])
def test_a_ledger_the_cache_brought_back_never_wins(sample_project: Path, tmp_path: Path, artifact: bool) -> None:
    """Even a cache saved by an older workflow that kept the ledger: the fetched one is read, or none."""
    artifacts = tmp_path / "artifacts"
    fresh = artifacts / "7/sent.sqlite"
    fresh.parent.mkdir(parents=True)
    if artifact:
        with Ledger(fresh) as store:
            period = Period(dt.date(2026, 10, 1), dt.date(2026, 11, 5))
            store.claim(period.key, "anna@example.com", "<1@x>", period.until)
            store.mark_sent(period.key, "anna@example.com", [])
    stale = sample_project / ".site-builder/sent.sqlite"
    stale.parent.mkdir(exist_ok=True)
    with Ledger(stale) as store:
        period = Period(dt.date(2026, 7, 1), dt.date(2026, 7, 31))
        store.claim(period.key, "anna@example.com", "<1@x>", period.until)
        store.mark_sent(period.key, "anna@example.com", [])
    stale.chmod(0o444)  # as the last publish left it
    fetch = steps("publish.yml")["Fetch the send ledger of the last digest (read-only)"]
    result = run_step(fetch, sample_project, fake_gh(tmp_path, artifacts))
    assert result.returncode == 0, result.stderr
    if artifact:
        assert stale.read_bytes() == fresh.read_bytes()
    else:
        assert not stale.exists(), "no artifact: no ledger, whatever the cache held"


def test_a_send_publishes_the_site_after_keeping_the_ledger() -> None:
    digest, publish = load("digest.yml"), load("publish.yml")
    assert digest["permissions"]["actions"] == "write", "gh workflow run needs actions: write"
    assert publish["permissions"]["actions"] == "read", "gh run download needs actions: read"
    names = [step.get("name", step.get("uses")) for step in digest["jobs"]["send"]["steps"]]
    kept, published = names.index("Keep the send ledger for the next run"), len(names) - 1
    step = digest["jobs"]["send"]["steps"][published]
    assert kept < published and step["run"].strip() == "gh workflow run publish.yml"
    assert "dry_run" in step["if"] and "cancelled()" in step["if"]
    build = [step.get("name") for step in publish["jobs"]["build"]["steps"]]
    assert build.index("Fetch the send ledger of the last digest (read-only)") < build.index("Build")
    fetch = steps("publish.yml")["Fetch the send ledger of the last digest (read-only)"]
    assert not any("upload" in line for line in commands_of(fetch)) and not any(
        "upload-artifact" in str(s) for s in publish["jobs"]["build"]["steps"]
    )


def test_digest_send_step_runs_as_a_dry_run(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("room.md", case_text(date="2026-03-05"))
    shutil.copy(ROOT / "site.toml", project / "site.toml")
    env = {
        "RECIPIENTS": "email,name\nanna@example.com,Anna",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "2525",
        "SINCE": "2026-03-01",
        "DRY_RUN": "true",
        "SITE_BUILDER_SMTP_PASSWORD": "",
        "SITE_BUILDER_UNSUBSCRIBE_SECRET": "the repository secret",
    }
    result = run_step(steps("digest.yml")["Send"], project, env)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (project / "outbox").iterdir()] == ["00001-anna@example.com.eml"]


def commands_of(script: str) -> list[str]:
    """The command lines of a shell script or block, without comments and blank lines."""
    lines = (line.split(" #", 1)[0].strip() for line in script.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def quick_start() -> list[str]:
    """The commands of the README's quick-start block."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block, "the quick start has no ```sh block"
    return commands_of(block[1])


def test_ci_runs_the_readme_quick_start_commands() -> None:
    setup, test = quick_start()  # exactly two: set up and build, then the tests
    ci = commands_of((ROOT / ".ci/run").read_text(encoding="utf-8"))
    assert setup in ci and test in ci, f".ci/run does not run the README's {setup!r} and {test!r}:\n{ci}"
    assert ci.index(setup) < ci.index(test)
    assert not any("pytest" in line for line in ci), ".ci/run must test only through the README's command"
    for command in (setup, test):
        script = ROOT / command.split()[0]
        assert script.is_file() and os.access(script, os.X_OK), f"{script} is not an executable file"
    # The test command is the one that cannot skip: it runs pytest with CI set.
    text = (ROOT / test.split()[0]).read_text(encoding="utf-8")
    assert "export CI=1" in commands_of(text) and '.venv/bin/python -m pytest "$@"' in text
