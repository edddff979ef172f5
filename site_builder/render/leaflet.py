"""Case -> print HTML -> PDF bytes with WeasyPrint; many cases in parallel, unchanged ones from the cache."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pypdf
import segno
import weasyprint
from weasyprint.urls import URLFetcher

from site_builder import __version__
from site_builder.cache import Cache
from site_builder.cases import Case
from site_builder.config import PAPER_SIZES, Settings
from site_builder.i18n import translator
from site_builder.output import Artifact
from site_builder.render.links import Links
from site_builder.render.site import ordered_sections
from site_builder.templates import environment, theme_folders

# The body text size (pt) that suits each paper size.
SIZES = {"A4": 11.5, "A5": 10.0, "A6": 8.0, "Letter": 11.5}
assert tuple(SIZES) == PAPER_SIZES
# Try a slightly smaller type before spilling onto a second page.
SCALES = (1.0, 0.94, 0.88, 0.84)


@dataclass(frozen=True, slots=True)
class LeafletOptions:
    """How to print: paper size, bleed and crop marks, how many processes, where the cache is."""

    size: str = "A5"
    print_marks: bool = False
    jobs: int = 0
    cache_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class BookletFilter:
    """Which cases go into all.pdf."""

    tag: str | None = None
    industry: str | None = None
    since: dt.date | None = None

    def accepts(self, case: Case) -> bool:
        """True when the case passes every filter that is set."""
        return (
            (self.tag is None or self.tag in case.tags)
            and (self.industry is None or self.industry == case.industry)
            and (self.since is None or case.date >= self.since)
        )


def _font_urls(settings: Settings) -> dict[str, str]:
    urls: dict[str, str] = {}
    for folder in reversed(theme_folders(settings, "leaflet")):
        fonts = folder / "fonts"
        if fonts.is_dir():
            urls.update(
                {p.name: p.resolve().as_uri() for p in fonts.iterdir() if p.suffix in (".ttf", ".otf", ".woff")}
            )
    return urls


def _created(case: Case) -> str:
    """The PDF's creation date: SOURCE_DATE_EPOCH when set (reproducible builds), else the case's date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{case.date.isoformat()}T00:00:00Z"


class LeafletRenderer:
    """Turns cases into print HTML (cheap, in this process) and PDFs (expensive, in workers)."""

    def __init__(self, settings: Settings, options: LeafletOptions) -> None:
        self.settings = settings
        self.options = options
        self.links = Links(settings)
        self.env = environment(settings, "leaflet")
        self.fonts = _font_urls(settings)

    def html(self, case: Case) -> str:
        """The print HTML of one leaflet."""
        url = self.links.absolute(self.links.case(case))
        qr = segno.make(url, error="m").svg_data_uri(scale=1, border=0, dark="#1d1f23")
        sections = [s for s in ordered_sections(case) if s.key != "cause"]
        return self.env.get_template("leaflet.html").render(
            case=case,
            settings=self.settings,
            t=translator(case.language, self.settings),
            sections=sections,
            url=url,
            qr=qr,
            created=_created(case),
            size=self.options.size,
            print_marks=self.options.print_marks,
            font=self.fonts.__getitem__,
        )

    def cover_html(self, cases: tuple[Case, ...]) -> str:
        """The booklet's cover page."""
        t = translator(self.settings.language, self.settings)
        newest = max((c.date for c in cases), default=dt.date(2000, 1, 1))
        return self.env.get_template("cover.html").render(
            cases=cases,
            settings=self.settings,
            t=t,
            tr=lambda lang: translator(lang, self.settings),
            created=f"{newest.isoformat()}T00:00:00Z",
            size=self.options.size,
            print_marks=self.options.print_marks,
            font=self.fonts.__getitem__,
            site_url=self.links.absolute(""),
        )


def pdf_from_html(job: tuple[str, float]) -> bytes:
    """Lay out the HTML and return PDF bytes; shrink the type a little if that keeps it on one page."""
    html, base = job
    # Only local files (the theme's fonts) and data: URLs (the QR code): a leaflet makes no requests.
    fetcher = URLFetcher(allowed_protocols={"file", "data"}, timeout=5)
    first = None
    for scale in SCALES:
        styled = html.replace("</head>", f"<style>html {{ font-size: {base * scale:.2f}pt; }}</style></head>", 1)
        document = weasyprint.HTML(string=styled, url_fetcher=fetcher).render()
        first = first or document
        if len(document.pages) == 1:
            return bytes(document.write_pdf(pdf_tags=True))
    # It does not fit one page even a little smaller: print at full size on as many pages as it needs.
    assert first is not None
    return bytes(first.write_pdf(pdf_tags=True))


def _key(html: str, base: float) -> str:
    """Everything a PDF depends on: the HTML (case, templates, settings), text size and tool versions."""
    return hashlib.sha256(f"{__version__}\0{weasyprint.__version__}\0{base}\0{html}".encode()).hexdigest()


def _merge(pdfs: Iterable[bytes], title: str, author: str, created: str) -> bytes:
    """Concatenate PDFs into one booklet with its own metadata."""
    writer = pypdf.PdfWriter()
    for data in pdfs:
        writer.append(pypdf.PdfReader(io.BytesIO(data)))
    stamp = "D:" + created.replace("-", "").replace(":", "").replace("T", "").rstrip("Z") + "Z"
    writer.add_metadata({"/Title": title, "/Author": author, "/CreationDate": stamp, "/ModDate": stamp})
    # A fixed file identifier keeps the booklet byte-identical between builds of the same input.
    ident = pypdf.generic.ByteStringObject(
        hashlib.md5(title.encode() + created.encode(), usedforsecurity=False).digest()
    )
    writer._ID = pypdf.generic.ArrayObject([ident, ident])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_leaflets(
    cases: tuple[Case, ...], settings: Settings, options: LeafletOptions, booklet: BookletFilter | None = None
) -> list[Artifact]:
    """<slug>.pdf for every case and all.pdf with a cover; unchanged leaflets come from the cache."""
    renderer = LeafletRenderer(settings, options)
    documents = {case.slug: renderer.html(case) for case in cases}
    selected = tuple(c for c in cases if (booklet or BookletFilter()).accepts(c))
    if selected:
        documents["all"] = renderer.cover_html(selected)
    cache = Cache(options.cache_dir) if options.cache_dir else None
    base = SIZES[options.size]
    pdfs: dict[str, bytes] = {}
    missing: list[str] = []
    for name, html in documents.items():
        cached = cache.get(_key(html, base)) if cache else None
        if cached is not None:
            pdfs[name] = cached
        else:
            missing.append(name)
    jobs = options.jobs or os.cpu_count() or 1
    if jobs > 1 and len(missing) > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(missing))) as pool:
            rendered = list(pool.map(pdf_from_html, [(documents[n], base) for n in missing]))
    else:
        rendered = [pdf_from_html((documents[n], base)) for n in missing]
    for name, data in zip(missing, rendered, strict=True):
        pdfs[name] = data
        if cache:
            cache.put(_key(documents[name], base), data)
    artifacts = [Artifact(f"{case.slug}.pdf", pdfs[case.slug]) for case in cases]
    if selected:
        title = f"{settings.title} · {settings.company.name}"
        booklet_pdf = _merge(
            [pdfs["all"], *(pdfs[c.slug] for c in selected)], title, settings.company.name, _cover_date(selected)
        )
        artifacts.append(Artifact("all.pdf", booklet_pdf))
    return artifacts


def _cover_date(cases: tuple[Case, ...]) -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{max(c.date for c in cases).isoformat()}T00:00:00Z"
