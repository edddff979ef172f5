"""Honest mistakes in case files get help with the file and line, and the forms people bring from
other tools (TOML front matter from Hugo, setext headings) are read as they mean."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from lxml import html

from tests.conftest import case_text

TOML_CASE = """\
+++
title = "A room was gone"
date = 2026-03-05
received = 2026-03-01T09:30:00+01:00
resolved = "2026-03-03"
industry = "hotels"
tags = ["booking", "apology"]
costs = ["time"]
language = "en"
+++

## Problem

The room was gone when the guests arrived.

## Cause

A booking was cancelled by mistake.

## Fix

We found a room in town and paid for it.

## Thanks

Thank you to our customer for telling us.
"""


def test_toml_front_matter_builds_like_yaml(
    project: Path, cli: Callable[..., Result], write_case: Callable[..., Path]
) -> None:
    write_case("room.md", TOML_CASE)
    result = cli("build", "--only", "site")
    assert result.exit_code == 0, result.output
    page = html.fromstring((project / "dist/site/cases/room/index.html").read_bytes())
    assert page.findtext(".//h1").strip() == "A room was gone"
    assert "booking" in " ".join(page.xpath("//a/text()"))


def test_toml_errors_name_the_line_and_field(cli: Callable[..., Result], write_case: Callable[..., Path]) -> None:
    path = write_case("room.md", TOML_CASE.replace('industry = "hotels"', "industry = hotels"))
    result = cli("check")
    assert result.exit_code == 1
    assert f"{path}:6: front matter: not valid TOML" in result.stderr
    path = write_case("room.md", TOML_CASE.replace('costs = ["time"]', 'costs = ["tyme"]'))
    result = cli("check")
    assert result.exit_code == 1
    assert f"{path}:8: costs: 'tyme' is not a known cost; did you mean 'time'?" in result.stderr


def test_setext_headings_are_sections(
    project: Path, cli: Callable[..., Result], write_case: Callable[..., Path]
) -> None:
    text = case_text()
    for name in ("Problem", "Cause", "Fix", "Thanks"):
        text = text.replace(f"## {name}\n", f"{name}\n{'-' * len(name)}\n")
    write_case("room.md", text)
    result = cli("build", "--only", "site")
    assert result.exit_code == 0, result.output
    page = html.fromstring((project / "dist/site/cases/room/index.html").read_bytes())
    headings = [h.text_content().strip() for h in page.xpath("//main//h2") if h.text_content().strip() != "Case facts"]
    assert headings[:4] == ["Problem", "Cause", "Fix", "Thanks"], headings
    assert "<hr" not in (project / "dist/site/cases/room/index.html").read_text(encoding="utf-8")


def test_a_hash_that_cuts_a_value_is_a_warning(cli: Callable[..., Result], write_case: Callable[..., Path]) -> None:
    text = case_text().replace('title: "A room was gone"', "title: We are #1 at fixing")
    text = text.replace("compensation: ", "summary:  #1 in town\ncompensation: ")
    text = text.replace("received: 2026-03-01", "received: 2026-03-01  # by phone")
    path = write_case("room.md", text)
    result = cli("check")
    assert result.exit_code == 0, result.output
    assert (
        f"{path}:2: warning: title: the text after '#' is left out (YAML reads '#1 at fixing' as a comment) "
        """(put the whole value in quotes, like title: "We are #1 at fixing")"""
    ) in result.stderr
    assert f"{path}:9: warning: summary: the text after '#'" in result.stderr
    assert "received: the text" not in result.stderr  # a comment after a date is a comment
    assert cli("check", "--strict").exit_code == 1


def test_a_heading_that_is_almost_right_is_named(cli: Callable[..., Result], write_case: Callable[..., Path]) -> None:
    text = case_text().replace("## Problem\n", "## Problem:\n").replace("## Cause\n", "### Cause\n")
    text = text.replace("## Fix\n", "# Fix\n").replace("## Thanks\n", "**Thanks**\n")
    path = write_case("room.md", text)
    result = cli("check")
    assert result.exit_code == 1
    expected = "write the heading as '## {0}' on a line of its own: two #, a space, the name"
    assert (
        f"{path}:13: body: section 'Problem' is missing: '## Problem:' is almost its heading ({expected.format('Problem')})"
        in result.stderr
    )
    assert f"{path}:17: body: section 'Cause' is missing: '### Cause' is almost its heading" in result.stderr
    assert f"{path}:21: body: section 'Fix' is missing: '# Fix' is almost its heading" in result.stderr
    assert f"{path}:25: body: section 'Thanks' is missing: '**Thanks**' is almost its heading" in result.stderr


def test_a_tab_used_to_indent_is_called_a_tab(cli: Callable[..., Result], write_case: Callable[..., Path]) -> None:
    text = case_text().replace("tags: [booking, apology]", "tags:\n\t- booking")
    path = write_case("room.md", text)
    result = cli("check")
    assert result.exit_code == 1
    assert (
        f"{path}:8: front matter: a line is indented with a tab, which YAML does not allow (indent with spaces"
        in result.stderr
    )


def test_every_wrong_cost_is_named(cli: Callable[..., Result], write_case: Callable[..., Path]) -> None:
    path = write_case("room.md", case_text().replace("costs: [time, emotional]", "costs: [money, emotinal, time]"))
    result = cli("check")
    assert result.exit_code == 1
    assert (
        f"{path}:8: costs: 'money' is not a known cost; 'emotinal' is not a known cost; did you mean 'emotional'?"
    ) in result.stderr


def test_new_writes_example_text_in_the_case_language_that_check_catches(
    project: Path, cli: Callable[..., Result]
) -> None:
    assert cli("new", "Pakken kom for sent", "--language", "da").exit_code == 0
    path = Path("cases/pakken-kom-for-sent.md")
    text = (project / path).read_text(encoding="utf-8")
    assert "Hvad gik galt, set fra kundens side." in text
    assert "\nreceived:    # when" in text and "\nresolved:    # when" in text
    result = cli("check")
    assert result.exit_code == 0, result.output  # a draft may still hold it: a warning
    assert f"{path}:16: warning: body: section 'Problem' still holds the example text" in result.stderr
    assert "received: is missing, so no response time can be shown" in result.stderr
    (project / path).write_text(text.replace("draft: true", "draft: false"), encoding="utf-8")
    result = cli("check")
    assert result.exit_code == 1
    assert (
        f"{path}:16: body: section 'Problem' still holds the example text that 'site-builder new' wrote "
        "(replace it with what happened in this case)"
    ) in result.stderr
    assert f"{path}:28: body: section 'Tak' still holds the example text" in result.stderr


def test_new_refuses_a_name_taken_by_a_slug_field(
    project: Path, cli: Callable[..., Result], write_case: Callable[..., Path]
) -> None:
    write_case("old-name.md", case_text(extra="slug: late-parcel\n"))
    result = cli("new", "Late parcel")
    assert result.exit_code == 1
    assert (
        "Error: a case already has the name late-parcel (cases/old-name.md); pick another title; nothing was created"
    ) in result.stderr
    assert not (project / "cases/late-parcel.md").exists()


def test_new_with_a_very_long_title_gives_a_short_file_name(project: Path, cli: Callable[..., Result]) -> None:
    title = "The parcel " + "was very late " * 22 + "and we fixed it"
    assert len(title) > 300
    result = cli("new", title)
    assert result.exit_code == 0, result.output
    (made,) = (project / "cases").iterdir()
    assert len(made.stem) <= 60 and made.stem == "the-parcel-was-very-late-was-very-late-was-very-late-was"
    assert title in made.read_text(encoding="utf-8")
    assert cli("check").exit_code == 0


def test_a_list_nested_by_two_spaces_is_a_warning(
    project: Path, cli: Callable[..., Result], write_case: Callable[..., Path]
) -> None:
    text = case_text().replace(
        "We found a room in town and paid for it.",
        "We found a room in town and paid for it:\n\n- a taxi\n  - there and back\n- dinner\n    - for two",
    )
    path = write_case("room.md", text)
    result = cli("check")
    assert result.exit_code == 0, result.output
    assert (
        f"{path}:26: warning: body: this list item is indented by 2 spaces: it is not nested, it joins the list above "
        "(to nest it, put 4 spaces before its marker, four more than the item above)"
    ) in result.stderr
    assert ":28: warning: body: this list item" not in result.stderr  # four spaces nest
    (project / "site.toml").write_text('markdown_engine = "commonmark"\n', encoding="utf-8")
    assert "indented by 2 spaces" not in cli("check").stderr  # cmark-gfm nests it
