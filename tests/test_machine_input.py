"""Input written by machines is accepted: ISO timestamps with and without offsets, one-digit hours;
times with an offset are compared as instants, times without one are in site.toml's `timezone`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner, Result

from site_builder.cli import main
from tests.conftest import case_text

BUILD = ["build", "--only", "site", "--no-search", "--now", "2026-04-01", "--jobs", "1"]


def _timed(received: str, resolved: str) -> str:
    text = case_text(title="Timed", date="2026-03-20")
    return text.replace("received: 2026-03-01", f"received: {received}").replace(
        "resolved: 2026-03-03", f"resolved: {resolved}"
    )


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _fact(project: Path) -> str:
    """The response time the case page shows."""
    page = lxml.html.parse(str(project / "dist/site/cases/timed/index.html"))
    return " ".join(page.xpath("string(//div[@class='fact-strong']/dd)").split())


@pytest.mark.parametrize(
    ("received", "resolved", "shown"),
    [
        ("2026-03-14T09:30:00+01:00", "2026-03-14T10:30:00Z", "Resolved in 2 hours"),  # 08:30 UTC to 10:30 UTC
        ("2026-03-14T09:30:00Z", "2026-03-14T11:30:00+01:00", "Resolved in 1 hour"),
        ("2026-03-14 9:30", "2026-03-14 12:30", "Resolved in 3 hours"),
        ("2026-03-14t09:30:00.250z", "2026-03-15 09:30", "Resolved in 24 hours"),  # naive: in the site zone, UTC
        ("2026-03-14T09:30:00+0100", "2026-03-16", "Resolved in 2 days"),  # a date: whole days
    ],
)
def test_timestamps_as_machines_write_them(
    project: Path, write_case: Callable[..., Path], received: str, resolved: str, shown: str
) -> None:
    write_case("timed.md", _timed(received, resolved))
    result = _run(*BUILD)
    assert result.exit_code == 0, result.output
    assert _fact(project) == shown


def test_times_without_an_offset_are_in_the_sites_time_zone(project: Path, write_case: Callable[..., Path]) -> None:
    # Copenhagen moves its clocks forward on 2026-03-29: noon to noon across it is 23 hours.
    write_case("timed.md", _timed("2026-03-28 12:00", "2026-03-29 12:00"))
    (project / "site.toml").write_text('timezone = "Europe/Copenhagen"\n', encoding="utf-8")
    assert _run(*BUILD).exit_code == 0
    assert _fact(project) == "Resolved in 23 hours"
    page = (project / "dist/site/cases/timed/index.html").read_text(encoding="utf-8")
    assert 'datetime="2026-03-28T12:00:00+01:00"' in page and 'datetime="2026-03-29T12:00:00+02:00"' in page
    assert "March 28, 2026, 12:00" in page and "March 29, 2026, 12:00" in page  # as written, in its own zone
    # The same file under UTC: a day, and the markup as before (no offset).
    (project / "site.toml").write_text('timezone = "UTC"\n', encoding="utf-8")
    assert _run(*BUILD).exit_code == 0
    assert _fact(project) == "Resolved in 1 day"
    assert 'datetime="2026-03-28T12:00:00"' in (project / "dist/site/cases/timed/index.html").read_text("utf-8")


def test_a_time_zone_that_does_not_exist_is_a_configuration_error(
    project: Path, write_case: Callable[..., Path]
) -> None:
    write_case("timed.md", _timed("2026-03-28 12:00", "2026-03-29 12:00"))
    (project / "site.toml").write_text('timezone = "Mars/Olympus"\n', encoding="utf-8")
    result = _run(*BUILD)
    assert result.exit_code == 2
    assert "site.toml: timezone: 'Mars/Olympus' is not a time zone name (like UTC or Europe/Copenhagen)" in (
        result.output
    )


@pytest.mark.parametrize("value", ["2026-02-30T10:00:00Z", "2026-03-14T25:00", "2026-03-14T09:30+1", "14.03.2026"])
def test_a_timestamp_that_is_not_one_names_its_line(project: Path, write_case: Callable[..., Path], value: str) -> None:
    write_case("timed.md", _timed(value, "2026-03-29"))
    result = _run("check")
    assert result.exit_code == 1
    assert "cases/timed.md:4: received: " in result.output, result.output
    assert "2026-03-14T09:30:00+01:00" in result.output  # the expected form, as machines write it
    assert "Traceback" not in result.output
