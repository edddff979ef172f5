"""Hostile case files are refused quickly with the file, the line and what to do: never a crash,
never a hang, never gigabytes of memory. Front matter; symbolic links; files linked beside a case
that are not pictures or PDFs by their content; pictures loaded from other sites."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from site_builder.cases.embeds import is_elsewhere, loaded_urls
from site_builder.cli import main
from tests.conftest import case_text

ALIAS = "uses a YAML anchor or alias (& or *), which case files do not need"
# Nine levels of nine: 387,420,489 strings once expanded (a few gigabytes), from under 400 bytes.
_ITEMS = ['"x"', *(f"*{prev}" for prev in "abcdefgh")]
BOMB = "".join(f"{name}: &{name} [{', '.join([item] * 9)}]\n" for name, item in zip("abcdefghi", _ITEMS, strict=True))


def _front(extra: str) -> str:
    """A valid case whose front matter starts with `extra`."""
    return case_text(title="T").replace("---\n", "---\n" + extra, 1)


@pytest.mark.parametrize(
    ("front", "line", "message"),
    [
        (BOMB, 2, ALIAS),
        ('summary: &s "Hello"\ncompensation: *s\n', 2, ALIAS),
        ("consent: !!bool 1\n", 2, "uses a YAML tag (tag:yaml.org,2002:bool), which case files do not need"),
        ('industry: !!python/object/apply:os.system ["true"]\n', 2, "uses a YAML tag (tag:yaml.org,2002:python"),
        ('summary: "a bell \x07"\n', 2, "contains the control character U+0007"),
        ('summary: "a nul \x00"\n', 2, "contains the control character U+0000"),
        ('summary: "x"\ncompensation: "a DEL \x7f"\n', 3, "contains the control character U+007F"),
        (f"customer: {'9' * 5000}\n", 2, "holds a number too long to read (text in quotes)"),
    ],
)
def test_hostile_front_matter_is_a_problem_with_its_line(
    project: Path, write_case: Callable[..., Path], front: str, line: int, message: str
) -> None:
    write_case("bad.md", _front(front))
    started = time.monotonic()
    result = CliRunner().invoke(main, ["check"])
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert f"cases/bad.md:{line}: front matter: {message}" in result.output, result.output
    assert "Traceback" not in result.output and "Error" not in result.output.split("\n")[0]
    # A build refuses it the same way, and writes nothing.
    built = CliRunner().invoke(main, ["build", "--only", "site", "--no-search"])
    assert built.exit_code == 1 and f"cases/bad.md:{line}: front matter" in built.output
    assert not (project / "dist/site").exists()


def test_honest_values_with_the_same_characters_are_fine(project: Path, write_case: Callable[..., Path]) -> None:
    front = 'summary: "Fees & charges: *all* refunded!"\ncustomer: "Ann & Bob!"\n'
    write_case("fine.md", _front(front))
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output


BUILD = ["build", "--only", "site", "--no-search", "--now", "2026-04-01", "--jobs", "1"]
LINE = 25  # of the text added after the Fix section's paragraph, in case_text()


def _linking(extra: str) -> str:
    """A valid case whose Fix section ends with `extra` (its first line is line LINE)."""
    return case_text().replace("paid for it.", f"paid for it.\n\n{extra}")


def _refused(project: Path, line: int, message: str) -> None:
    """check and build both fail with `message` on `line` of cases/room.md, and nothing is built."""
    for args in (["check"], BUILD):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        assert f"cases/room.md:{line}: body: {message}" in result.output, result.output
        assert "Traceback" not in result.output
    assert not (project / "dist/site").exists()


def test_a_symbolic_link_to_a_folder_outside_is_not_followed(
    project: Path, write_case: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.md").write_text(case_text(title="From outside").replace("---\n", "---\nslug: secret\n", 1))
    write_case("room.md", case_text())
    assert CliRunner().invoke(main, BUILD).exit_code == 0  # leaves a note: the next build may start from it
    (project / "cases/shared").symlink_to(outside)
    (project / "cases/one.md").symlink_to(outside / "secret.md")
    warning = "warning: file: is a symbolic link that points outside cases/: not read (copy the cases into"
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert f"cases/shared: {warning}" in result.output and f"cases/one.md: {warning}" in result.output
    assert CliRunner().invoke(main, ["check", "--strict"]).exit_code == 1
    for _ in range(2):  # the warning is said by every build, not only by the first to see the links
        built = CliRunner().invoke(main, BUILD)
        assert built.exit_code == 0 and f"cases/shared: {warning}" in built.output, built.output
        assert f"cases/one.md: {warning}" in built.output
    assert sorted(p.name for p in (project / "dist/site/cases").iterdir()) == ["room"]


def test_a_symbolic_link_loop_beside_a_case_is_a_problem(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("room.md", _linking("![The room](photos/room.png)"))
    os.symlink("photos", project / "cases/photos")  # used to be a RuntimeError traceback
    _refused(project, LINE, "links to photos/room.png, which cannot be read: it is a symbolic link that loops")


def test_a_linked_file_outside_the_case_folder_is_refused(
    project: Path, write_case: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "room.png").write_bytes(PICTURES["room.png"])
    write_case("room.md", _linking("![The room](room.png)"))
    (project / "cases/room.png").symlink_to(outside / "room.png")
    _refused(project, LINE, "links to room.png, which is outside the case's folder, so it is not published")


PICTURES = {
    "room.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "room.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "room.JPEG": b"\xff\xd8\xff\xdb\x00\x43",
    "room.gif": b"GIF89a\x01\x00\x01\x00",
    "room.webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "room.avif": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf",
    "plan.pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
}


def test_pictures_and_pdfs_by_content_are_published(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("room.md", _linking(" ".join(f"![{name}]({name})" for name in PICTURES)))
    for name, data in PICTURES.items():
        (project / "cases" / name).write_bytes(data)
    result = CliRunner().invoke(main, ["check", "--strict"])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(main, BUILD).exit_code == 0
    for name, data in PICTURES.items():
        assert (project / "dist/site/cases/room" / name).read_bytes() == data


SCRIPTS = "can run scripts on the site, so they are not published (export it as PNG"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', f"links to logo.svg: SVG files {SCRIPTS}"),
        ("page.html", b"<script>alert(document.cookie)</script>", f"links to page.html: HTML files {SCRIPTS}"),
        ("photo.png", b"<html><script>alert(1)</script>", "links to photo.png, which is not a PNG picture by its first bytes: they look like HTML (save it again as a PNG picture)"),
        ("photo.png", b"\xff\xd8\xff\xe0\x00\x10JFIF", "links to photo.png, which is not a PNG picture: it is a JPEG picture (rename it to photo.jpg, and the link)"),
        ("scan.pdf", b"PK\x03\x04 a zip", "links to scan.pdf, which is not a PDF by its first bytes: they are not those of any picture or PDF"),
        ("index.html", b"\x89PNG\r\n\x1a\n<script>", "links to index.html, which would take the place of the case's own page (rename the file and the link)"),
        ("notes.txt", b"Notes", "links to notes.txt, which is not a picture or a PDF, so it is not published"),
    ],
    ids=["svg", "html", "html-named-png", "jpeg-named-png", "zip-named-pdf", "index.html", "text"],
)  # fmt: skip
def test_a_linked_file_that_is_not_a_picture_by_content_is_refused(
    project: Path, write_case: Callable[..., Path], name: str, data: bytes, message: str
) -> None:
    write_case("room.md", _linking(f"See [the file]({name})."))
    (project / "cases" / name).write_bytes(data)
    _refused(project, LINE, message)


ELSEWHERE = "from another site, which would learn who reads the case (put the picture beside the case file"


@pytest.mark.parametrize(
    ("extra", "line", "url"),
    [
        ("![A tracker](https://tracker.example/pixel.png)", LINE, "https://tracker.example/pixel.png"),
        ('Text <img src="//tracker.example/pixel.gif" alt="">', LINE, "//tracker.example/pixel.gif"),
        ('<img src="\\\\tracker.example\\share\\pixel.png" alt="">', LINE, "\\\\tracker.example\\share\\pixel.png"),
        ("![A tracker][pixel]\n\n[pixel]: http://tracker.example/p.png", LINE + 2, "http://tracker.example/p.png"),
        ('<IMG SRC="HTTPS://tracker.example/x.png">', LINE, "HTTPS://tracker.example/x.png"),
    ],
    ids=["markdown", "protocol-relative", "windows-share", "reference", "capitals"],
)
def test_a_picture_from_another_site_is_refused(
    project: Path, write_case: Callable[..., Path], extra: str, line: int, url: str
) -> None:
    write_case("room.md", _linking(extra))
    _refused(project, line, f"loads {url} {ELSEWHERE}")


def test_links_to_other_sites_are_fine(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("room.md", _linking("Read [our policy](https://example.com/policy) or <https://example.com/x.png>."))
    result = CliRunner().invoke(main, ["check", "--strict"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "html",
    [
        '<video src="https://t.example/v.mp4" poster="https://t.example/p.png"></video>',
        '<audio><source src="https://t.example/a.mp3"></audio>',
        '<img src="a.png" srcset="a.png 1x, https://t.example/b.png 2x">',
        '<p style="background: url(https://t.example/bg.png)">x</p>',
        '<style>@import "https://t.example/s.css";</style>',
        '<link rel="stylesheet" href="https://t.example/s.css">',
        '<svg><image href="https://t.example/i.png"/></svg>',
        '<object data="https://t.example/o.swf"></object>',
    ],
)
def test_every_kind_of_embedded_resource_is_seen(html: str) -> None:
    # The sanitizer removes these today; the check must not depend on which tags it lets through.
    assert any(is_elsewhere(url) for url in loaded_urls(html)), html
    assert not any(is_elsewhere(url) for url in loaded_urls(html.replace("https://t.example/", "")))
