"""What the command line and the site say about numbers and dates: plural forms by Babel's rules
in every language, dates in the words people use, and what `digest` made."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from lxml import html

from site_builder.settings.config import Settings
from site_builder.settings.i18n import translator
from tests.conftest import case_text


@pytest.mark.parametrize(
    ("language", "counts"),
    [
        ("en", {0: "0 cases", 1: "1 case", 2: "2 cases", 21: "21 cases"}),
        ("ru", {1: "1 случай", 2: "2 случая", 5: "5 случаев", 11: "11 случаев", 21: "21 случай", 22: "22 случая"}),
        ("da", {0: "0 sager", 1: "1 sag", 2: "2 sager", 1000: "1.000 sager"}),
    ],
)
def test_a_count_takes_its_languages_plural_form(language: str, counts: dict[int, str]) -> None:
    t = translator(language, Settings())
    assert {n: t.count("cases", n).replace("\u00a0", " ") for n in counts} == counts


def test_the_tags_page_counts_in_the_readers_language(
    write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    for i in range(5):
        ru = case_text(title=f"Случай {i}", language="ru").replace("tags: [", "tags: [доставка, ")
        write_case(f"ru-{i}.md", ru)
    write_case("en.md", case_text())
    assert cli("build", "--only", "site", "--no-search").exit_code == 0
    page = html.fromstring(Path("dist/site/ru/tags/index.html").read_bytes())
    counts = {
        li.findtext("a"): li.find("span[@class='count']").text_content().replace("\u00a0", " ")
        for li in page.iter("li")
        if li.find("span[@class='count']") is not None
    }
    assert counts["доставка"] == "5 случаев", counts


def test_one_problem_is_it_and_two_are_them(write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    write_case("bad.md", case_text().replace("date: 2026-03-05", "date: soon"))
    one = cli("check")
    assert "1 error in 1 file; fix it and run check again." in one.stderr, one.stderr
    write_case("worse.md", case_text().replace("date: 2026-03-05", "date: later"))
    two = cli("check")
    assert "2 errors in 2 files; fix them and run check again." in two.stderr, two.stderr
    assert "(s)" not in one.output + two.output


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("2026-13-01", "2026-13-01 is not a real date: there is no month 13 (YYYY-MM-DD)"),
        ("2026-02-30", "2026-02-30 is not a real date: February 2026 has 28 days (YYYY-MM-DD)"),
        ("31.03.2026", "'31.03.2026' is not a date; write it as YYYY-MM-DD, like 2026-03-31"),
    ],
)
def test_a_wrong_date_option_is_named_in_plain_words(cli: Callable[..., Result], written: str, said: str) -> None:
    result = cli("digest", "--since", written)
    assert result.exit_code == 2 and said in result.stderr, result.stderr
    assert "%Y" not in result.stderr and "does not match the format" not in result.stderr


def test_the_date_options_read_yyyy_mm_dd_and_a_machines_timestamp(
    write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    assert "--since YYYY-MM-DD" in cli("digest", "--help").output
    write_case("room.md", case_text(date="2026-03-05"))
    stamped = cli("digest", "--since", "2026-03-01T09:30:00Z", "--until", "2026-03-31")
    assert stamped.exit_code == 0 and "Digest of 2026-03-01 to 2026-03-31" in stamped.output, stamped.output
    assert cli("digest", "--since", "2024-02-29", "--until", "2026-03-31").exit_code == 0  # a leap day is real


def test_digest_says_what_it_made(write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    write_case("room.md", case_text(date="2026-03-05"))
    write_case("later.md", case_text(title="Later", date="2026-03-20"))
    write_case("after.md", case_text(title="After", date="2026-04-02"))
    result = cli("digest", "--since", "2026-03-01", "--until", "2026-03-31")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(
        "Digest of 2026-03-01 to 2026-03-31 (2 cases published in that time), as a reader of English gets it, "
        f"in {Path('dist/digest').absolute()}/ ("
    ), lines[0]
    assert [line.split()[0] for line in lines[1:4]] == [f"digest-2026-03-31.{s}" for s in ("html", "txt", "eml")]
    assert "Nothing was sent" in lines[4] and "Built" not in result.output
    empty = cli("digest", "--since", "2020-01-01", "--until", "2020-01-31")
    assert empty.output == "No digest: no published cases from 2020-01-01 to 2020-01-31; nothing written.\n"


def test_run_from_the_wrong_folder_the_error_names_the_path_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Result]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("build")
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first == (
        f"{tmp_path / 'cases'}: no such folder (run site-builder in your project's folder, the one that holds "
        "cases/, or name the folder of case files with --cases PATH)"
    )
