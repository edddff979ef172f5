"""Rules that keep names and layouts safe, through the command line: the customer's name without
consent where it reaches URLs and metadata, slugs and tags that would share a page with something
else, and text nested or unbroken beyond what a leaflet can lay out."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest
from click.testing import Result

from tests.conftest import case_text

Cli = Callable[..., Result]
WriteCase = Callable[..., Path]
CUSTOMER = 'customer: "Olga Petrova, Hotel Nord"\n'


def _case(**lines: str) -> str:
    """A valid case by Olga, who did not consent, with front-matter lines replaced by field name
    (a new field goes after `language`)."""
    text = case_text(extra=CUSTOMER)
    for field, value in lines.items():
        old = next((line for line in text.splitlines() if line.startswith(f"{field}:")), None)
        new = f"{field}: {value}"
        text = text.replace(old, new, 1) if old else text.replace(CUSTOMER, CUSTOMER + new + "\n", 1)
    return text


def _line(path: Path, start: str) -> int:
    """The line of `path` that starts with `start`."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


@pytest.mark.parametrize(
    ("field", "value", "part"),
    [
        ("title", '"Olga\'s room was gone"', "Olga"),
        ("summary", '"Olga Petrova lost her room."', "Olga Petrova"),
        ("compensation", '"A free night for Petrova"', "Petrova"),
        ("tags", "[booking, Olga]", "Olga"),
        ("industry", '"hotels (Petrova)"', "Petrova"),
    ],
)
def test_the_customers_name_in_a_public_field_is_an_error(
    cli: Cli, write_case: WriteCase, field: str, value: str, part: str
) -> None:
    path = write_case("room.md", _case(**{field: value}))
    result = cli("check")
    assert result.exit_code == 1, result.output
    line = _line(Path.cwd() / path, f"{field}:")
    expected = f"cases/room.md:{line}: {field}: names the customer ({part!r}) but consent is not true"
    assert expected in result.output, result.output
    assert "set consent: true if the customer agreed" in result.output
    # With consent the same case is fine.
    write_case("room.md", _case(**{field: value, "consent": "true"}))
    assert cli("check").exit_code == 0


def test_a_lowercase_word_that_is_also_a_name_is_not_the_name(cli: Cli, write_case: WriteCase) -> None:
    write_case("room.md", case_text(title="A rose on the pillow", extra='customer: "Rose Smith"\n'))
    assert cli("check").exit_code == 0


def test_the_customers_name_in_the_slug_is_an_error(cli: Cli, write_case: WriteCase) -> None:
    write_case("olga-lost-her-room.md", _case())
    result = cli("check")
    assert result.exit_code == 1
    assert (
        "cases/olga-lost-her-room.md: slug: 'olga-lost-her-room' (from the file name) names the customer ('Olga')"
        in result.output
    ), result.output
    path = write_case("olga-lost-her-room.md", _case(slug="room-for-petrova"))
    result = cli("check")
    assert result.exit_code == 1
    line = _line(Path.cwd() / path, "slug:")
    assert f"cases/olga-lost-her-room.md:{line}: slug: 'room-for-petrova' names the customer ('Petrova')" in (
        result.output
    ), result.output
    write_case("olga-lost-her-room.md", _case(slug="lost-room"))
    assert cli("check").exit_code == 0


def test_a_summary_taken_from_problem_that_names_the_customer_is_an_error(cli: Cli, write_case: WriteCase) -> None:
    text = _case().replace("The room was simply gone", "Olga found her room gone")
    path = write_case("room.md", text)
    result = cli("check")
    assert result.exit_code == 1
    line = _line(Path.cwd() / path, "## Problem")
    assert (
        f"cases/room.md:{line}: summary: the first sentence of Problem, the summary, names the customer ('Olga')"
        in (result.output)
    ), result.output
    # A written summary without the name leaves only the warning about the text.
    write_case("room.md", text.replace(CUSTOMER, CUSTOMER + 'summary: "A room was gone."\n'))
    result = cli("check")
    assert result.exit_code == 0
    assert "warning: body: names the customer ('Olga')" in result.output
    assert cli("check", "--strict").exit_code == 1


@pytest.mark.parametrize(("name", "slug_line"), [("all.md", ""), ("booklet.md", "slug: all\n")])
def test_a_slug_the_booklet_has_is_refused(cli: Cli, write_case: WriteCase, name: str, slug_line: str) -> None:
    write_case(name, case_text(extra=slug_line))
    result = cli("check")
    assert result.exit_code == 1
    where = f"cases/{name}:11" if slug_line else f"cases/{name}"
    assert f"{where}: slug: 'all' is the booklet's name (leaflets/all.pdf), which the build makes itself" in (
        result.output
    ), result.output
    built = cli("build", "--only", "leaflets")
    assert built.exit_code == 1 and f"{where}: slug: 'all'" in built.output


@pytest.mark.parametrize(
    ("field", "first", "second", "url"),
    [
        ("tags", "[C++]", "[C#]", "tags/c/"),
        ("tags", "[billing]", "[billing\u200b]", "tags/billing/"),
        ("tags", "[billing]", "[bil\u00adling]", "tags/billing/"),
        ("industry", '"Café"', "Cafe", "industries/cafe/"),
    ],
)
def test_two_names_on_one_page_are_an_error(
    cli: Cli, write_case: WriteCase, field: str, first: str, second: str, url: str
) -> None:
    a = write_case("a.md", case_text().replace(_value(field), f"{field}: {first}"))
    b = write_case("b.md", case_text(title="Another").replace(_value(field), f"{field}: {second}"))
    result = cli("check")
    assert result.exit_code == 1, result.output
    line_a, line_b = _line(Path.cwd() / a, f"{field}:"), _line(Path.cwd() / b, f"{field}:")
    kind = "tag" if field == "tags" else "industry"
    shown_a, shown_b = (v.strip("[]").strip('"') for v in (first, second))
    expected = f"cases/b.md:{line_b}: {field}: {kind} {shown_b!r} has the same page ({url}) as {shown_a!r} in cases/a.md:{line_a}"
    assert expected in result.output, result.output


def _value(field: str) -> str:
    return next(line for line in case_text().splitlines() if line.startswith(f"{field}:"))


def test_names_that_differ_only_in_capitals_share_their_page(cli: Cli, write_case: WriteCase) -> None:
    write_case("a.md", case_text().replace("tags: [booking, apology]", "tags: [Billing]"))
    write_case("b.md", case_text(title="Another").replace("tags: [booking, apology]", "tags: [billing]"))
    assert cli("check").exit_code == 0


@pytest.mark.parametrize("tag", ["+++", "\U0001f389"])
def test_a_tag_with_nothing_for_a_url_is_an_error(cli: Cli, write_case: WriteCase, tag: str) -> None:
    write_case("a.md", case_text().replace("tags: [booking, apology]", f'tags: [booking, "{tag}"]'))
    result = cli("check")
    assert result.exit_code == 1
    assert f"cases/a.md:7: tags: tag {tag!r} has no letters or digits to make a URL from" in result.output


def _nested(kind: str, depth: int) -> str:
    if kind == "list":
        # Four spaces a level: Python-Markdown's (and Markdown's) nesting; two make siblings there.
        return "\n".join("    " * i + f"- level {i + 1}" for i in range(depth))
    return "\n\n".join(">" * (i + 1) + f" level {i + 1}" for i in range(depth))


@pytest.mark.parametrize("kind", ["list", "quote"])
def test_nesting_deeper_than_a_leaflet_holds_is_refused(cli: Cli, write_case: WriteCase, kind: str) -> None:
    fix = "We found a room in town and paid for it."
    write_case("deep.md", case_text().replace(fix, _nested(kind, 8)))
    assert cli("check").exit_code == 0
    for depth in (9, 150):
        path = write_case("deep.md", case_text().replace(fix, _nested(kind, depth)))
        result = cli("check")
        assert result.exit_code == 1
        line = _line(Path.cwd() / path, "    " * 8 + "- level 9" if kind == "list" else ">" * 9 + " level 9")
        message = f"section 'Fix' nests lists or quotes {depth} levels deep; a leaflet holds at most 8"
        assert f"cases/deep.md:{line}: body: {message}" in result.output, result.output
    built = cli("build", "--only", "leaflets")
    assert built.exit_code == 1 and "cases/deep.md" in built.output


def test_formatting_nested_hundreds_deep_is_refused(cli: Cli, write_case: WriteCase) -> None:
    path = write_case("deep.md", case_text().replace("paid for it.", "paid " + "<b>" * 300 + "for" + "</b>" * 300))
    result = cli("check")
    assert result.exit_code == 1
    line = _line(Path.cwd() / path, "We found a room")
    assert f"cases/deep.md:{line}: body: section 'Fix' nests formatting 301 levels deep" in result.output, result.output


def _pdf_text(path: Path) -> tuple[str, list[str]]:
    pdf = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    links = [
        str(note.get_object()["/A"]["/URI"])
        for page in pdf.pages
        for note in page.get("/Annots") or []
        if "/A" in note.get_object()
    ]
    # Without each page's footer, "Example Ltd  2 / 9", and running header, "Example Ltd · A room was
    # gone", which fall inside the word.
    furniture = r"Example Ltd\s*\d+ / \d+|Example Ltd · A room was gone"
    return "".join(re.sub(furniture, "", page.extract_text()) for page in pdf.pages), links


def test_a_very_long_word_lays_out_as_fast_as_an_ordinary_leaflet(cli: Cli, write_case: WriteCase) -> None:
    url = "https://example.com/" + "p" * 300
    word = "".join(chr(ord("a") + i % 26) for i in range(20_000))
    write_case("long.md", case_text(word=word).replace("paid for it.", f"paid for [it]({url})."))
    started = time.monotonic()
    result = cli("leaflets", "--jobs", "1")
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    # It took 18 s (24 s on two cores), growing with the square of the word's length; now about 1.5 s.
    assert took < 6, f"a leaflet with a 20,000-character word took {took:.1f} s"
    text, links = _pdf_text(Path("dist/leaflets/long.pdf"))
    # Broken only where it wraps: the word reads back whole, the link's address is untouched.
    assert word in "".join(text.replace("\u200b", "").split())
    assert url in links
