"""Leaflet PDFs read back: pages, sizes, text in each script, fonts, metadata, QR codes, reproducibility."""

from __future__ import annotations

import io
import multiprocessing
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.html
import pypdf
import pytest
from click.testing import CliRunner, Result

from site_builder import runtime
from site_builder.cases.load import load_cases
from site_builder.cli import main
from site_builder.leaflets import compose as leaflet_module
from site_builder.leaflets import pdf as pdf_module
from site_builder.settings.config import load_settings
from tests.conftest import ROOT, SAMPLE_CASES, case_text

NOTES = ("Notes", "Заметки", "Noter")
MM = 72 / 25.4
A5 = (148 * MM, 210 * MM)
SIZES = {"A4": (210 * MM, 297 * MM), "A5": A5, "A6": (105 * MM, 148 * MM), "Letter": (612.0, 792.0)}


def reader(path: Path) -> pypdf.PdfReader:
    """Open a PDF."""
    return pypdf.PdfReader(io.BytesIO(path.read_bytes()))


def text(path: Path) -> str:
    """All extracted text of a PDF."""
    return "\n".join(page.extract_text() for page in reader(path).pages)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample cases' leaflets, built once for this module."""
    root = tmp_path_factory.mktemp("leaflets")
    shutil.copytree(SAMPLE_CASES, root / "cases")
    shutil.copy(ROOT / "site.toml", root / "site.toml")
    args = [
        "leaflets",
        "--cases",
        str(root / "cases"),
        "--config",
        str(root / "site.toml"),
        "--out",
        str(root / "dist"),
    ]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root / "dist/leaflets"


def test_one_pdf_per_case_and_a_booklet_per_language(samples: Path) -> None:
    names = sorted(p.name for p in samples.iterdir())
    assert {n for n in names if n.startswith("all.")} == {"all.pdf", "all.ru.pdf", "all.da.pdf"}
    assert len(names) == 12 + 3
    assert "gostinitsa-konferents-zal.pdf" not in names  # a draft


def test_pages_size_text_and_metadata(samples: Path) -> None:
    for pdf in samples.glob("*.pdf"):
        doc = reader(pdf)
        if not pdf.name.startswith("all."):
            assert 1 <= len(doc.pages) <= 2, pdf
        for page in doc.pages:
            assert float(page.mediabox.width) == pytest.approx(A5[0], abs=0.1)
            assert float(page.mediabox.height) == pytest.approx(A5[1], abs=0.1)
            if page.extract_text().startswith(NOTES):
                continue  # a booklet's lined notes page, padding it to a multiple of 4
            assert len(page.extract_text().strip()) > 40, f"{pdf.name} has a page without text"
    ru = samples / "taksi-otchet-posle-nizkoy-otsenki.pdf"
    ru_text = text(ru)
    for word in (
        "Опоздание к утреннему поезду",
        "ПРОБЛЕМА",
        "РЕШЕНИЕ",
        "СПАСИБО",
        "Решено за 1 день",
        "Ирина Соколова",
    ):
        assert word in ru_text, word
    # The industry in the case's language too ([languages.ru.industries]), beside the company's name.
    assert ru_text.splitlines()[0] == "NORTHWIND SERVICES такси"
    meta = reader(ru).metadata
    assert meta is not None
    assert meta.title == "Опоздание к утреннему поезду и отчёт после оценки «2»"
    assert meta.author == "Northwind Services"
    assert str(meta["/CreationDate"]) == "D:20261007000000Z"
    catalog: Any = reader(ru).trailer["/Root"]
    assert catalog["/Lang"] == "ru"
    assert bool(catalog["/MarkInfo"]["/Marked"])  # tagged PDF
    da_text = text(samples / "rengoering-glemte-etager.pdf")
    for word in ("Tre uger uden rengøring", "LØSNING", "TAK", "Løst på 2 dage", "Mette Kjær", "SERVICES rengøring"):
        assert word in da_text, word


def test_fonts_are_the_shipped_ones_and_embedded(samples: Path) -> None:
    for pdf in samples.glob("*.pdf"):
        for page in reader(pdf).pages:
            resources: Any = page["/Resources"]
            fonts = resources["/Font"]
            for ref in fonts.values():
                font = ref.get_object()
                descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font)[
                    "/FontDescriptor"
                ]
                assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, (pdf, font["/BaseFont"])
                assert re.search(r"Leaflet-(Sans|Serif|Fallback)", font["/BaseFont"]), font["/BaseFont"]


def test_qr_code_decodes_to_the_case_url(samples: Path, tmp_path: Path) -> None:
    pdf = samples / "wedding-night-room-found.pdf"
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    [png] = tmp_path.glob("page*.png")
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True, check=True).stdout
    assert decoded.strip() == "https://proof.example.com/cases/wedding-night-room-found/"
    assert "https://proof.example.com/cases/wedding-night-room-found/" in text(pdf).replace("\n", "")


@pytest.mark.parametrize(("name", "language", "title", "date"), [
    ("all.pdf", "en", "We missed a dental clinic", r"\b(January|February|March|April|May|June|July|August|September|October|November|December) \d+, 20\d\d"),
    ("all.ru.pdf", "ru", "Опоздание к утреннему поезду", r"\b\d+ (января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря) 20\d\d"),
    ("all.da.pdf", "da", "Tre uger uden rengøring", r"\b\d+\. (januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december) 20\d\d"),
])  # fmt: skip
def test_each_language_has_its_booklet(samples: Path, name: str, language: str, title: str, date: str) -> None:
    booklet = reader(samples / name)
    cases = load_cases(SAMPLE_CASES, load_settings(ROOT / "site.toml"))
    own = [c for c in cases if c.language == language and not c.draft]
    leaflet_pages = sum(len(reader(samples / f"{c.slug}.pdf").pages) for c in own)
    assert len(booklet.pages) == 1 + leaflet_pages + (-(2 + leaflet_pages) % 4) + 1  # cover, notes, closing
    cover = booklet.pages[0].extract_text()
    assert title in cover
    # The company's address in the booklet's language, where site.toml gives one ([languages.ru.company]).
    assert ("1058 Копенга" in cover) == (language == "ru") and ("1058 København" in cover) == (language != "ru")
    others = [c.title for c in cases if c.language != language]
    assert not [t for t in others if t[:20] in cover], "a case of another language on the cover"
    # One date format throughout: every date on the cover is written the booklet language's way.
    dates = re.findall(r"\b\d{1,2}[ .]\s?\S+ 20\d\d|\b[A-Z][a-z]+ \d{1,2}, 20\d\d", cover)
    assert len(dates) == len(own) and all(re.search(date, d) for d in dates), dates
    meta = booklet.metadata
    assert meta is not None and meta["/Author"] and re.fullmatch(r"D:\d{14}Z", str(meta["/CreationDate"]))
    assert str(booklet.trailer["/Root"]["/Lang"]) == language  # type: ignore[index]


def test_leaflets_language_makes_that_booklet_only(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("hotel.md", case_text(title="Hotel", date="2026-03-01"))
    write_case("taxi.md", case_text(title="Taxa", date="2026-03-09", language="da").replace("## Thanks", "## Tak"))
    assert build_leaflets(project).exit_code == 0
    assert sorted(p.name for p in (project / "dist/leaflets").iterdir()) == [
        "all.da.pdf",
        "all.pdf",
        "hotel.pdf",
        "taxi.pdf",
    ]
    assert build_leaflets(project, "--language", "da").exit_code == 0
    assert sorted(p.name for p in (project / "dist/leaflets").iterdir()) == ["all.da.pdf", "hotel.pdf", "taxi.pdf"]
    assert "Taxa" in reader(project / "dist/leaflets/all.da.pdf").pages[0].extract_text()
    result = build_leaflets(project, "--language", "xx")
    assert result.exit_code == 2 and "--language" in result.output


def words_outside_page(pdf: Path) -> list[str]:
    """Words whose bounding box pokes out of the page (pdftotext -bbox)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, check=True).stdout
    doc = lxml.html.fromstring(out)
    bad = []
    for page in doc.iter("page"):
        width, height = float(page.get("width")), float(page.get("height"))
        for word in page.iter("word"):
            x1, y1 = float(word.get("xmax")), float(word.get("ymax"))
            if x1 > width + 0.5 or y1 > height + 0.5 or float(word.get("xmin")) < -0.5:
                bad.append(word.text_content())
    return bad


def build_leaflets(project: Path, *args: str) -> Result:
    """Run `leaflets` in a project folder."""
    return CliRunner().invoke(main, ["leaflets", "--jobs", "1", *args], catch_exceptions=False)


def test_long_word_and_long_case_stay_on_the_page(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("word.md", case_text(word="Ж" * 300))
    long_body = "\n\n".join(
        f"Paragraph {i}: " + "the courier did not ring and left the parcel in the rain. " * 8 for i in range(14)
    )
    write_case("long.md", case_text(title="Long", word="simply\n\n" + long_body))
    assert build_leaflets(project).exit_code == 0
    for name in ("word.pdf", "long.pdf"):
        assert words_outside_page(project / "dist/leaflets" / name) == [], name
    long = reader(project / "dist/leaflets/long.pdf")
    assert len(long.pages) >= 2
    assert len(long.pages[-1].extract_text().split()) > 15, "no near-empty last page"
    assert "Ж" * 30 in text(project / "dist/leaflets/word.pdf").replace("\n", "").replace("-", "")


@pytest.mark.parametrize("size", ["A4", "A6", "Letter"])
def test_paper_sizes(project: Path, write_case: Callable[..., Path], size: str) -> None:
    write_case("room.md", case_text())
    assert build_leaflets(project, "--size", size).exit_code == 0
    for page in reader(project / "dist/leaflets/room.pdf").pages:
        assert float(page.mediabox.width) == pytest.approx(SIZES[size][0], abs=0.1)
        assert float(page.mediabox.height) == pytest.approx(SIZES[size][1], abs=0.1)


def test_print_marks_add_bleed(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("room.md", case_text())
    assert build_leaflets(project, "--print-marks").exit_code == 0
    page = reader(project / "dist/leaflets/room.pdf").pages[0]
    trim = page.trimbox
    assert float(trim.width) == pytest.approx(A5[0], abs=0.1)
    assert float(page.bleedbox.width) == pytest.approx(A5[0] + 6 * MM, abs=0.1)
    assert float(page.mediabox.width) == pytest.approx(float(page.bleedbox.width))  # marks sit in the bleed


def test_reproducible_bytes_and_source_date_epoch(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_case("room.md", case_text())
    assert build_leaflets(project).exit_code == 0
    first = (project / "dist/leaflets/room.pdf").read_bytes()
    booklet = (project / "dist/leaflets/all.pdf").read_bytes()
    shutil.rmtree(project / ".site-builder")
    assert build_leaflets(project).exit_code == 0
    assert (project / "dist/leaflets/room.pdf").read_bytes() == first
    assert (project / "dist/leaflets/all.pdf").read_bytes() == booklet
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    assert build_leaflets(project).exit_code == 0
    meta = reader(project / "dist/leaflets/room.pdf").metadata
    assert meta is not None and str(meta["/CreationDate"]) == "D:20260101000000Z"


def test_parallel_equals_serial(project: Path, write_case: Callable[..., Path]) -> None:
    for i in range(4):
        write_case(f"c{i}.md", case_text(title=f"Case {i}", date=f"2026-03-0{i + 1}"))
    assert build_leaflets(project, "--jobs", "1").exit_code == 0
    serial = {p.name: p.read_bytes() for p in (project / "dist/leaflets").iterdir()}
    shutil.rmtree(project / ".site-builder")
    assert CliRunner().invoke(main, ["leaflets", "--jobs", "2"]).exit_code == 0
    assert {p.name: p.read_bytes() for p in (project / "dist/leaflets").iterdir()} == serial


def test_unchanged_leaflets_are_not_rendered_again(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_case("a.md", case_text(title="Case A"))
    write_case("b.md", case_text(title="Case B"))
    rendered: list[str] = []
    real = pdf_module.pdf_from_html

    def counting(job: tuple[str, float, bool]) -> bytes:
        rendered.append(re.search(r"<title>(.*?)</title>", job[0]).group(1))  # type: ignore[union-attr]
        return real(job)

    monkeypatch.setattr(leaflet_module, "pdf_from_html", counting)
    assert build_leaflets(project).exit_code == 0
    # The page-number palette has no title; no notes page: cover, two cases and the closing page make 4.
    assert sorted(rendered) == ["", "All our cases, and how to reach us", "Case A", "Case B", "Complaints we fixed"]
    rendered.clear()
    assert build_leaflets(project).exit_code == 0
    assert rendered == []
    path = project / "cases/a.md"
    path.write_text(path.read_text(encoding="utf-8").replace("paid for it", "paid for it at once"), encoding="utf-8")
    assert build_leaflets(project).exit_code == 0
    assert rendered == ["Case A"]
    rendered.clear()
    # Settings no leaflet shows do not lay them out again; one they show does.
    (project / "site.toml").write_text("search = false\nper_page = 3\n[smtp]\nport = 2525\n", encoding="utf-8")
    assert build_leaflets(project).exit_code == 0
    assert rendered == []
    (project / "site.toml").write_text('search = false\ntitle = "Fixed for you"\n', encoding="utf-8")
    assert build_leaflets(project).exit_code == 0
    assert len(rendered) == 5
    rendered.clear()
    for cached in (project / ".site-builder/cache").rglob("*"):
        if cached.is_file():
            cached.write_bytes(b"damaged")
    assert build_leaflets(project).exit_code == 0
    assert len(rendered) == 5
    assert reader(project / "dist/leaflets/a.pdf").pages


def test_booklet_filters(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("hotel.md", case_text(title="Hotel", date="2026-03-01"))
    write_case("taxi.md", case_text(title="Taxi", date="2026-03-09").replace("industry: hotels", "industry: taxi"))
    assert build_leaflets(project, "--industry", "taxi").exit_code == 0
    cover = reader(project / "dist/leaflets/all.pdf").pages[0].extract_text()
    assert "Taxi" in cover and "Hotel" not in cover
    assert build_leaflets(project, "--since", "2026-03-05").exit_code == 0
    assert len(reader(project / "dist/leaflets/all.pdf").outline) == 1
    assert build_leaflets(project, "--tag", "booking").exit_code == 0
    assert len(reader(project / "dist/leaflets/all.pdf").outline) == 2
    assert (project / "dist/leaflets/hotel.pdf").is_file() and (project / "dist/leaflets/taxi.pdf").is_file()


def test_untrusted_text_in_a_leaflet(project: Path, write_case: Callable[..., Path]) -> None:
    write_case(
        "evil.md",
        case_text(title="<script>alert(1)</script>", extra='customer: "Hidden Person"\n').replace(
            "The room was", '<a href="javascript:alert(1)">x</a> <img src="http://127.0.0.1:9/track.png"> The room was'
        ),
    )
    # A picture from another site is refused before anything is laid out (test_hostile_input.py).
    refused = build_leaflets(project)
    assert refused.exit_code == 1 and "loads http://127.0.0.1:9/track.png from another site" in refused.output
    assert not (project / "dist/leaflets").exists()
    evil = project / "cases/evil.md"
    evil.write_text(evil.read_text().replace('<img src="http://127.0.0.1:9/track.png">', ""))
    assert build_leaflets(project).exit_code == 0
    pdf = project / "dist/leaflets/evil.pdf"
    data = pdf.read_bytes()
    assert b"/JavaScript" not in data and b"/JS " not in data and b"javascript:" not in data
    content = text(pdf)
    assert "<script>alert(1)</script>" in content and "Hidden Person" not in content


def test_site_links_to_its_leaflets(sample_project: Path, cli: Callable[..., Result]) -> None:
    assert cli("build").exit_code == 0
    site = sample_project / "dist/site"
    page = lxml.html.fromstring((site / "cases/cleaning-missed-office/index.html").read_bytes())
    link = page.cssselect(".print-link a")[0].get("href")
    assert link == "../../leaflets/cleaning-missed-office.pdf"
    assert (site / "cases/cleaning-missed-office" / link).resolve().is_file()
    index = lxml.html.fromstring((site / "index.html").read_bytes())
    assert index.cssselect(".print-link a")[0].get("href") == "leaflets/all.pdf"
    assert (site / "leaflets/all.pdf").read_bytes() == (sample_project / "dist/leaflets/all.pdf").read_bytes()


LIBRARIES = (
    "import weasyprint.text.ffi as f\n"
    "names = 'gobject pango harfbuzz harfbuzz_subset harfbuzz_vector fontconfig pangoft2'.split()\n"
    "print([(n, getattr(f, n) is not None) for n in names])"
)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)


def test_quick_weasyprint_import_loads_the_same_libraries_and_restores_the_search() -> None:
    quick = _python(
        "import ctypes.util; before = ctypes.util.find_library\n"
        "from site_builder.runtime import import_weasyprint; import_weasyprint()\n"
        "assert ctypes.util.find_library is before\n" + LIBRARIES
    )
    usual = _python("import weasyprint\n" + LIBRARIES)
    assert quick.stdout == usual.stdout and "('pango', True)" in usual.stdout


def test_quick_weasyprint_import_falls_back_to_the_library_search() -> None:
    # A system where the soname alone is not found: only ctypes' search finds pango.
    done = _python(
        "import cffi.api, ctypes.util\n"
        "from site_builder import runtime as weasy\n"
        "load = cffi.api._load_backend_lib\n"
        "def only_searched(backend, name, flags):\n"
        "    if name == 'libpango-1.0.so.0' and ctypes.util.find_library is weasy._not_searched:\n"
        "        raise OSError('not on the loader path')\n"
        "    return load(backend, name, flags)\n"
        "cffi.api._load_backend_lib = only_searched\n"
        "w = weasy.import_weasyprint()\n"
        "print(w.HTML(string='<p>x</p>').write_pdf()[:5])\n"
    )
    assert done.stdout.strip() == "b'%PDF-'"  # nothing else printed: WeasyPrint's advice was swallowed


def _weasyprint_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("weasyprint-*")}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_leaflet_that_cannot_be_laid_out_is_named_and_nothing_changes(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    write_case("room.md", case_text(title="Room"))
    write_case("late.md", case_text(title="Late parcel"))
    assert build_leaflets(project).exit_code == 0
    before = {p.name: p.read_bytes() for p in (project / "dist/leaflets").iterdir()}
    write_case("late.md", case_text(title="Late parcel, again"))
    real = pdf_module.pdf_from_html

    def failing(job: tuple[str, float, bool]) -> bytes:
        if "Late parcel, again" in job[0]:
            raise ValueError("no room for the table")
        return real(job)

    # Patched before the build forks its workers, so they fail too.
    monkeypatch.setattr(pdf_module, "pdf_from_html", failing)
    monkeypatch.setattr(leaflet_module, "pdf_from_html", failing)
    result = CliRunner().invoke(main, ["leaflets", "--jobs", jobs])
    assert result.exit_code == 1, result.output
    assert "Leaflet error: late.pdf: could not be laid out: " in result.output
    assert "no room for the table" in result.output and "Traceback" not in result.output
    assert {p.name: p.read_bytes() for p in (project / "dist/leaflets").iterdir()} == before


def test_workers_leave_no_process_and_no_font_folder(
    project: Path,
    write_case: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A temporary folder of this test's own (the workers fork with it): other test runs on the
    # machine make and remove WeasyPrint folders in the shared one.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("tmp")))
    for i in range(5):
        write_case(f"c{i}.md", case_text(title=f"Case {i}", date=f"2026-03-0{i + 1}"))
    folders = _weasyprint_folders()
    assert folders == set()
    assert CliRunner().invoke(main, ["leaflets", "--jobs", "2"]).exit_code == 0
    assert len(list((project / "dist/leaflets").glob("*.pdf"))) == 6
    assert multiprocessing.active_children() == []
    assert _weasyprint_folders() == folders
    # Nothing to lay out: the worker forked at the start is stopped without a job.
    result = CliRunner().invoke(main, ["leaflets", "--jobs", "2"])
    assert result.exit_code == 0 and "6 files, 0 new or changed" in result.output
    assert multiprocessing.active_children() == [] and _weasyprint_folders() == folders


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_weasyprint_that_cannot_load_is_reported(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    write_case("room.md", case_text(title="Room"))

    def missing() -> None:
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(runtime, "import_weasyprint", missing)  # before the workers are forked
    result = CliRunner().invoke(main, ["leaflets", "--jobs", jobs])
    assert result.exit_code == 1 and "Leaflet error: " in result.output, result.output
    assert "cannot load library 'libpango-1.0-0'" in result.output and "Traceback" not in result.output
    assert not (project / "dist/leaflets").exists()


def test_layouts_started_early_are_kept_even_when_not_collected(project: Path, write_case: Callable[..., Path]) -> None:
    for i in range(4):
        write_case(f"c{i}.md", case_text(title=f"Case {i}", date=f"2026-03-0{i + 1}"))
    assert CliRunner().invoke(main, ["leaflets", "--jobs", "2"]).exit_code == 0
    # The cache gone, the leaflets still in place: the workers lay out the first ones anyway
    # (started before the writer finds them in place); those must land in the cache, not be lost.
    shutil.rmtree(project / ".site-builder/cache/leaflets")
    notes = list((project / ".site-builder/cache").glob("shortcut-*"))
    assert notes
    for note in notes:
        note.unlink()  # a full build: the note would say nothing changed, and nothing would be laid out
    result = CliRunner().invoke(main, ["leaflets", "--jobs", "2"])
    assert result.exit_code == 0 and "0 new or changed" in result.output
    kept = [p for p in (project / ".site-builder/cache/leaflets").rglob("*") if p.is_file() and p.name[0] != "."]
    assert kept, "the early layouts were thrown away"


@pytest.mark.parametrize(("old", "new"), [("paid for it", "paid for it twice"), ("Late parcel", "Parcel late")])
def test_cached_leaflets_no_output_uses_go_after_a_month(
    project: Path, write_case: Callable[..., Path], old: str, new: str
) -> None:
    # A text edit (the shortcut) and a retitle (a full build, a new cover too).
    import os
    import time

    def cached() -> set[str]:
        return {
            p.name for p in (project / ".site-builder/cache/leaflets").rglob("*") if p.is_file() and p.name[0] != "."
        }

    write_case("room.md", case_text(title="Room"))
    write_case("late.md", case_text(title="Late parcel"))
    assert build_leaflets(project).exit_code == 0
    first = cached()
    assert len(first) == 5  # two leaflets, the booklet's cover and closing page, the page-number palette
    month_ago = time.time() - 31 * 86400
    for path in (project / ".site-builder/cache/leaflets").rglob("*"):
        if path.is_file():
            os.utime(path, (month_ago, month_ago))  # all of them old, the ones in use too (and the last prune)
    late = project / "cases/late.md"
    late.write_text(late.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    assert build_leaflets(project).exit_code == 0
    second = cached()
    # The edited case's old leaflet goes (and the old cover, when a title changed); the other
    # leaflet (in the output) and a cover read again for the booklet stay.
    changed = 1 if old == "paid for it" else 2
    assert len(first - second) == changed and len(second - first) == changed
    late.write_text(late.read_text(encoding="utf-8").replace(new, old), encoding="utf-8")
    assert build_leaflets(project).exit_code == 0
    # Changed back: the output of the build before last still holds the first leaflet, so nothing
    # is laid out; the edit's leaflet, unused only since a moment, stays cached for a month.
    assert cached() == second


def test_each_home_links_a_booklet_that_is_there(project: Path, write_case: Callable[..., Path]) -> None:
    # Every case in Danish on a site whose language is English: the Danish home links all.da.pdf,
    # and that is the booklet the leaflets make (they once made all.pdf, the only one, for it).
    write_case("taxa.md", case_text(title="Taxa", language="da").replace("## Thanks", "## Tak"))
    result = CliRunner().invoke(main, ["build", "--jobs", "1"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    home = lxml.html.fromstring((project / "dist/site/da/index.html").read_bytes())
    (link,) = home.cssselect(".print-link a")
    assert link.get("href") == "../leaflets/all.da.pdf"
    assert (project / "dist/site/da" / link.get("href")).resolve().is_file()
    assert sorted(p.name for p in (project / "dist/leaflets").iterdir()) == ["all.da.pdf", "taxa.pdf"]
