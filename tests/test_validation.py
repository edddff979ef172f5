"""One test per validation rule: `check` names the file, line and field, and exits 1."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import ROOT, case_text

GOOD = case_text()
BODY = GOOD.split("---\n", 2)[2]


def front(fields: str) -> str:
    """A case with the given front matter and the valid body."""
    return f"---\n{fields}---\n{BODY}"


RULES = [
    # (id, text, line, field, fragment of the message)
    ("no-front-matter", BODY, 1, "front matter", "does not start with front matter"),
    ("unclosed", "---\ntitle: x\n" + BODY.replace("---", ""), 1, "front matter", "never closed"),
    (
        "bad-yaml",
        front('title: "A\ndate: 2026-01-01\n'),
        3,
        "front matter",
        "quoted scalar that starts on line 2",
    ),
    (
        "bad-yaml-list",
        front('title: "A"\ntags: [a, b\ndate: 2026-01-01\n'),
        4,
        "front matter",
        "flow sequence that starts on line 3",
    ),
    ("missing-title", front("date: 2026-01-05\n"), 2, "title", "is missing"),
    ("missing-date", front('title: "T"\n'), 2, "date", "is missing"),
    ("impossible-date", front('title: "T"\ndate: 2026-02-30\n'), 3, "date", "not a real date"),
    (
        "words-date",
        front('title: "T"\ndate: next tuesday\n'),
        3,
        "date",
        "'next tuesday' is not a date",
    ),
    (
        "bad-received",
        front('title: "T"\ndate: 2026-01-05\nreceived: 2026-13-01\n'),
        4,
        "received",
        "not a real",
    ),
    (
        "resolved-before-received",
        front('title: "T"\ndate: 2026-01-05\nreceived: 2026-01-04\nresolved: 2026-01-02\n'),
        5,
        "resolved",
        "before received",
    ),
    (
        "resolved-before-received-same-day",
        front('title: "T"\ndate: 2026-01-05\nreceived: 2026-01-04 15:00\nresolved: 2026-01-04 09:00\n'),
        5,
        "resolved",
        "before received",
    ),
    (
        "unknown-cost",
        front('title: "T"\ndate: 2026-01-05\ncosts: [time, emotinal]\n'),
        4,
        "costs",
        "did you mean 'emotional'",
    ),
    (
        "unknown-cost-kind",
        front('title: "T"\ndate: 2026-01-05\ncosts: [time, pride]\n'),
        4,
        "costs",
        "'pride' is not a known cost",
    ),
    (
        "unknown-field",
        front('title: "T"\ndate: 2026-01-05\ncustomr: "Ann"\n'),
        4,
        "customr",
        "did you mean 'customer'",
    ),
    (
        "duplicate-field",
        front('title: "T"\ndate: 2026-01-05\ntitle: "U"\n'),
        4,
        "title",
        "appears twice",
    ),
    (
        "consent-not-bool",
        front('title: "T"\ndate: 2026-01-05\nconsent: maybe\n'),
        4,
        "consent",
        "not true or false",
    ),
    ("tags-not-list", front('title: "T"\ndate: 2026-01-05\ntags: 5\n'), 4, "tags", "not a list"),
    (
        "unknown-language",
        front('title: "T"\ndate: 2026-01-05\nlanguage: de\n'),
        4,
        "language",
        "not a known language",
    ),
    (
        "invalid-slug",
        front('title: "T"\ndate: 2026-01-05\nslug: Hotel_Room\n'),
        4,
        "slug",
        "not a valid slug",
    ),
    (
        "escaping-slug",
        front('title: "T"\ndate: 2026-01-05\nslug: ../../etc\n'),
        4,
        "slug",
        "outside",
    ),
    (
        "missing-section",
        GOOD.replace("## Cause\n\nA booking was cancelled by mistake.\n", ""),
        12,
        "body",
        "'Cause' is missing",
    ),
    (
        "empty-section",
        GOOD.replace("We found a room in town and paid for it.", ""),
        21,
        "body",
        "'Fix' is empty",
    ),
    (
        "out-of-order",
        GOOD.replace("## Cause", "## TMP").replace("## Fix", "## Cause").replace("## TMP", "## Fix"),
        21,
        "body",
        "'Cause' comes after 'Fix'",
    ),
    (
        "repeated-section",
        GOOD + "\n## Fix\n\nAgain.\n",
        29,
        "body",
        "appears twice (first on line 21)",
    ),
    (
        "text-before-sections",
        GOOD.replace("---\n\n## Problem", "---\nHello\n## Problem"),
        12,
        "body",
        "text before",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "fragment"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_check_reports_rule(
    write_case: Callable[..., Path],
    cli: Callable[..., Result],
    text: str,
    line: int,
    field: str,
    fragment: str,
) -> None:
    path = write_case("bad.md", text)
    result = cli("check")
    assert result.exit_code == 1
    assert f"{path}:{line}: {field}: " in result.stderr
    assert fragment in result.stderr
    assert "1 error in 1 file" in result.stderr


def test_every_problem_is_listed_at_once(write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    write_case("a.md", front("date: 2026-02-30\ncosts: [pride]\n"))
    write_case("b.md", "")
    write_case("ok.md", GOOD)
    result = cli("check")
    assert result.exit_code == 1
    assert "cases/a.md:2: title: is missing" in result.stderr
    assert "cases/a.md:2: date: '2026-02-30' is not a real date" in result.stderr
    assert "cases/a.md:3: costs:" in result.stderr
    assert "cases/b.md: file: is empty" in result.stderr
    assert "4 errors in 2 files" in result.stderr


def test_duplicate_slug_names_both_files(write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    write_case("en/room.md", GOOD)
    write_case("da/room.md", GOOD)
    result = cli("check")
    assert result.exit_code == 1
    assert "cases/en/room.md: slug: 'room' is already used by cases/da/room.md" in result.stderr


def test_explicit_slug_clashing_with_file_name(write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    write_case("room.md", GOOD)
    write_case("other.md", case_text(extra="slug: room\n"))
    result = cli("check")
    assert "slug: 'room' is already used by" in result.stderr
    assert "cases/other.md" in result.stderr and "cases/room.md" in result.stderr


def test_not_utf8_gives_byte_offset(write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    data = GOOD.encode("utf-8").replace(b"simply", b"simply \xe6")
    path = write_case("latin1.md", data)
    offset = data.index(b"\xe6")
    result = cli("check")
    assert result.exit_code == 1
    assert f"{path}:15: file: is not valid UTF-8 (byte {offset} is 0xe6)" in result.stderr


def test_empty_file(write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    write_case("empty.md", "\n  \n")
    result = cli("check")
    assert result.exit_code == 1
    assert "cases/empty.md: file: is empty" in result.stderr


def test_file_over_one_mebibyte(write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    write_case("huge.md", GOOD + "x" * (1024 * 1024))
    result = cli("check")
    assert result.exit_code == 1
    assert "cases/huge.md: file: is 1,049,018 bytes" in result.stderr
    assert "larger than 1 MiB" in result.stderr


def test_ignored_files_and_clean_exit(write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    write_case("a/ok.md", GOOD)
    write_case("_template.md", "not a case")
    write_case(".hidden/x.md", "not a case")
    write_case("notes.txt", "not a case")
    result = cli("check")
    assert result.exit_code == 0, result.output
    assert "The case in cases is valid." in result.output


def test_localized_headings_are_accepted(write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    ru = case_text(language="ru")
    for en, ru_heading in [
        ("Problem", "Проблема"),
        ("Cause", "Причина"),
        ("Fix", "решение"),
        ("Thanks", "Благодарность"),
    ]:
        ru = ru.replace(f"## {en}", f"## {ru_heading}")
    da = (
        case_text(language="da")
        .replace("## Cause", "## Årsag")
        .replace("## Fix", "## LØSNING")
        .replace("## Thanks", "## Tak")
    )
    write_case("ru.md", ru)
    write_case("da.md", da)
    assert cli("check").exit_code == 0


def test_headings_of_another_language_are_not_accepted(
    write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case("mixed.md", case_text(language="da").replace("## Cause", "## Причина"))
    result = cli("check")
    assert result.exit_code == 1
    assert "'Årsag' is missing" in result.stderr


def test_heading_inside_code_fence_is_not_a_section(
    write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case("fence.md", GOOD.replace("A booking was", "```\n## Fix\n```\n\nA booking was"))
    assert cli("check").exit_code == 0


def test_extra_aliases_from_site_toml(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    (project / "site.toml").write_text('[sections.en]\nthanks = ["With gratitude"]\n', encoding="utf-8")
    write_case("x.md", GOOD.replace("## Thanks", "## With gratitude"))
    assert cli("check").exit_code == 0


def test_build_refuses_invalid_cases(
    write_case: Callable[..., Path], cli: Callable[..., Result], project: Path
) -> None:
    write_case("bad.md", front('title: "T"\n'))
    result = cli("build")
    assert result.exit_code == 1
    assert "cases/bad.md:2: date: is missing" in result.stderr
    assert "nothing was built" in result.stderr
    assert not (project / "dist").exists()


def test_missing_cases_folder(cli: Callable[..., Result]) -> None:
    result = cli("check", "--cases", "nowhere")
    assert result.exit_code == 1
    # The whole path, and what to do: run from the wrong folder, "cases" alone says nothing.
    assert f"{Path.cwd() / 'nowhere'}: no such folder (run site-builder in your project's folder" in result.stderr
    assert "--cases PATH" in result.stderr and "1 error in 1 file; fix it and run check again." in result.stderr


def test_usage_error_exits_2(cli: Callable[..., Result]) -> None:
    assert cli("build", "--only", "nothing").exit_code == 2


def test_the_program_exits_with_its_code_and_all_its_output(project: Path, write_case: Callable[..., Path]) -> None:
    # `site-builder` leaves without the interpreter's teardown: its output must still all arrive.
    write_case("room.md", case_text(title="Room"))
    command = [sys.executable, "-m", "site_builder", "build", "--only", "site", "--no-search"]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, env=environment, check=False)
    assert done.returncode == 0 and done.stdout.startswith("Built 1 case in") and done.stdout.endswith("changed\n")
    write_case("broken.md", case_text(title=""))
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, env=environment, check=False)
    assert done.returncode == 1 and "broken.md" in done.stdout + done.stderr
    assert "the previous output is unchanged" in done.stdout + done.stderr
    version = subprocess.run([sys.executable, str(ROOT / "build.py"), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("site-builder, version ")
