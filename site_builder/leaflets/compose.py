"""Case -> print HTML -> PDF bytes with WeasyPrint; many cases in parallel, unchanged ones from the cache."""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable
from dataclasses import replace
from importlib.metadata import version

import jinja2
import segno

from site_builder import __version__
from site_builder.build.artifacts import Artifact, Deferred
from site_builder.build.cache import Cache
from site_builder.build.keys import key
from site_builder.cases.model import Case
from site_builder.cases.names import booklet_file
from site_builder.leaflets.booklet import PALETTE, Palette, Part, assemble, impose, number, opened, padding, page_count
from site_builder.leaflets.breaks import LONG, STEP, address_breaks, breakable
from site_builder.leaflets.options import SIZES, BookletFilter, LeafletOptions
from site_builder.leaflets.pdf import pdf_from_html
from site_builder.leaflets.workers import LayoutWorkers
from site_builder.problems import LayoutError
from site_builder.settings.config import Digest, Settings, Smtp
from site_builder.settings.i18n import translator
from site_builder.settings.theme import environment, theme_error, theme_fingerprint, theme_folders
from site_builder.website.links import Links
from site_builder.website.pages import ordered_sections


def _font_urls(settings: Settings) -> dict[str, str]:
    urls: dict[str, str] = {}
    for folder in reversed(theme_folders(settings, "leaflet")):
        fonts = folder / "fonts"
        if fonts.is_dir():
            urls.update(
                {p.name: p.resolve().as_uri() for p in fonts.iterdir() if p.suffix in (".ttf", ".otf", ".woff")}
            )
    return urls


def _color_profile(settings: Settings) -> str:
    """The file: URL of the theme's CMYK output profile (color/default_cmyk.icc), an override's first."""
    for folder in theme_folders(settings, "leaflet"):
        profile = folder / "color" / "default_cmyk.icc"
        if profile.is_file():
            return profile.resolve().as_uri()
    return ""


def _created(day: dt.date) -> str:
    """A PDF's creation date: SOURCE_DATE_EPOCH when set (reproducible builds), else `day`."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{day.isoformat()}T00:00:00Z"


QUIET_ZONE = 4  # modules of white around the QR code


class LeafletRenderer:
    """Turns cases into print HTML (cheap, in this process) and PDFs (expensive, in workers)."""

    def __init__(self, settings: Settings, options: LeafletOptions) -> None:
        self.settings = settings
        self.options = options
        self.links = Links(settings)
        self.env = environment(settings, "leaflet")
        self.fonts = _font_urls(settings)
        self.color_profile = _color_profile(settings)

    def html(self, case: Case) -> str:
        """The print HTML of one leaflet."""
        url = self.links.absolute(self.links.case(case))
        qr = self.qr(url)
        sections = [s for s in ordered_sections(case) if s.key != "cause"]
        page = self.env.get_template("leaflet.html").render(
            case=case,
            settings=self.settings,
            company=self.settings.company_in(case.language),
            industry=self.settings.shown("industries", case.industry, case.language) if case.industry else None,
            t=translator(case.language, self.settings),
            sections=sections,
            url=url,
            qr=qr,
            created=_created(case.date),
            size=self.options.size,
            print_marks=self.options.print_marks,
            print_shop=self.options.print_shop,
            color_profile=self.color_profile,
            font=self.fonts.__getitem__,
            address=address_breaks,
        )
        return breakable(page)

    def qr(self, url: str) -> str:
        """The QR code of `url` as an SVG data URI, with its quiet zone, in K only for a print file."""
        # The quiet zone is part of the image: four modules of white on every side, as ISO/IEC 18004
        # asks, whatever the layout puts next to the code.
        qr = segno.make(url, error="m").svg_data_uri(scale=1, border=QUIET_ZONE, dark="#1d1f23")
        if self.options.print_shop:
            # Black ink alone (K 100 %): four inks would blur the modules under misregistration.
            # segno takes web colours only, so its one stroke colour is replaced in the SVG.
            # No fill either: SVG's default fill is RGB black, drawn (invisibly) under the strokes.
            qr = qr.replace("%231d1f23", "device-cmyk(0%200%200%201)").replace(
                "%3Csvg%20", "%3Csvg%20fill%3D%27none%27%20", 1
            )
        return qr

    def _page(self, template: str, language: str, **values: object) -> str:
        """A booklet page in `language` that shows no case (the page-number palette, notes, closing)."""
        page = self.env.get_template(template).render(
            settings=self.settings,
            company=self.settings.company_in(language),
            t=translator(language, self.settings),
            created=_created(dt.date(2000, 1, 1)),
            size=self.options.size,
            print_marks=self.options.print_marks,
            print_shop=self.options.print_shop,
            color_profile=self.color_profile,
            font=self.fonts.__getitem__,
            site_url=self.links.absolute(""),
            address=address_breaks,
            **values,
        )
        return breakable(page)

    def palette_html(self) -> str:
        """One page whose footer holds every sign of a page number, to stamp numbers with."""
        return self._page("numbers.html", self.settings.language, palette=PALETTE)

    def notes_html(self, language: str) -> str:
        """A lined page for notes: what pads the booklet to a multiple of 4 pages."""
        return self._page("notes.html", language)

    def closing_html(self, language: str) -> str:
        """The back cover: the company's contact and a QR code to the site."""
        return self._page("closing.html", language, qr=self.qr(self.links.absolute("")))

    def cover_html(self, cases: tuple[Case, ...], language: str, starts: tuple[int, ...] = ()) -> str:
        """The cover page of the booklet in `language`: its every label and date in that language,
        and the page each case starts on."""
        t = translator(language, self.settings)
        newest = max((c.date for c in cases), default=dt.date(2000, 1, 1))
        page = self.env.get_template("cover.html").render(
            cases=cases,
            starts=starts,
            settings=self.settings,
            title=self.settings.title_in(language),
            company=self.settings.company_in(language),
            t=t,
            tr=lambda lang: translator(lang, self.settings),
            created=_created(newest),
            size=self.options.size,
            print_marks=self.options.print_marks,
            print_shop=self.options.print_shop,
            color_profile=self.color_profile,
            font=self.fonts.__getitem__,
            site_url=self.links.absolute(""),
            address=address_breaks,
        )
        return breakable(page)


BOOKLET_MAX = 100  # newest cases in a booklet; a booklet of thousands helps nobody


class _Pdf(Deferred):
    """One PDF (a leaflet, or the booklet's cover): from the cache, or laid out (by a worker when
    there are workers) and then cached."""

    __slots__ = ("html", "key", "name", "ticket", "work")

    def __init__(self, work: _Leaflets, name: str, key: str, html: Callable[[], str]) -> None:
        self.work, self.name, self.key, self.html = work, name, key, html
        self.ticket: int | None = None

    def start(self) -> None:
        """Hand the layout to a worker, unless it is cached or there are no workers."""
        workers = self.work.own_workers()
        if self.ticket is None and workers is not None and not self.work.cached(self.key):
            # Cached as soon as it arrives, even if nobody asks for it (the writer may find the
            # file already in place): a layout is never done twice.
            self.ticket = workers.submit(
                (self.work.page(self.html), self.work.base, self.work.print_shop), self.work.keep(self.key)
            )

    def result(self) -> bytes:
        """The PDF's bytes."""
        ticket, self.ticket = self.ticket, None
        if ticket is None:
            cached = self.work.cache.get(self.key) if self.work.cache else None
            if cached is not None:
                return cached
            self.start()
            ticket, self.ticket = self.ticket, None
        try:
            workers = self.work.own_workers()
            if ticket is not None and workers is not None:
                return workers.result(ticket)  # cached on arrival
            data = pdf_from_html((self.work.page(self.html), self.work.base, self.work.print_shop))
        except Exception as exc:  # WeasyPrint raises many kinds; the user needs to know which leaflet
            raise LayoutError(f"{self.name}: could not be laid out: {exc}") from exc
        self.work.keep(self.key)(data)
        return data


class _Leaflets:
    """What the PDFs of one build share: where they are cached, who lays them out."""

    def __init__(self, cache: Cache | None, base: float, workers: LayoutWorkers | None, print_shop: bool) -> None:
        self.cache, self.base, self.workers, self.print_shop = cache, base, workers, print_shop
        self.pid = os.getpid()
        self.numbers: _Pdf
        self._palette: Palette | None = None

    def own_workers(self) -> LayoutWorkers | None:
        """The layout workers, unless this is a process the writer forked to make booklets in
        parallel: the workers' pipes belong to the build's process (two readers garble them)."""
        return self.workers if os.getpid() == self.pid else None

    def keep(self, key: str) -> Callable[[bytes], None]:
        """What stores a PDF made for `key` in the cache."""
        cache = self.cache
        return (lambda data: cache.put(key, data)) if cache else (lambda data: None)

    def cached(self, key: str) -> bool:
        """True when the cache holds a PDF under `key`."""
        return self.cache is not None and self.cache.has(key)

    @staticmethod
    def page(html: Callable[[], str]) -> str:
        """The print HTML; a template error names the template and its line."""
        try:
            return html()
        except jinja2.TemplateError as exc:
            raise theme_error(exc, "leaflet template") from None

    def palette(self) -> Palette:
        """The page-number palette, read once per build."""
        if self._palette is None:
            self._palette = Palette(self.numbers.result())
        return self._palette

    def booklet(self, spec: _Booklet) -> bytes:
        """The cover, every selected leaflet, notes pages and the closing page, joined and numbered.
        The cover lists the page each case starts on, so it is laid out once the leaflets' page
        counts are known: a cover that comes out longer than guessed is laid out again."""
        leaflets = [opened(part.result()) for part in spec.parts]
        counts = [len(pdf.pages) for pdf in leaflets]
        guess = 1
        for _ in range(4):
            starts, at = [], guess + 1
            for count in counts:
                starts.append(at)
                at += count
            made = spec.cover(tuple(starts)).result()
            pages = page_count(made)
            if pages == guess:
                break
            guess = pages
        else:
            raise LayoutError(f"{spec.name}: the cover's length does not settle")
        pieces = [
            Part(opened(made), spec.language),
            *(Part(d, spec.language, t) for d, t in zip(leaflets, spec.titles, strict=True)),
        ]
        # A sheet folded in two holds 4 pages: lined notes pages fill the gap before the back cover
        # (blank pages look like a printing fault; a reader of a printed booklet can use notes).
        blank = padding(pages + sum(counts) + 1)
        if blank:
            notes = spec.notes.result()
            pieces += [Part(opened(notes), spec.language) for _ in range(blank)]
        pieces.append(Part(opened(spec.closing.result()), spec.language))
        data = assemble(pieces, self.palette(), spec.title, spec.author, spec.created, spec.language)
        if spec.imposed is not None:
            spec.imposed[0] = impose(data)
        return data


class _Booklet:
    """What one booklet is made of: its leaflets, and how to lay out its cover."""

    def __init__(
        self,
        name: str,
        language: str,
        parts: list[_Pdf],
        titles: list[str],
        cover: Callable[[tuple[int, ...]], _Pdf],
        pages: tuple[_Pdf, _Pdf],
        meta: tuple[str, str, str],
        imposed: list[bytes] | None,
    ) -> None:
        self.name, self.language, self.parts, self.titles, self.cover = name, language, parts, titles, cover
        self.notes, self.closing = pages
        self.title, self.author, self.created = meta
        self.imposed = imposed


class _Numbered(Deferred):
    """A leaflet with its page numbers stamped on ("1 / 2"); one page is left without."""

    __slots__ = ("pdf", "work")

    def __init__(self, work: _Leaflets, pdf: _Pdf) -> None:
        self.work, self.pdf = work, pdf

    def start(self) -> None:
        """Start the layout."""
        self.pdf.start()

    def result(self) -> bytes:
        """The numbered PDF."""
        data = self.pdf.result()
        if page_count(data) < 2:
            return data
        return number(data, self.work.palette())


def leaflet_fingerprint(settings: Settings, options: LeafletOptions) -> str:
    """A digest of everything but the case that a leaflet depends on (the shortcut's note uses it too)."""
    # Settings no leaflet shows are left out, so that turning search off or changing the digest's
    # mail server does not lay out 10,000 leaflets again (half an hour on two cores).
    shown = replace(settings, per_page=0, search=False, smtp=Smtp(), digest=Digest())
    everything = (
        __version__,
        version("weasyprint"),
        repr(shown),
        options.size,
        options.print_marks,
        options.print_shop,
        os.environ.get("SOURCE_DATE_EPOCH", ""),
        theme_fingerprint(settings, "leaflet"),
        (LONG, STEP),  # where long words are broken
    )
    # Digested once: repeating the settings' long repr for each of 10,000 cases took a third of a second.
    return key(*everything)


def booklets(
    cases: tuple[Case, ...], settings: Settings, booklet: BookletFilter | None
) -> dict[str, tuple[str, tuple[Case, ...]]]:
    """Each booklet by file name: its language and cases, the newest of that language that pass the
    filter. One language, one booklet, named by `booklet_file`."""
    wanted = booklet or BookletFilter()
    passed = [c for c in cases if wanted.accepts(c)]
    present = {c.language for c in cases}
    languages = [wanted.language] if wanted.language else sorted(present, key=lambda lang: lang != settings.language)
    made: dict[str, tuple[str, tuple[Case, ...]]] = {}
    for language in languages:
        chosen = tuple(c for c in passed if c.language == language)[:BOOKLET_MAX]
        if chosen:
            made[booklet_file(language, settings.language)] = (language, chosen)
    return made


def booklet_cases(cases: tuple[Case, ...], settings: Settings, booklet: BookletFilter | None) -> tuple[Case, ...]:
    """The cases the booklets hold, newest first."""
    held = {id(c) for _, chosen in booklets(cases, settings, booklet).values() for c in chosen}
    return tuple(c for c in cases if id(c) in held)


def render_leaflets(
    cases: tuple[Case, ...],
    settings: Settings,
    options: LeafletOptions,
    booklet: BookletFilter | None = None,
    workers: LayoutWorkers | None = None,
    with_booklet: bool = True,
) -> list[Artifact]:
    """<slug>.pdf for every case and all.pdf with a cover, keyed by their inputs: an unchanged
    leaflet is neither laid out again nor even read. With `workers`, the first leaflets missing
    from the cache are handed to them at once, to be laid out while the rest of the build runs."""
    renderer = LeafletRenderer(settings, options)
    base = SIZES[options.size]
    common = (leaflet_fingerprint(settings, options),)
    cache = Cache(options.cache_dir / "leaflets") if options.cache_dir else None
    work = _Leaflets(cache, base, workers, options.print_shop)
    pdfs = {
        c.slug: _Pdf(
            work,
            f"{c.slug}.pdf",
            key(common[0], c.digest),
            functools.partial(renderer.html, c),
        )
        for c in cases
    }
    work.numbers = _Pdf(work, "the page-number palette", key(*common, "numbers", PALETTE), renderer.palette_html)
    # The leaflet's key is its layout's: the numbers stamped on it depend only on the layout and on
    # what `common` holds, and the cached layout stays in use (the cache keeps what outputs use).
    artifacts = [Artifact(f"{slug}.pdf", _Numbered(work, pdf), pdf.key) for slug, pdf in pdfs.items()]
    pages = []
    for name, (language, selected) in (booklets(cases, settings, booklet) if with_booklet else {}).items():
        title = f"{settings.title_in(language)} · {settings.company_in(language).name}"
        parts = [pdfs[c.slug] for c in selected]
        booklet_key = key(*common, "booklet", name, title, *(p.key for p in parts))
        # The cover shows titles, dates and where each case starts: editing a case's text without
        # changing its page count does not lay it out again.
        listed = [(c.title, c.date, c.language) for c in selected]

        def cover(starts: tuple[int, ...], name: str = name, language: str = language, listed: object = listed,
                  selected: tuple[Case, ...] = selected) -> _Pdf:  # fmt: skip
            return _Pdf(
                work,
                f"the cover of {name}",
                key(*common, "cover", language, listed, starts),
                functools.partial(renderer.cover_html, selected, language, starts),
            )

        notes = _Pdf(
            work,
            f"the notes page of {name}",
            key(*common, "notes", language),
            functools.partial(renderer.notes_html, language),
        )
        closing = _Pdf(
            work,
            f"the closing page of {name}",
            key(*common, "closing", language),
            functools.partial(renderer.closing_html, language),
        )
        pages += [notes, closing]
        created = _created(max(c.date for c in selected))
        author = settings.company_in(language).name
        imposed: list[bytes] | None = [b""] if options.imposed else None
        spec = _Booklet(
            name,
            language,
            parts,
            [c.title for c in selected],
            cover,
            (notes, closing),
            (title, author, created),
            imposed,
        )
        artifacts.append(Artifact(name, functools.partial(work.booklet, spec), booklet_key, made_from_others=True))
        if imposed is not None:
            # Made with the booklet, which the writer renders first (its name sorts before).
            artifacts.append(
                Artifact(
                    imposed_file(name),
                    functools.partial(_imposed, imposed, work, spec),
                    key(booklet_key, "imposed"),
                    made_from_others=True,
                )
            )
    if workers is not None:
        # An edited case's leaflet is laid out while the site is rendered; the booklet's own pages alongside.
        missing = [pdf for pdf in pdfs.values() if not work.cached(pdf.key)][: 2 * workers.most]
        for pdf in [*missing, work.numbers, *pages]:
            pdf.start()
    return artifacts


def imposed_file(name: str) -> str:
    """The imposition's file name beside the booklet's: all.pdf -> all.imposed.pdf."""
    return name.removesuffix(".pdf") + ".imposed.pdf"


def _imposed(made: list[bytes], work: _Leaflets, spec: _Booklet) -> bytes:
    """The 2-up imposition, made with the booklet (or from it, when the booklet came from elsewhere)."""
    if not made[0]:
        work.booklet(spec)  # fills `made`
    return made[0]
