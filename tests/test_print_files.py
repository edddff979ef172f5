"""Print-shop leaflets (PDF/X-4) and screen leaflets (PDF/UA-1) read back with pikepdf, qpdf,
Ghostscript and pdffonts; the preflight of `check --print`."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from click.testing import CliRunner

from site_builder.cli import main
from site_builder.leaflets.preflight import check_pdf
from tests.browser import require
from tests.conftest import ROOT, SAMPLE_CASES, case_text

MM = 72 / 25.4
A5 = (148 * MM, 210 * MM)
Colour = tuple[float, ...]


def build(root: Path, *args: str) -> Path:
    """The sample cases' leaflets built into root/dist with `args`."""
    if not (root / "cases").exists():
        shutil.copytree(SAMPLE_CASES, root / "cases")
        shutil.copy(ROOT / "site.toml", root / "site.toml")
    command = ["leaflets", "--cases", str(root / "cases"), "--config", str(root / "site.toml")]
    result = CliRunner().invoke(main, [*command, "--out", str(root / "dist"), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root / "dist/leaflets"


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample cases as print-shop files."""
    return build(tmp_path_factory.mktemp("print"), "--print")


@pytest.fixture(scope="module")
def screen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample cases as screen leaflets (the default)."""
    return build(tmp_path_factory.mktemp("screen"))


def pdfs(folder: Path) -> list[Path]:
    """Every leaflet and booklet in a folder."""
    found = sorted(folder.glob("*.pdf"))
    assert len(found) == 15
    return found


class Colours:
    """Every colour operator of a PDF's pages and forms, with what it colours."""

    def __init__(self) -> None:
        self.rgb: list[str] = []  # operators that set an RGB colour
        self.spaces: set[str] = set()  # colour spaces selected
        self.text: Counter[Colour] = Counter()  # fill colour when text is shown, per text operator
        self.qr_strokes: set[Colour] = set()  # stroke colours of long paths: the QR code's modules
        self.all: set[Colour] = set()

    def walk(self, holder: Any) -> None:
        """Read one content stream and the forms it draws."""
        fill: Colour = (0.0,)
        stroke: Colour = (0.0,)
        saved: list[tuple[Colour, Colour]] = []
        segments = 0
        resources = holder.get("/Resources")
        xobjects = resources.get("/XObject") if resources is not None else None
        for instruction in pikepdf.parse_content_stream(holder):
            op = str(instruction.operator)
            colour_op = op in ("rg", "RG", "k", "K", "sc", "scn", "SC", "SCN")
            values = tuple(float(v) for v in instruction.operands) if colour_op else ()
            if op in ("rg", "RG"):
                self.rgb.append(f"{' '.join(map(str, values))} {op}")
            elif op in ("cs", "CS"):
                self.spaces.add(str(instruction.operands[0]))
            elif op in ("k", "sc", "scn"):
                fill = values
                self.all.add(values)
            elif op in ("K", "SC", "SCN"):
                stroke = values
                self.all.add(values)
            elif op == "q":
                saved.append((fill, stroke))
            elif op == "Q" and saved:
                fill, stroke = saved.pop()
            elif op in ("Tj", "TJ", "'", '"'):
                self.text[fill] += 1
            elif op in ("m", "l"):
                segments += 1
            elif op in ("S", "f", "B", "n", "f*", "B*"):
                if op == "S" and segments > 100:  # a QR code is hundreds of strokes, a border a few
                    self.qr_strokes.add(stroke)
                segments = 0
            elif op == "Do" and xobjects is not None:
                xobject = xobjects[instruction.operands[0]]
                if xobject.get("/Subtype") == "/Form":
                    self.walk(xobject)


def colours(path: Path) -> Colours:
    """The colours of every page of a PDF."""
    found = Colours()
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            found.walk(page.obj)
    return found


def xmp(pdf: pikepdf.Pdf) -> str:
    """The XMP metadata packet."""
    return str(pdf.Root.Metadata.read_bytes().decode())


def test_print_files_are_pdf_x4_with_a_cmyk_output_intent(printed: Path) -> None:
    for path in pdfs(printed):
        with pikepdf.open(path) as pdf:
            assert pdf.pdf_version == "1.6", path.name
            (intent,) = pdf.Root.OutputIntents
            assert intent.S == "/GTS_PDFX"
            assert intent.DestOutputProfile.N == 4
            assert intent.DestOutputProfile.read_bytes()[16:20] == b"CMYK"
            assert str(intent.OutputConditionIdentifier) == "Artifex CMYK SWOP Profile"
            assert "<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in xmp(pdf), path.name
            assert pdf.docinfo.Trapped == "/False"
            assert "/Annots" not in pdf.pages[0].obj  # no links on paper
            # A booklet carries the 140 kB profile once, not once per leaflet.
            profiles = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/N") == 4]
            assert len(profiles) == 1, path.name


def test_print_pages_have_trim_and_bleed_3mm_apart_and_marks_outside_the_bleed(printed: Path) -> None:
    for path in pdfs(printed):
        with pikepdf.open(path) as pdf:
            for page in pdf.pages:
                trim = [float(v) for v in page.obj.TrimBox]
                bleed = [float(v) for v in page.obj.BleedBox]
                media = [float(v) for v in page.obj.MediaBox]
                assert trim[2] - trim[0] == pytest.approx(A5[0], abs=0.1)
                assert trim[3] - trim[1] == pytest.approx(A5[1], abs=0.1)
                for t, b, m, sign in zip(trim, bleed, media, (-1, -1, 1, 1), strict=True):
                    assert (b - t) * sign == pytest.approx(3 * MM, abs=0.01), path.name
                    assert (m - t) * sign == pytest.approx(10 * MM, abs=0.01)
                marks = [i for i in pikepdf.parse_content_stream(page) if str(i.operator) in ("m", "l", "CS", "SCN")][
                    -(2 + 16) :
                ]
                assert str(marks[0].operands[0]) == "/SBRegistration"
                spaces = page.obj.Resources.ColorSpace
                assert list(spaces.SBRegistration)[:2] == [pikepdf.Name.Separation, pikepdf.Name.All]
                # Each mark runs from 4 mm to 10 mm outside the trim: never into the 3 mm bleed.
                points = [(float(i.operands[0]), float(i.operands[1])) for i in marks[2:]]
                for x, y in points:
                    outside = max(trim[0] - x, x - trim[2], trim[1] - y, y - trim[3])
                    assert outside >= 4 * MM - 0.01


def test_every_colour_of_a_print_file_is_cmyk_and_text_and_qr_are_black_ink_alone(printed: Path) -> None:
    for path in pdfs(printed):
        found = colours(path)
        assert found.rgb == [], path.name
        assert found.spaces <= {"/DeviceCMYK", "/SBRegistration"}, path.name
        assert all(len(c) in (1, 4) for c in found.all), path.name  # CMYK, or the registration tint
        # No rich black: a dark colour is K alone.
        assert [c for c in found.all if len(c) == 4 and c[3] >= 0.9 and any(c[:3])] == [], path.name
        body, _ = found.text.most_common(1)[0]
        assert body == (0, 0, 0, 1), path.name
        # Grey text is a tint of K; only the headings' colours use the other inks.
        assert {c for c in found.text if any(c[:3])} <= {
            (0.9, 0.25, 0.7, 0.3),
            (0, 0.6, 1, 0.25),
            (0.6, 0.75, 0, 0),
            (0.9, 0.3, 0.75, 0.5),
        }
        assert found.qr_strokes == {(0, 0, 0, 1)}, path.name  # the QR code's modules


def test_print_files_pass_qpdf_and_ghostscript_and_embed_every_font(printed: Path) -> None:
    for tool in ("qpdf", "gs", "pdffonts"):
        require(tool, tool)
    for path in pdfs(printed):
        checked = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0 and "No syntax or stream encoding errors" in checked.stdout, checked.stdout
        command = ["gs", "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-sDEVICE=nullpage", str(path)]
        shown = subprocess.run(command, capture_output=True, text=True)
        assert (shown.returncode, shown.stdout, shown.stderr) == (0, "", ""), path.name
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        rows = fonts.splitlines()[2:]
        assert rows, path.name
        for row in rows:
            assert re.search(r"\s(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+$", row), row
            assert row.split()[-5] == "yes", row  # emb


def test_print_files_are_byte_reproducible_with_both_dates_fixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases/room.md").write_text(case_text(date="2026-03-05"), encoding="utf-8")
    args = ["leaflets", "--print", "--jobs", "1", "--cases", str(tmp_path / "cases"), "--out", str(tmp_path / "dist")]
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, args).exit_code == 0
    first = {p.name: p.read_bytes() for p in (tmp_path / "dist/leaflets").iterdir()}
    shutil.rmtree(tmp_path / ".site-builder")
    shutil.rmtree(tmp_path / "dist")
    assert CliRunner().invoke(main, args).exit_code == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "dist/leaflets").iterdir()} == first
    for name in ("room.pdf", "all.pdf"):
        with pikepdf.open(io.BytesIO(first[name])) as pdf:
            assert str(pdf.docinfo.CreationDate) == str(pdf.docinfo.ModDate) == "D:20260305000000Z", name
            assert "<xmp:ModifyDate>2026-03-05T00:00:00Z</xmp:ModifyDate>" in xmp(pdf)
            assert "<xmp:CreateDate>2026-03-05T00:00:00Z</xmp:CreateDate>" in xmp(pdf)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    assert CliRunner().invoke(main, args).exit_code == 0
    with pikepdf.open(tmp_path / "dist/leaflets/room.pdf") as pdf:
        assert str(pdf.docinfo.CreationDate) == str(pdf.docinfo.ModDate) == "D:20260101000000Z"


def test_screen_leaflets_are_pdf_ua_with_tags_title_bookmarks_and_links(screen: Path) -> None:
    for path in pdfs(screen):
        if path.name.startswith("all"):
            continue  # the booklet is joined by pikepdf: its tags and bookmarks are the booklet's work
        with pikepdf.open(path) as pdf:
            assert pdf.pdf_version == "1.7"
            assert "/OutputIntents" not in pdf.Root
            assert "/StructTreeRoot" in pdf.Root
            assert bool(pdf.Root.MarkInfo.Marked)
            assert str(pdf.Root.Lang) in ("en", "ru", "da")
            assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle)
            assert 'pdfuaid:part="1"' in xmp(pdf)
            with pdf.open_outline() as outline:
                (title,) = outline.root
                assert title.title == str(pdf.docinfo.Title)
                assert len(title.children) >= 3  # the sections' headings
            uris = {str(a.A.URI) for page in pdf.pages for a in page.obj.get("/Annots", []) if a.Subtype == "/Link"}
            assert any(u.startswith("https://proof.example.com/") and "/cases/" in u for u in uris), uris
            assert "https://northwind.example/complaints" in uris  # the invitation to complain's form
            figures = [e for e in _elements(pdf.Root.StructTreeRoot) if e.get("/S") == "/Figure"]
            # "QR code: https://...", "QR-код: ...", "QR-kode: ..." in the case's language.
            assert any(": https://" in str(f.get("/Alt", "")) for f in figures), path.name


def _elements(node: Any) -> list[Any]:
    """Every structure element under a node."""
    kids = node.get("/K")
    if kids is None:
        return []
    found = []
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/MCR" and "/S" in kid:
            found += [kid, *_elements(kid)]
    return found


def _synthetic(path: Path, image_space: Any, pixels: int, placed_mm: float, text_pt: float, pages: int = 1) -> Path:
    """A PDF with one image placed at a size and one line of text at a size."""
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, b"\x80" * pixels * pixels * (3 if image_space == "/DeviceRGB" else 4))
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width = image.Height = pixels
    image.ColorSpace, image.BitsPerComponent = pikepdf.Name(image_space), 8
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    side = placed_mm * MM
    # Half size from a cm, then doubled in the text matrix: both count.
    content = f"q {side} 0 0 {side} 20 20 cm /Im0 Do Q q 0.5 0 0 0.5 0 0 cm BT /F1 {text_pt} Tf 2 0 0 2 40 400 Tm (Hi) Tj ET Q"
    for _ in range(pages):
        pdf.add_blank_page(page_size=A5)
        page = pdf.pages[-1]
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image), Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream(content.encode())
    pdf.save(path)
    return path


def test_preflight_reports_low_resolution_rgb_images_small_text_and_unpadded_booklets(tmp_path: Path) -> None:
    bad = _synthetic(tmp_path / "room.pdf", "/DeviceRGB", 200, 50.8, 5.0)  # 200 px over 2 in: 100 dpi
    said = [str(p) for p in check_pdf(bad, print_shop=True)]
    assert any("200x200 pixels is placed at 51x51 mm, 100 dpi" in s and "300 dpi" in s for s in said), said
    assert any("an RGB image in a print file" in s for s in said), said
    assert any("text set at 5.0 pt" in s and "6 pt" in s for s in said), said
    assert all(s.startswith(f"{bad}: page 1: ") for s in said), said
    good = _synthetic(tmp_path / "fine.pdf", "/DeviceCMYK", 600, 50.8, 6.0)  # 300 dpi, 6 pt
    assert check_pdf(good, print_shop=True) == []
    assert [str(p) for p in check_pdf(bad, print_shop=False) if "RGB" in str(p)] == []  # a screen file may be RGB
    booklet = _synthetic(tmp_path / "all.ru.pdf", "/DeviceCMYK", 600, 50.8, 8.0, pages=6)
    (problem,) = check_pdf(booklet, print_shop=True)
    assert str(problem) == (
        f"{booklet}: booklet: 6 pages, not a multiple of 4 "
        "(a folded booklet needs a multiple of 4: add blank pages before its back page)"
    )
    padded = _synthetic(tmp_path / "all.pdf", "/DeviceCMYK", 600, 50.8, 8.0, pages=8)
    assert check_pdf(padded, print_shop=True) == []


def test_check_print_preflights_the_built_print_files(printed: Path, screen: Path, tmp_path: Path) -> None:
    root = printed.parent.parent
    args = ["check", "--print", "--cases", str(root / "cases"), "--config", str(root / "site.toml")]
    result = CliRunner().invoke(main, [*args, "--out", str(root / "dist")])
    # The sample leaflets themselves are fine; a booklet is reported only while it is not padded to 4.
    problems = [line for line in result.output.splitlines() if "/leaflets/" in line]
    assert all(re.search(r"all(\.\w+)?\.pdf: booklet: \d+ pages, not a multiple of 4", p) for p in problems), problems
    assert result.exit_code == (1 if problems else 0), result.output
    if not problems:
        assert "pass preflight" in result.output
    # The screen files are RGB: preflighted as print files, every one is reported.
    result = CliRunner().invoke(main, [*args, "--out", str(screen.parent)])
    assert result.exit_code == 1
    assert sum("RGB colour in a print file" in line for line in result.output.splitlines()) == 15
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert result.output.strip().endswith("; run site-builder leaflets --print first.")
    assert "Traceback" not in result.output
