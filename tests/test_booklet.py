"""The booklet read back: page numbers and labels, contents, bookmarks, padding, font tags, one
structure tree, the imposition; and a leaflet's own page numbers."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from click.testing import CliRunner, Result

from site_builder.cli import main
from site_builder.leaflets.booklet import saddle_order
from tests.conftest import ROOT, SAMPLE_CASES, case_text


def pages_text(path: Path) -> list[str]:
    """Each page's text, by poppler."""
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return out.split("\f")[:-1]


def leaflets(project: Path, *args: str) -> Result:
    """Run `leaflets` in a project folder."""
    return CliRunner().invoke(main, ["leaflets", "--jobs", "1", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample cases' leaflets and booklets, with the imposition, built once for this module."""
    root = tmp_path_factory.mktemp("booklet")
    shutil.copytree(SAMPLE_CASES, root / "cases")
    shutil.copy(ROOT / "site.toml", root / "site.toml")
    args = ["--cases", str(root / "cases"), "--config", str(root / "site.toml"), "--out", str(root / "dist")]
    result = CliRunner().invoke(main, ["leaflets", "--imposed", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root / "dist/leaflets"


BOOKLETS = [("all.pdf", "en"), ("all.ru.pdf", "ru"), ("all.da.pdf", "da")]


@pytest.mark.parametrize(("name", "language"), BOOKLETS)
def test_pages_are_numbered_on_from_the_cover_and_labelled_alike(samples: Path, name: str, language: str) -> None:
    texts = pages_text(samples / name)
    total = len(texts)
    assert total % 4 == 0
    for n, page in enumerate(texts, 1):
        numbers = re.findall(r"\b(\d+) ?/ ?(\d+)\s*$", page.rstrip())
        if n in (1, total):  # the front and back covers carry no number
            assert not numbers, (n, page[-80:])
        else:
            assert numbers == [(str(n), str(total))], (n, page[-80:])
    with pikepdf.open(samples / name) as pdf:
        assert [str(p.label) for p in pdf.pages] == [str(n) for n in range(1, total + 1)]
        assert pdf.pdf_version >= "1.4"  # tagged, /Lang, transparency
        assert (samples / name).read_bytes().startswith(f"%PDF-{pdf.pdf_version}".encode())


@pytest.mark.parametrize(("name", "language"), BOOKLETS)
def test_contents_and_bookmarks_lead_to_each_case(samples: Path, name: str, language: str) -> None:
    texts = pages_text(samples / name)
    with pikepdf.open(samples / name) as pdf:
        with pdf.open_outline() as outline:
            marks = [(item.title, pikepdf.Page(item.destination[0]).index) for item in outline.root]  # type: ignore[index]
        assert pdf.Root.PageMode == pikepdf.Name.UseOutlines
    assert marks
    cover = texts[0]
    for title, index in marks:
        assert title[:18] in texts[index], (title, index)
        # The contents line of the case ends with the page it starts on (titles may wrap).
        line = next(line for line in cover.splitlines() if title[:18] in line)
        assert line.rstrip().endswith(f" {index + 1}"), line
    starts = [index for _, index in marks]
    assert starts == sorted(starts) and starts[0] == 1


@pytest.mark.parametrize(("name", "language"), BOOKLETS)
def test_padded_with_notes_and_closed_with_the_contact_and_a_qr_code(
    samples: Path, tmp_path: Path, name: str, language: str
) -> None:
    texts = pages_text(samples / name)
    notes = {"en": "Notes", "ru": "Заметки", "da": "Noter"}[language]
    closing = texts[-1]
    assert "https://proof.example.com/" in closing and "+45 70 20 30 40" in closing
    padding = [t for t in texts if t.strip().startswith(notes)]
    assert len(padding) <= 3 and texts[-1 - len(padding) : -1] == padding
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "150",
            "-png",
            "-f",
            str(len(texts)),
            "-l",
            str(len(texts)),
            str(samples / name),
            str(tmp_path / "p"),
        ],
        check=True,
    )
    [png] = tmp_path.glob("p*.png")
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True, check=True).stdout
    assert decoded.strip() == "https://proof.example.com/"


def _program(font: Any) -> bytes:
    descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
    descriptor = descendant.FontDescriptor
    stream = next(descriptor[k] for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in descriptor)
    return bytes(stream.read_raw_bytes())


@pytest.mark.parametrize(("name", "language"), BOOKLETS)
def test_each_font_program_has_a_subset_tag_of_its_own(samples: Path, name: str, language: str) -> None:
    programs: dict[str, set[str]] = {}
    with pikepdf.open(samples / name) as pdf:
        for page in pdf.pages:
            for font in page.obj.Resources.Font.values():
                programs.setdefault(str(font.BaseFont)[1:7], set()).add(hashlib.sha256(_program(font)).hexdigest())
            forms: Any = page.obj.Resources.get("/XObject", pikepdf.Dictionary())
            for form in forms.values():
                for font in form.get("/Resources", {}).get("/Font", {}).values():
                    programs.setdefault(str(font.BaseFont)[1:7], set()).add(hashlib.sha256(_program(font)).hexdigest())
    assert len(programs) > 4
    assert {tag: n for tag, n in programs.items() if len(n) > 1} == {}
    # pdffonts sees the same names, each font embedded and a subset.
    listed = subprocess.run(["pdffonts", str(samples / name)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in listed.splitlines()[2:]]
    assert rows and all(re.fullmatch(r"[A-Z]{6}\+Leaflet-\S+", row[0]) and row[-5:-2] == ["yes"] * 3 for row in rows)
    tags: dict[str, set[str]] = {}
    for row in rows:
        tags.setdefault(row[0][:6], set()).add(row[0][7:])
    assert all(len(names) == 1 for names in tags.values()), tags


def _marked(pdf: pikepdf.Pdf) -> set[tuple[int, int]]:
    """Every (page, MCID) the content streams mark."""
    found = set()
    for index, page in enumerate(pdf.pages):
        for instruction in pikepdf.parse_content_stream(page, "BDC"):
            properties = instruction.operands[1]
            if isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties:
                found.add((index, int(properties.MCID)))
    return found


@pytest.mark.parametrize(("name", "language"), BOOKLETS)
def test_one_structure_tree_with_each_case_in_its_language(samples: Path, name: str, language: str) -> None:
    with pikepdf.open(samples / name) as pdf:
        assert bool(pdf.Root.MarkInfo.Marked) and str(pdf.Root.Lang) == language
        root = pdf.Root.StructTreeRoot
        [document] = list(root.K)
        assert pikepdf.Name.Document == document.S and str(document.Lang) == language
        parts = list(document.K)
        with pdf.open_outline() as outline:
            cases = len(outline.root)
        assert len(parts) >= cases + 2  # the cover, every case, the closing page (and the notes)
        assert all(pikepdf.Name.Part == part.S and str(part.Lang) == language for part in parts)
        index: dict[Any, int] = {page.objgen: n for n, page in enumerate(pdf.pages)}
        reached: dict[tuple[int, int], Any] = {}

        def walk(element: Any, page: Any, parent: Any) -> None:
            assert element.P.objgen == parent.objgen
            page = element.get("/Pg", page)
            kids = element.get("/K", [])
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                if isinstance(kid, int):
                    reached[(index[page.objgen], kid)] = element
                elif kid.get("/Type") == pikepdf.Name.MCR:
                    reached[(index[kid.get("/Pg", page).objgen], int(kid.MCID))] = element
                elif kid.get("/Type") != pikepdf.Name.OBJR:
                    walk(kid, page, element)

        for part in parts:
            walk(part, None, document)
        assert set(reached) == _marked(pdf)  # every marked content reachable, nothing dangling
        nums = list(root.ParentTree.Nums)
        tree = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        keys = [int(page.obj.StructParents) for page in pdf.pages if "/StructParents" in page.obj]
        assert len(keys) == len(set(keys)) == len(pdf.pages)
        assert int(root.ParentTreeNextKey) > max(tree)
        for (page, mcid), element in reached.items():
            assert tree[int(pdf.pages[page].obj.StructParents)][mcid].objgen == element.objgen
    checked = subprocess.run(["qpdf", "--check", str(samples / name)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_imposed_sheets_in_saddle_stitch_order(samples: Path) -> None:
    assert saddle_order(16)[:4] == [(16, 1), (2, 15), (14, 3), (4, 13)]
    booklet = samples / "all.pdf"
    imposed = samples / "all.imposed.pdf"
    total = len(pages_text(booklet))
    with pikepdf.open(booklet) as pdf, pikepdf.open(imposed) as sheets:
        width, height = float(pdf.pages[0].mediabox[2]), float(pdf.pages[0].mediabox[3])
        assert len(sheets.pages) == total // 2
        assert [float(v) for v in sheets.pages[0].mediabox] == pytest.approx([0, 0, 2 * width, height])
    for side, (left, right) in enumerate(saddle_order(total), 1):
        halves = []
        for x in (0, round(width)):
            out = subprocess.run(
                ["pdftotext", "-f", str(side), "-l", str(side), "-x", str(x), "-y", "0", "-W", str(round(width)),
                 "-H", str(round(height)), str(imposed), "-"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            halves.append(re.findall(r"\b(\d+) ?/ ?\d+", out))
        assert halves == [[str(n)] if 1 < n < total else [] for n in (left, right)], (side, halves)


def test_a_leaflet_is_numbered_on_its_own(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("short.md", case_text(title="Short", date="2026-03-01"))
    body = "\n\n".join(f"Paragraph {i}: " + "the courier did not ring and left it in the rain. " * 8 for i in range(14))
    write_case("long.md", case_text(title="Long", date="2026-03-02", word="simply\n\n" + body))
    assert leaflets(project).exit_code == 0
    long = pages_text(project / "dist/leaflets/long.pdf")
    assert len(long) >= 2
    assert [re.findall(r"\b(\d+) ?/ ?(\d+)", page) for page in long] == [
        [(str(n), str(len(long)))] for n in range(1, len(long) + 1)
    ]
    # One page: no "1 / 1", which tells a reader nothing.
    assert not re.search(r"\b\d+ ?/ ?\d+", pages_text(project / "dist/leaflets/short.pdf")[0])
    # In the booklet the long case's pages go on from the cover's.
    booklet = pages_text(project / "dist/leaflets/all.pdf")
    total = len(booklet)
    assert total % 4 == 0
    numbers = [re.findall(r"\b(\d+) ?/ ?(\d+)", page) for page in booklet[1:-1]]
    assert numbers == [[(str(n), str(total))] for n in range(2, total)]


def test_imposed_is_added_and_removed_by_the_flag_alone(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("room.md", case_text(title="Room"))
    assert leaflets(project).exit_code == 0
    assert not (project / "dist/leaflets/all.imposed.pdf").exists()
    booklet = (project / "dist/leaflets/all.pdf").read_bytes()
    assert leaflets(project, "--imposed").exit_code == 0  # no leaflet changed, the output did
    with pikepdf.open(project / "dist/leaflets/all.imposed.pdf") as sheets:
        assert len(sheets.pages) == 2  # cover, case, notes, closing: 4 pages on 2 sides
    assert (project / "dist/leaflets/all.pdf").read_bytes() == booklet
    assert leaflets(project).exit_code == 0
    assert not (project / "dist/leaflets/all.imposed.pdf").exists()
