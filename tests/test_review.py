"""Warnings that protect people, the three output formats, --strict, the link checker, scheduled cases."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import case_text

GOOD = case_text()

WARNINGS = [
    # (id, text, line, field, fragment)
    (
        "email",
        GOOD.replace("They had driven", "Write to anna.berg@mail.example. They had driven"),
        15,
        "body",
        "an email address (anna.berg@mail.example)",
    ),
    (
        "phone",
        GOOD.replace("They had driven", "Call +45 70 20 30 40. They had driven"),
        15,
        "body",
        "a phone number (+45 70 20 30 40)",
    ),
    (
        "phone-ru",
        GOOD.replace("They had driven", "Звоните 8 (999) 123-45-67. They had driven"),
        15,
        "body",
        "a phone number",
    ),
    (
        "customer-name",
        case_text(extra='customer: "Olga Petrova, Petrova Bakery"\n').replace("They had driven", "Olga had driven"),
        16,
        "body",
        "names the customer ('Olga')",
    ),
    ("no-received", GOOD.replace("received: 2026-03-01\n", ""), None, "received", "is missing"),
    ("no-resolved", GOOD.replace("resolved: 2026-03-03\n", ""), None, "resolved", "is missing"),
    (
        "long-summary",
        case_text(extra=f'summary: "{"Long words here. " * 12}"\n'),
        11,
        "summary",
        "is 203 characters long",
    ),
    (
        "thanks-nobody",
        GOOD.replace("Thank you to our customer for telling us.", "The end."),
        25,
        "body",
        "thanks nobody",
    ),
    (
        "missing-file",
        GOOD.replace("paid for it.", "paid for it ([receipt](receipt.pdf))."),
        23,
        "body",
        "links to receipt.pdf, which does not exist",
    ),
    (
        "missing-image",
        GOOD.replace("paid for it.", "paid for it.\n\n![room](photos/room.jpg)"),
        25,
        "body",
        "links to photos/room.jpg",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "fragment"), [w[1:] for w in WARNINGS], ids=[w[0] for w in WARNINGS])
def test_warning_in_every_format(
    write_case: Callable[..., Path], cli: Callable[..., Result], text: str, line: int | None, field: str, fragment: str
) -> None:
    path = write_case("w.md", text)
    where = f"{path}:{line}" if line else f"{path}"
    result = cli("check")
    assert result.exit_code == 0, "warnings alone do not fail"
    assert f"{where}: warning: {field}: " in result.stderr and fragment in result.stderr
    assert "1 warning in 1 file" in result.stderr

    github = cli("check", "--format", "github")
    assert github.exit_code == 0
    location = f"file={path},line={line}" if line else f"file={path}"
    [annotation] = [row for row in github.stdout.splitlines() if row.startswith("::")]
    assert annotation.startswith(f"::warning {location},title={field}::")
    assert fragment.replace(",", "%2C") in annotation or fragment in annotation

    data = json.loads(cli("check", "--format", "json").stdout)
    assert data == [
        {
            "file": str(path),
            "line": line,
            "field": field,
            "message": data[0]["message"],
            "expected": data[0]["expected"],
            "severity": "warning",
        }
    ]
    assert fragment in data[0]["message"]

    strict = cli("check", "--strict")
    assert strict.exit_code == 1
    assert cli("build", "--strict", "--only", "site").exit_code == 1


def test_consent_allows_the_name(write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    write_case(
        "ok.md",
        case_text(extra='customer: "Olga Petrova"\nconsent: true\n').replace("The room was", "Olga saw the room was"),
    )
    result = cli("check", "--strict")
    assert result.exit_code == 0, result.stderr


def test_existing_linked_files_are_published_beside_the_page(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case("room.md", GOOD.replace("paid for it.", "paid for it.\n\n![The new room](photos/room.png)"))
    (project / "cases/photos").mkdir()
    (project / "cases/photos/room.png").write_bytes(b"\x89PNG\r\n\x1a\n fake")
    assert cli("check", "--strict").exit_code == 0
    assert cli("build", "--only", "site").exit_code == 0
    assert (project / "dist/site/cases/room/photos/room.png").read_bytes() == b"\x89PNG\r\n\x1a\n fake"
    assert cli("check", "--links").exit_code == 0


def test_errors_and_warnings_in_github_format_fail_on_errors(
    write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case("bad.md", GOOD.replace("date: 2026-03-05", "date: 2026-02-30"))
    result = cli("check", "--format", "github")
    assert result.exit_code == 1
    assert "::error file=cases/bad.md,line=3,title=date::'2026-02-30' is not a real date" in result.stdout


def test_link_checker_finds_broken_links(sample_project: Path, cli: Callable[..., Result]) -> None:
    assert cli("build", "--only", "site").exit_code == 0
    assert cli("check", "--links").exit_code == 0
    page = sample_project / "dist/site/cases/cleaning-missed-office/index.html"
    html = page.read_text(encoding="utf-8")
    broken = (
        '<a href="../no-such-case/">x</a> <a href="../../tags/guarantee/#nowhere">y</a>'
        '<img src="../../static/missing.png" alt="z"> <a href="https://elsewhere.example/x">ok</a>'
        '<a href="#s-1">ok</a></body>'
    )
    page.write_text(html.replace("</body>", broken), encoding="utf-8")
    result = cli("check", "--links")
    assert result.exit_code == 1
    lines = [row for row in result.stderr.splitlines() if "cases/cleaning-missed-office/index.html" in row]
    assert len(lines) == 3
    assert any("../no-such-case/: no such page or file" in row for row in lines)
    assert any("../../tags/guarantee/#nowhere: no anchor #nowhere on that page" in row for row in lines)
    assert any("../../static/missing.png: no such page or file" in row for row in lines)
    assert "3 broken links" in result.stderr


def test_link_check_needs_a_built_site(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case("ok.md", GOOD)
    result = cli("check", "--links")
    assert result.exit_code == 2
    assert "run site-builder build first" in result.stderr


def test_future_case_is_published_on_its_day(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case("soon.md", case_text(title="Coming soon", date="2026-12-24"))
    write_case("now.md", case_text(title="Already out", date="2026-11-01"))
    assert cli("build", "--only", "site", "--now", "2026-12-23").exit_code == 0
    site = project / "dist/site"
    assert not (site / "cases/soon").exists()
    assert "Coming soon" not in (site / "feed.xml").read_text(encoding="utf-8")
    assert "Coming soon" not in (site / "sitemap.xml").read_text(encoding="utf-8") + (site / "index.html").read_text(
        encoding="utf-8"
    )
    result = cli("build", "--only", "site", "--now", "2026-12-24")
    assert result.exit_code == 0
    assert (site / "cases/soon/index.html").is_file()
    assert "Coming soon" in (site / "feed.xml").read_text(encoding="utf-8")
