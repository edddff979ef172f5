"""What we changed: the optional section, the page that gathers it, the `responded` field, and the
trust figures as stats.json and a badge."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import case_text

Cli = Callable[..., Result]
WriteCase = Callable[..., Path]

CHANGED = "\n## What we changed\n\nEvery booking is now confirmed by phone the day before.\n"


def with_change(text: str, change: str = CHANGED, before: str = "## Thanks") -> str:
    """A case with the What we changed section put before the heading `before`."""
    return text.replace(f"\n{before}", f"{change}\n{before}", 1)


def test_a_case_with_what_we_changed_in_each_language_is_valid(write_case: WriteCase, cli: Cli) -> None:
    write_case("en.md", with_change(case_text()))
    ru = case_text(language="ru").replace("## Fix", "## Решение").replace("## Thanks", "## Спасибо")
    write_case("ru.md", with_change(ru, "\n## Что мы изменили\n\nТеперь звоним накануне.\n", "## Спасибо"))
    da = case_text(language="da").replace("## Fix", "## Løsning").replace("## Thanks", "## Tak")
    write_case("da.md", with_change(da, "\n## Hvad vi ændrede\n\nVi ringer nu dagen før.\n", "## Tak"))
    result = cli("check")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (with_change(case_text(), before="## Fix"), 21, "section 'What we changed' comes before 'Fix'"),
        (with_change(with_change(case_text())), 29, "section 'What we changed' appears twice (first on line 25)"),
        (with_change(case_text(), "\n## What we changed\n\n"), 25, "section 'What we changed' is empty"),
        (with_change(case_text(language="ru"), "\n## что мы изменили\n"), 25, "section 'что мы изменили' is empty"),
    ],
    ids=["before-fix", "twice", "empty", "empty-ru"],
)
def test_a_misplaced_repeated_or_empty_change_is_one_plain_error(
    write_case: WriteCase, cli: Cli, text: str, line: int, fragment: str
) -> None:
    path = write_case("bad.md", text)
    result = cli("check")
    assert result.exit_code == 1
    assert f"{path}:{line}: body: {fragment}" in result.stderr
    assert "1 error in 1 file" in result.stderr and "Traceback" not in result.stderr


def test_a_change_after_thanks_is_still_a_change(write_case: WriteCase, cli: Cli) -> None:
    write_case("late.md", case_text() + CHANGED)
    assert cli("check").exit_code == 0


def test_extra_aliases_from_site_toml_name_the_change_too(project: Path, write_case: WriteCase, cli: Cli) -> None:
    (project / "site.toml").write_text('[sections.en]\nchanged = ["So it never happens again"]\n', encoding="utf-8")
    write_case("x.md", with_change(case_text(), "\n## So it never happens again\n\nA call.\n" + CHANGED))
    result = cli("check")
    assert result.exit_code == 1
    assert "section 'What we changed' appears twice" in result.stderr


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ("responded: 2026-02-28\n", "responded: 2026-02-28 is before received 2026-03-01"),
        ("responded: 2026-03-04\n", "responded: 2026-03-04 is after resolved 2026-03-03"),
        ("responded: soon\n", "responded: 'soon' is not a date or date and time"),
        (
            "responded: 2026-03-01T08:00:00+05:00\nreceived: 2026-03-01T09:00:00+01:00\n",
            "responded: 2026-03-01 08:00:00+05:00 is before received 2026-03-01 09:00:00+01:00",
        ),
    ],
    ids=["before-received", "after-resolved", "not-a-date", "instants"],
)
def test_responded_out_of_its_range_is_one_plain_error(
    write_case: WriteCase, cli: Cli, fields: str, fragment: str
) -> None:
    text = case_text(extra=fields)
    if "received: 2026-03-01T" in fields:
        text = text.replace("received: 2026-03-01\n", "", 1)
    path = write_case("bad.md", text)
    result = cli("check")
    assert result.exit_code == 1, result.output
    line = 1 + text.splitlines().index(fields.splitlines()[0])
    assert f"{path}:{line}: {fragment}" in result.stderr
    assert "1 error in 1 file" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["2026-03-01", "2026-03-02 10:30", "2026-03-03T23:00:00Z"])
def test_responded_between_received_and_resolved_is_valid(write_case: WriteCase, cli: Cli, value: str) -> None:
    write_case("ok.md", case_text(extra=f"responded: {value}\n"))
    result = cli("check")
    assert result.exit_code == 0, result.output
