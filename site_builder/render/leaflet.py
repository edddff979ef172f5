"""Case -> print HTML -> PDF bytes with WeasyPrint; many cases in parallel, unchanged ones from the cache."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import io
import os
from collections.abc import Iterable
from dataclasses import replace
from importlib.metadata import version
from typing import Any

import jinja2
import segno

from site_builder import __version__
from site_builder.cache import Cache
from site_builder.cases import Case
from site_builder.config import Digest, Settings, Smtp
from site_builder.i18n import translator
from site_builder.output import Artifact
from site_builder.render.links import Links
from site_builder.render.print_options import SCALES, SIZES, BookletFilter, LeafletOptions
from site_builder.render.site import ordered_sections
from site_builder.templates import environment, theme_error, theme_fingerprint, theme_folders


def _font_urls(settings: Settings) -> dict[str, str]:
    urls: dict[str, str] = {}
    for folder in reversed(theme_folders(settings, "leaflet")):
        fonts = folder / "fonts"
        if fonts.is_dir():
            urls.update(
                {p.name: p.resolve().as_uri() for p in fonts.iterdir() if p.suffix in (".ttf", ".otf", ".woff")}
            )
    return urls


def _created(day: dt.date) -> str:
    """A PDF's creation date: SOURCE_DATE_EPOCH when set (reproducible builds), else `day`."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{day.isoformat()}T00:00:00Z"


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
            created=_created(case.date),
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
            created=_created(newest),
            size=self.options.size,
            print_marks=self.options.print_marks,
            font=self.fonts.__getitem__,
            site_url=self.links.absolute(""),
        )


_DEFAULT_GC = (700, 10, 10)
_FONTS: dict[int, Any] = {}


def _font_configuration() -> Any:
    """One WeasyPrint font configuration per process: a new one for every leaflet loads the
    @font-face fonts into fontconfig again and never frees them (+0.5 MB a leaflet, 1 GB a
    worker at 10,000 cases)."""
    pid = os.getpid()
    if pid not in _FONTS:
        from multiprocessing.util import Finalize

        from weasyprint.text.fonts import FontConfiguration

        # A forked worker makes its own and keeps its parent's referenced: dropping it would run its
        # __del__, which deletes the parent's font folder. A worker leaves with os._exit, so its
        # own folder is removed by a multiprocessing finalizer (which runs at that exit).
        _FONTS[pid] = fonts = FontConfiguration()
        Finalize(fonts, fonts.__del__, exitpriority=0)
    return _FONTS[pid]


def pdf_from_html(job: tuple[str, float]) -> bytes:
    """Lay out the HTML and return PDF bytes; shrink the type a little if that keeps it on one page."""
    # Imported here: half a second that a build with every leaflet cached does not need to spend.
    import weasyprint
    from weasyprint.urls import URLFetcher

    # A layout leaves cyclic garbage (boxes point to their parents): collect it at Python's usual
    # pace, not at the lazier one a build sets for its own long-lived objects (100 MB more per worker).
    gc.set_threshold(*_DEFAULT_GC)
    html, base = job
    # Only local files (the theme's fonts) and data: URLs (the QR code): a leaflet makes no requests.
    fetcher = URLFetcher(allowed_protocols={"file", "data"}, timeout=5)
    fonts = _font_configuration()
    first = None
    for scale in SCALES:
        styled = html.replace("</head>", f"<style>html {{ font-size: {base * scale:.2f}pt; }}</style></head>", 1)
        document = weasyprint.HTML(string=styled, url_fetcher=fetcher).render(font_config=fonts)
        first = first or document
        if len(document.pages) == 1:
            return bytes(document.write_pdf(pdf_tags=True))
        if len(document.pages) > 2:
            break  # three pages or more will not shrink onto one: no more layouts to try
    # It does not fit one page even a little smaller: print at full size on as many pages as it needs.
    assert first is not None
    return bytes(first.write_pdf(pdf_tags=True))


def _merge(pdfs: Iterable[bytes], title: str, author: str, created: str) -> bytes:
    """Concatenate PDFs into one booklet with its own metadata."""
    import pypdf

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


BOOKLET_MAX = 100  # newest cases in all.pdf; a booklet of thousands helps nobody


class _Leaflets:
    """Render functions for the writer: each PDF comes from the cache, or is rendered and cached."""

    def __init__(self, renderer: LeafletRenderer, cache: Cache | None, base: float) -> None:
        self.renderer, self.cache, self.base = renderer, cache, base

    def pdf(self, case: Case, key: str) -> bytes:
        """One leaflet's bytes."""
        cached = self.cache.get(key) if self.cache else None
        if cached is not None:
            return cached
        try:
            html = self.renderer.html(case)
        except jinja2.TemplateError as exc:
            raise theme_error(exc, "leaflet.html") from None
        data = pdf_from_html((html, self.base))
        if self.cache:
            self.cache.put(key, data)
        return data

    def booklet(self, cases: tuple[Case, ...], keys: dict[str, str], cover_key: str, title: str, author: str) -> bytes:
        """The cover and every selected leaflet, joined."""
        cover = self.cache.get(cover_key) if self.cache else None
        if cover is None:
            cover = pdf_from_html((self.renderer.cover_html(cases), self.base))
            if self.cache:
                self.cache.put(cover_key, cover)
        parts = [cover, *(self.pdf(c, keys[c.slug]) for c in cases)]
        return _merge(parts, title, author, _created(max(c.date for c in cases)))


def render_leaflets(
    cases: tuple[Case, ...], settings: Settings, options: LeafletOptions, booklet: BookletFilter | None = None
) -> list[Artifact]:
    """<slug>.pdf for every case and all.pdf with a cover, as render functions keyed by their inputs:
    an unchanged leaflet is neither laid out again nor even read."""
    renderer = LeafletRenderer(settings, options)
    base = SIZES[options.size]
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    # Settings no leaflet shows are left out, so that turning search off or changing the digest's
    # mail server does not lay out 10,000 leaflets again (half an hour on two cores).
    shown = replace(settings, per_page=0, search=False, smtp=Smtp(), digest=Digest())
    everything = (
        __version__,
        version("weasyprint"),
        repr(shown),
        options.size,
        options.print_marks,
        epoch,
        theme_fingerprint(settings, "leaflet"),
    )
    # Digested once: repeating the settings' long repr for each of 10,000 cases took a third of a second.
    common = (hashlib.sha256(repr(everything).encode()).hexdigest(),)
    keys = {c.slug: hashlib.sha256(f"{common[0]}\0{c.digest}".encode()).hexdigest() for c in cases}
    work = _Leaflets(renderer, Cache(options.cache_dir / "leaflets") if options.cache_dir else None, base)
    artifacts = [
        Artifact(f"{case.slug}.pdf", functools.partial(work.pdf, case, keys[case.slug]), keys[case.slug])
        for case in cases
    ]
    selected = tuple(c for c in cases if (booklet or BookletFilter()).accepts(c))[:BOOKLET_MAX]
    if selected:
        title = f"{settings.title} · {settings.company.name}"
        key = hashlib.sha256(repr((*common, "booklet", title, *(keys[c.slug] for c in selected))).encode()).hexdigest()
        # The cover shows only titles and dates: editing a case's text does not lay it out again.
        listed = [(c.title, c.date, c.language) for c in selected]
        cover_key = hashlib.sha256(repr((*common, "cover", listed)).encode()).hexdigest()
        render = functools.partial(work.booklet, selected, keys, cover_key, title, settings.company.name)
        artifacts.append(Artifact("all.pdf", render, key, made_from_others=True))
    return artifacts
