"""Typography (issue 17): one body size, a running header, pages that end well, A6 on one page,
addresses never hyphenated, numbers kept with their units on paper and on the web, the QR code's
quiet zone, no summary said twice, and every label in the case's language. PDFs are read back."""

from __future__ import annotations

import functools
import io
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pypdf
import pytest
import segno
from click.testing import CliRunner, Result
from PIL import Image

from site_builder import runtime
from site_builder.cases.load import load_cases
from site_builder.cases.typography import NBSP, NNBSP, tie_numbers, tie_text
from site_builder.cli import main
from site_builder.leaflets.compose import QUIET_ZONE, LeafletRenderer
from site_builder.leaflets.fill import document_fill
from site_builder.leaflets.options import SIZES, LeafletOptions
from site_builder.leaflets.pdf import font_configuration
from site_builder.settings.config import Settings, load_settings
from tests.conftest import ROOT, SAMPLE_CASES

PX = 0.75  # WeasyPrint writes sizes in CSS pixels under a 0.75 scale: 1 px = 0.75 pt
ZWSP = "\u200b"
SHORTEST = ("manufacturing-spec-abbreviations", "taxi-lufthavn-forsinket", "taksi-otchet-posle-nizkoy-otsenki")


def leaflets(root: Path, size: str, *args: str) -> Path:
    """`site-builder leaflets` of the project in `root` at `size`; the folder of the PDFs."""
    out = root / f"dist-{size}"
    config = ["--cases", str(root / "cases"), "--config", str(root / "site.toml"), "--out", str(out)]
    result = CliRunner().invoke(main, ["leaflets", "--size", size, *config, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out / "leaflets"


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample cases' leaflets on A5 and A6, built once through the CLI."""
    root = tmp_path_factory.mktemp("typography")
    shutil.copytree(SAMPLE_CASES, root / "cases")
    shutil.copy(ROOT / "site.toml", root / "site.toml")
    return {size: leaflets(root, size) for size in ("A5", "A6")}


def pages(pdf: Path) -> list[pypdf.PageObject]:
    """The pages of a PDF."""
    return list(pypdf.PdfReader(io.BytesIO(pdf.read_bytes())).pages)


def joined(pdf: Path) -> str:
    """A PDF's text with its lines joined as they were broken (and invisible break opportunities gone)."""
    return "".join(page.extract_text() for page in pages(pdf)).replace("\n", "").replace(ZWSP, "")


def case_pdfs(folder: Path) -> list[Path]:
    """Every leaflet in `folder`, without the booklets."""
    return sorted(p for p in folder.glob("*.pdf") if not p.name.startswith("all."))


def text_sizes(pdf: Path) -> Counter[float]:
    """How many characters each font size (pt) sets, from the content streams."""
    sizes: Counter[float] = Counter()
    with pikepdf.open(pdf) as document:
        for page in document.pages:
            size = 0.0
            for instruction in pikepdf.parse_content_stream(page):
                if not isinstance(instruction, pikepdf.ContentStreamInstruction):
                    continue
                operands, name = instruction.operands, str(instruction.operator)
                if name == "Tf":
                    size = round(float(operands[1]) * PX, 2)
                elif name == "Tj":
                    sizes[size] += len(bytes(operands[0])) // 2  # two-byte glyph ids
                elif name == "TJ":
                    sizes[size] += sum(
                        len(bytes(part)) // 2 for part in operands[0] if isinstance(part, pikepdf.String)
                    )
    return sizes


def body_size(pdf: Path) -> float:
    """The size most of a leaflet's characters are set in: its body text."""
    return text_sizes(pdf).most_common(1)[0][0]


# -- One body size ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "points"), [("A5", 9.5), ("A6", 8.5)])
def test_one_body_size_for_every_leaflet_of_a_paper_size(samples: dict[str, Path], size: str, points: float) -> None:
    assert SIZES[size] == points
    found = {pdf.name: body_size(pdf) for pdf in case_pdfs(samples[size])}
    assert len(found) == 12
    assert all(value == pytest.approx(points, abs=0.01) for value in found.values()), found
    # Nothing in the body is set smaller to make it fit: no text but footnotes and labels under 6 pt.
    for pdf in case_pdfs(samples[size]):
        assert min(text_sizes(pdf)) >= 5.2, pdf.name


def test_sizes_of_every_paper() -> None:
    assert SIZES == {"A4": 11.0, "A5": 9.5, "A6": 8.5, "Letter": 11.0}
    assert SIZES["A5"] >= 9.5 and SIZES["A6"] >= 8.5


def test_a_long_case_is_laid_out_once(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No shrink-to-fit: one layout per leaflet, however long."""
    weasyprint = runtime.import_weasyprint()
    layouts = []
    real = weasyprint.HTML.render

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        layouts.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.HTML, "render", counted)
    write_case("long.md", generated_case("Long", paragraphs=12))
    result = CliRunner().invoke(main, ["leaflets", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    # The leaflet, and the booklet's cover, page-number palette and closing page (no notes page:
    # the two-page leaflet, cover and closing page make 4 pages).
    assert len(layouts) == 4
    assert len(pages(project / "dist/leaflets/long.pdf")) == 2


# -- Running header and the fill of pages -------------------------------------------------------------


PARAGRAPH = (
    "The courier left the parcel at the wrong door, and nobody rang. The customer waited at home all "
    "afternoon, called twice and was told the parcel had been delivered."
)


def generated_case(title: str, paragraphs: int, language: str = "en", fix_items: int = 3) -> str:
    """A case whose Problem has `paragraphs` paragraphs beyond its first; the rest of typical length."""
    headings = {
        "en": ("Problem", "Cause", "Fix", "Thanks"),
        "ru": ("Проблема", "Причина", "Решение", "Спасибо"),
        "da": ("Problem", "Årsag", "Løsning", "Tak"),
    }[language]
    more = "\n\n".join(PARAGRAPH for _ in range(paragraphs))
    items = "\n".join(f"- A change we made so it cannot happen again, number {i + 1}." for i in range(fix_items))
    return f"""---
title: "{title}"
date: 2026-03-05
received: 2026-03-01
resolved: 2026-03-03
industry: hotels
costs: [time, emotional]
compensation: "A refund of the delivery and a 500 kr. voucher"
language: {language}
---

## {headings[0]}

{PARAGRAPH}

{more}

## {headings[1]}

A new driver did not know the street.

## {headings[2]}

We called the customer the same day, apologised and brought the parcel ourselves within the hour.

{items}

## {headings[3]}

Thank you to our customer for calling us instead of giving up on us.
"""


def layouts(settings: Settings, size: str, cases: Any) -> Iterator[tuple[str, list[float]]]:
    """Each case's slug and the fill of each of its pages, from WeasyPrint's layout."""
    weasyprint = runtime.import_weasyprint()
    renderer = LeafletRenderer(settings, LeafletOptions(size=size))
    for case in cases:
        html = renderer.html(case).replace(
            "</head>", f"<style>html {{ font-size: {SIZES[size]:.2f}pt; }}</style></head>", 1
        )
        document = weasyprint.HTML(string=html).render(font_config=font_configuration())
        yield case.slug, document_fill(document)


def assert_ends_well(slug: str, fill: list[float]) -> None:
    """No page before the last ends early, so a last page under half full holds what did not fit,
    not a block that left a gap behind it. The only block kept whole is the facts beside the QR
    code, under a quarter of an A6 page: a page that ends before 70 % had a larger block pushed off."""
    assert fill[-1] > 0.05, f"{slug}: an empty last page {fill}"
    for number, share in enumerate(fill[:-1], 1):
        assert share >= 0.7, f"{slug}: page {number} of {len(fill)} ends at {share:.0%} {fill}"


@pytest.mark.parametrize("size", ["A5", "A6"])
def test_sample_leaflets_end_well(size: str) -> None:
    settings = load_settings(ROOT / "site.toml")
    for slug, fill in layouts(settings, size, load_cases(SAMPLE_CASES, settings)):
        assert_ends_well(slug, fill)


@pytest.mark.parametrize("size", ["A5", "A6"])
def test_generated_lengths_end_well(project: Path, write_case: Callable[..., Path], size: str) -> None:
    shutil.copy(ROOT / "site.toml", project / "site.toml")
    for paragraphs in range(0, 13):
        for items in (1, 4):
            write_case(
                f"len-{paragraphs}-{items}.md",
                generated_case(f"Case {paragraphs} {items}", paragraphs, fix_items=items),
            )
    settings = load_settings(project / "site.toml")
    seen: Counter[int] = Counter()
    for slug, fill in layouts(settings, size, load_cases(project / "cases", settings)):
        assert_ends_well(slug, fill)
        seen[len(fill)] += 1
    assert len(seen) >= 2, seen  # lengths from one page to several


def test_a_case_that_runs_on_has_a_running_header_in_its_language(samples: dict[str, Path]) -> None:
    for size in ("A5", "A6"):
        for pdf in case_pdfs(samples[size]):
            laid = pages(pdf)
            metadata = pypdf.PdfReader(io.BytesIO(pdf.read_bytes())).metadata
            assert metadata is not None
            title = metadata.title
            header = f"Northwind Services · {title}"
            assert header not in laid[0].extract_text().replace("\n", " "), pdf.name
            for page in laid[1:]:
                assert header in page.extract_text().replace("\n", " "), (size, pdf.name)


def test_running_header_of_a_long_russian_case(sample_project: Path, write_case: Callable[..., Path]) -> None:
    write_case("ru/dolgo.md", generated_case("Долгая история с посылкой", paragraphs=12, language="ru"))
    out = leaflets(sample_project, "A5")
    laid = pages(out / "dolgo.pdf")
    assert len(laid) >= 2
    for page in laid[1:]:
        assert "Northwind Services · Долгая история с посылкой" in page.extract_text().replace("\n", " ")


# -- A6 -------------------------------------------------------------------------------------------------


def test_short_cases_fit_one_a6_page(samples: dict[str, Path]) -> None:
    for slug in SHORTEST:
        assert len(pages(samples["A6"] / f"{slug}.pdf")) == 1, slug


def test_a_case_of_typical_length_fits_one_a6_page(project: Path, write_case: Callable[..., Path]) -> None:
    """About 900 characters shown (the samples' are 875 to 1,100): Problem in two paragraphs, Fix
    with three changes, a sentence of thanks."""
    write_case("typical.md", generated_case("The parcel at the wrong door", paragraphs=1))
    out = leaflets(project, "A6")
    assert len(pages(out / "typical.pdf")) == 1
    assert body_size(out / "typical.pdf") == pytest.approx(8.5, abs=0.01)


def test_a6_has_a_layout_of_its_own(samples: dict[str, Path]) -> None:
    """Not the A5 page scaled: smaller margins, the response time in the top line, the contact in one."""
    settings = load_settings(ROOT / "site.toml")
    [case] = [c for c in load_cases(SAMPLE_CASES, settings) if c.slug == "car-seat-in-stock"]
    a5 = LeafletRenderer(settings, LeafletOptions(size="A5")).html(case)
    a6 = LeafletRenderer(settings, LeafletOptions(size="A6")).html(case)
    assert 'class="paper-a6"' in a6 and "margin: 6mm 6mm 8mm" in a6
    assert '<p class="badge">' in a5 and '<p class="badge">' not in a6 and '<span class="badge">' in a6


# -- Addresses and numbers -------------------------------------------------------------------------------


LONG_LINK = "https://support.example.com/help-centre/deliveries/what-to-do-when-a-parcel-is-missing/"


def test_addresses_are_never_hyphenated(sample_project: Path, write_case: Callable[..., Path]) -> None:
    case = generated_case("Links", paragraphs=0).replace(
        "## Cause", f"Read {LONG_LINK} or write to customer-care@northwind.example.\n\n## Cause"
    )
    write_case("en/links.md", case)
    for size in ("A5", "A6"):
        out = leaflets(sample_project, size)
        for pdf in [*case_pdfs(out), out / "all.pdf"]:
            whole = joined(pdf)
            assert "northwind.example/complaints" in whole, (size, pdf.name)  # the invitation's form
            if pdf.name != "all.pdf":
                assert f"/cases/{pdf.stem}/" in whole, (size, pdf.name)
        assert LONG_LINK in joined(out / "links.pdf"), size
        assert "customer-care@northwind.example" in joined(out / "links.pdf"), size


def test_address_breaks_only_after_a_slash_or_before_a_dot() -> None:
    from site_builder.leaflets.breaks import address_breaks, breakable

    broken = address_breaks("https://northwind.example/cases/a-b/")
    assert broken.replace(ZWSP, "") == "https://northwind.example/cases/a-b/"
    assert [part[-1:] for part in broken.split(ZWSP)[:-1]] == ["/", "d", "/", "/", "-"]
    assert address_breaks("care@north-wind.example") == f"care@north-{ZWSP}wind{ZWSP}.example"
    assert "nort" + ZWSP not in broken
    # In running text an address longer than the every-12-characters rule breaks at its own marks.
    text = breakable(f"<p>{LONG_LINK}</p>")
    assert text.replace(ZWSP, "") == f'<p><span class="address">{LONG_LINK}</span></p>'
    parts = text.split(ZWSP)
    assert all(part.endswith(("/", "-")) or parts[i + 1].startswith(".") for i, part in enumerate(parts[:-1]))


@pytest.mark.parametrize(("written", "shown"), [
    ("It cost 1 000 ₽.", f"It cost 1{NNBSP}000{NBSP}₽."),
    ("Стоило 12 500 руб. и 3 400 ₽", f"Стоило 12{NNBSP}500{NBSP}руб. и 3{NNBSP}400{NBSP}₽"),
    ("Vi betalte 2 500 kr. og 480 kr.", f"Vi betalte 2{NNBSP}500{NBSP}kr. og 480{NBSP}kr."),
    ("Refusion af 2.500 kr.", f"Refusion af 2.500{NBSP}kr."),
    ("They paid $1,000 and $ 20, 400 miles, 15 %", f"They paid $1,000 and ${NBSP}20, 400{NBSP}miles, 15{NBSP}%"),
    ("In 2024 100 people came, 90 minutes late", f"In 2024 100 people came, 90{NBSP}minutes late"),
    ("после 640 километров", f"после 640{NBSP}километров"),
    ("Page 3 of the 12 cases", "Page 3 of the 12 cases"),
])  # fmt: skip
def test_numbers_keep_their_units(written: str, shown: str) -> None:
    assert tie_text(written) == shown
    assert tie_numbers(f"<p>{written}</p>") == f"<p>{shown}</p>"


def test_code_addresses_and_attributes_are_left_alone() -> None:
    html = (
        '<pre><code>price = "1 000 kr"</code></pre><p><code>5 kg</code> '
        '<a href="https://x.example/1 000 kr" title="5 kg">https://x.example/5 kg</a> and 5 kg</p>'
    )
    assert tie_numbers(html) == html.replace("and 5 kg", f"and 5{NBSP}kg")
    assert tie_text("write to 2024 500@x.example") == "write to 2024 500@x.example"


def test_numbers_keep_their_units_on_the_web_and_in_the_digest(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case(
        "da.md",
        generated_case("Pakken kostede 2 500 kr.", paragraphs=0, language="da")
        .replace("The customer waited", "Kunden betalte 2 500 kr. og 1 000 kr. for en ny. The customer waited")
        .replace("date: 2026-03-05", 'date: 2026-03-05\nsummary: "Vi refunderede 2 500 kr. samme dag."'),
    )
    write_case(
        "en.md",
        generated_case("A $1,000 mistake", paragraphs=0).replace(
            "The courier left", "They lost $1,000 and drove 400 miles. The courier left", 1
        ),
    )
    result = cli("build", "--no-search", "--now", "2026-03-10", "--jobs", "1")
    assert result.exit_code == 0, result.output
    site = project / "dist/site"
    tied = f"2{NNBSP}500{NBSP}kr."
    page = next((site / "da/cases").glob("*/index.html")).read_text()
    assert page.count(tied) >= 3  # the title, the summary and the text
    assert f"1{NNBSP}000{NBSP}kr." in page
    assert "2 500 kr." not in page.replace("\u00a0", "_")  # no plain space left between them
    assert tied in (site / "da/index.html").read_text()  # the card
    assert tied in (site / "da/feed.xml").read_text()
    en = next((site / "cases").glob("*/index.html")).read_text()
    assert "$1,000" in en and f"400{NBSP}miles" in en
    digest = next((project / "dist/digest").glob("*.html")).read_text().replace("&nbsp;", NBSP)
    assert f"400{NBSP}miles" in digest  # the summary, Problem's first sentence
    assert f"400{NBSP}miles" in next((project / "dist/digest").glob("*.txt")).read_text()


# -- QR code --------------------------------------------------------------------------------------------


def lightness(image: Image.Image, x: int, y: int) -> int:
    """A grey image's pixel: 0 black, 255 white."""
    value = image.getpixel((x, y))
    assert isinstance(value, int)
    return value


def qr_boxes(document: Any) -> Iterator[tuple[int, Any]]:
    """Each QR code's image box, with its page's index."""

    def walk(box: Any) -> Iterator[Any]:
        yield box
        for child in getattr(box, "children", ()):
            yield from walk(child)

    for number, page in enumerate(document.pages):
        for box in walk(page._page_box):
            element = getattr(box, "element", None)
            if element is not None and element.tag == "img" and "qr" in (element.get("class") or "").split():
                yield number, box


@pytest.mark.parametrize("size", ["A5", "A6"])
def test_qr_code_has_a_quiet_zone_of_four_modules(size: str, tmp_path: Path) -> None:
    weasyprint = runtime.import_weasyprint()
    settings = load_settings(ROOT / "site.toml")
    dpi = 300
    for case in load_cases(SAMPLE_CASES, settings):
        if case.slug not in ("car-seat-in-stock", "svadba-nomer-nashelsya"):
            continue
        renderer = LeafletRenderer(settings, LeafletOptions(size=size))
        html = renderer.html(case).replace(
            "</head>", f"<style>html {{ font-size: {SIZES[size]:.2f}pt; }}</style></head>", 1
        )
        document = weasyprint.HTML(string=html).render(font_config=font_configuration())
        [(number, box)] = list(qr_boxes(document))
        pdf = tmp_path / f"{case.slug}.pdf"
        pdf.write_bytes(document.write_pdf())
        prefix = tmp_path / f"{case.slug}-{size}"
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", "-f", str(number + 1), "-l", str(number + 1), str(pdf), str(prefix)],
            check=True,
        )
        [png] = tmp_path.glob(f"{prefix.name}*.png")
        url = renderer.links.absolute(renderer.links.case(case))
        decoded = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True, check=True)
        assert decoded.stdout.strip() == url
        shade = functools.partial(lightness, Image.open(png).convert("L"))
        scale = dpi / 96
        left, top = round(box.content_box_x() * scale), round(box.content_box_y() * scale)
        right, bottom = round(left + box.width * scale), round(top + box.height * scale)
        # The code's dark modules: their bounding box inside the image's box.
        dark = [(x, y) for y in range(top, bottom) for x in range(left, right) if shade(x, y) < 128]
        xs, ys = [x for x, _ in dark], [y for _, y in dark]
        code = (min(xs), min(ys), max(xs) + 1, max(ys) + 1)
        modules = segno.make(url, error="m").symbol_size(border=0)[0]
        module = (code[2] - code[0]) / modules
        assert module * 25.4 / dpi >= 0.5, f"{module * 25.4 / dpi:.2f} mm a module"
        # Four modules of white (no pixel darker than light grey) on every side, in the rendered page.
        zone = round(QUIET_ZONE * module) - 1
        frame = (code[0] - zone, code[1] - zone, code[2] + zone, code[3] + zone)
        for x in range(frame[0], frame[2]):
            for y in range(frame[1], frame[3]):
                if code[0] <= x < code[2] and code[1] <= y < code[3]:
                    continue
                assert shade(x, y) > 200, (case.slug, size, x - code[0], y - code[1], module)


# -- Summary and labels ---------------------------------------------------------------------------------


def test_no_summary_means_problem_is_not_said_twice(samples: dict[str, Path], sample_project: Path) -> None:
    settings = load_settings(ROOT / "site.toml")
    cases = {c.slug: c for c in load_cases(SAMPLE_CASES, settings)}
    taxi = cases["taxi-lufthavn-forsinket"]
    assert not taxi.summary_written and cases["car-seat-in-stock"].summary_written
    first = taxi.summary
    for size in ("A5", "A6"):
        assert joined(samples[size] / "taxi-lufthavn-forsinket.pdf").count(first.replace(" ", "")[:40]) <= 1
        whole = re.sub(r"\s", "", joined(samples[size] / "taxi-lufthavn-forsinket.pdf"))
        assert whole.count(re.sub(r"\s", "", first)) == 1, size
        written = re.sub(r"\s", "", joined(samples[size] / "car-seat-in-stock.pdf"))
        assert re.sub(r"\s", "", cases["car-seat-in-stock"].summary) in written
    result = CliRunner().invoke(main, ["build", "--only", "site", "--no-search", "--jobs", "1"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = (sample_project / "dist/site/da/cases/taxi-lufthavn-forsinket/index.html").read_text()
    assert 'class="lead"' not in page and page.count(first) == 1 + page.count(f'content="{first}"')
    assert 'class="lead"' in (sample_project / "dist/site/cases/car-seat-in-stock/index.html").read_text()


LABELS = {
    "ru": ("Обратился", "Жалоба получена", "Решено", "Чего это стоило клиенту", "Спасибо", "Читать полностью", "такси"),
    "da": ("Rejst af", "Klage modtaget", "Løst", "Hvad det kostede kunden", "Tak", "Læs hele sagen", "taxa"),
}
ENGLISH = ("Raised by", "Complaint received", "Resolved", "What it cost", "Thanks", "Read the full case", "QR code")


@pytest.mark.parametrize(("slug", "language"), [
    ("taksi-otchet-posle-nizkoy-otsenki", "ru"), ("taxi-lufthavn-forsinket", "da"),
])  # fmt: skip
def test_every_label_in_the_cases_language(samples: dict[str, Path], slug: str, language: str) -> None:
    months = {"ru": "октября", "da": "juni"}
    for size in ("A5", "A6"):
        text = " ".join(page.extract_text() for page in pages(samples[size] / f"{slug}.pdf")).replace("\n", " ")
        for label in LABELS[language]:
            assert label in text, (size, label)
        for label in ENGLISH:
            assert label not in text, (size, label)
        assert months[language] in text
    settings = load_settings(ROOT / "site.toml")
    [case] = [c for c in load_cases(SAMPLE_CASES, settings) if c.slug == slug]
    html = LeafletRenderer(settings, LeafletOptions()).html(case)
    assert {"ru": 'alt="QR-код:', "da": 'alt="QR-kode:'}[language] in html
