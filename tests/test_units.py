"""Focused unit tests: Markdown sanitizing, summaries, response times, the writer's guards."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.build.artifacts import OutputTree
from site_builder.build.writer import write_outputs
from site_builder.cases.markdown import first_sentence, to_html, to_text
from site_builder.settings.config import Settings
from site_builder.settings.i18n import translator


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[x](javascript:alert(1))",
        '<a href="  jAvAsCrIpT:alert(1)">x</a>',
        '<iframe src="https://evil.example"></iframe>',
        '<object data="x"></object><embed src="x">',
        "<style>body{display:none}</style>",
        '<form action="https://evil.example"><input name="p"></form>',
    ],
)
def test_sanitizer_removes_active_content(source: str) -> None:
    html = to_html(source).lower()
    for bad in (
        "<script",
        "onerror",
        "javascript:",
        "<iframe",
        "<object",
        "<embed",
        "<style",
        "<form",
        "<input",
    ):
        assert bad not in html


def test_markdown_features_survive() -> None:
    html = to_html("| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- two\n\n**bold** [link](https://x.example/)")
    assert "<table>" in html and "<li>one</li>" in html and "<strong>bold</strong>" in html
    assert 'href="https://x.example/"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_first_sentence() -> None:
    assert first_sentence("One. Two.") == "One."
    assert first_sentence("Bilen kom kl. 7 og ikke før. Derefter.") == "Bilen kom kl. 7 og ikke før."
    long = "word " * 100
    cut = first_sentence(long, limit=50)
    assert len(cut) <= 51 and cut.endswith("…")
    assert to_text("<p>a &amp; b</p>\n<p>c</p>") == "a & b c"


@pytest.mark.parametrize(
    ("language", "delta", "expected"),
    [
        ("en", dt.timedelta(days=2), "Resolved in 2 days"),
        ("en", dt.timedelta(0), "Resolved the same day"),
        ("en", dt.timedelta(hours=5), "Resolved in 5 hours"),
        ("ru", dt.timedelta(days=5), "Решено за 5 дней"),
        ("ru", dt.timedelta(days=1), "Решено за 1 день"),
        ("da", dt.timedelta(days=14), "Løst på 2 uger"),
        ("da", dt.timedelta(days=9), "Løst på 9 dage"),
        ("ru", dt.timedelta(days=7), "Решено за 7 дней"),
        ("ru", dt.timedelta(minutes=21), "Решено за 21 минуту"),
        ("en", dt.timedelta(days=100), "Resolved in 3 months"),
    ],
)
def test_response_time_in_words(language: str, delta: dt.timedelta, expected: str) -> None:
    assert translator(language, Settings()).duration(delta) == expected


def test_localized_dates() -> None:
    day = dt.date(2026, 10, 14)
    assert translator("en", Settings()).date(day) == "October 14, 2026"
    assert translator("ru", Settings()).date(day) == "14 октября 2026\u202fг."
    assert translator("da", Settings()).date(day) == "14. oktober 2026"


def test_writer_refuses_duplicates_and_escapes() -> None:
    tree = OutputTree("site")
    tree.add("a/index.html", "x")
    with pytest.raises(ValueError, match="two different pages"):
        tree.add("a/index.html", "y")
    for bad in ("../outside.html", "/etc/passwd", ""):
        with pytest.raises(ValueError, match="outside"):
            tree.add(bad, "x")


def test_writer_swaps_whole_folders(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    first = OutputTree("site")
    first.add("old.html", "old")
    write_outputs(out, [first])
    second = OutputTree("site")
    second.add("new.html", "new")
    write_outputs(out, [second])
    assert sorted(p.name for p in (out / "site").iterdir()) == ["new.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["dist"], "no staging folder left behind"


def test_a_file_made_from_others_waits_for_all_of_them(tmp_path: Path) -> None:
    """With workers, the booklet must not start while another worker still makes a leaflet."""
    marks = tmp_path / "marks"
    marks.mkdir()

    def part(number: int) -> Callable[[], bytes]:
        def render() -> bytes:
            time.sleep(0.05 * (number % 3))
            (marks / str(number)).touch()
            return b"part"

        return render

    def whole() -> bytes:
        return ",".join(sorted(p.name for p in marks.iterdir())).encode()

    tree = OutputTree("leaflets")
    for number in range(8):
        tree.add(f"{number}.pdf", part(number))
    tree.add("all.pdf", whole, made_from_others=True)
    write_outputs(tmp_path / "dist", [tree], jobs=2)
    assert (tmp_path / "dist/leaflets/all.pdf").read_bytes() == b"0,1,2,3,4,5,6,7"
