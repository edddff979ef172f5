"""Cases -> every page of the website, as artifacts in memory (pure: nothing is written)."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import jinja2
from babel import Locale

from site_builder import __version__
from site_builder.build.artifacts import Artifact
from site_builder.build.keys import file_key, key
from site_builder.cases.model import Case, Section
from site_builder.settings.config import Settings
from site_builder.settings.i18n import Translator, translator
from site_builder.settings.theme import TemplateDigests, environment, static_files, theme_error, theme_fingerprint
from site_builder.website.feed import FEED_SIZE, render_feed
from site_builder.website.links import Links, file_for, root_for, tag_slug
from site_builder.website.stats import compute


def ordered_sections(case: Case) -> tuple[Section, ...]:
    """Problem, Cause, Fix, the extra sections, then Thanks."""
    main = tuple(case.section(k) for k in ("problem", "cause", "fix"))
    return (*main, *case.extra_sections, case.section("thanks"))


class CaseCard:
    """A case as a list's card or a neighbour's link shows it: any field, but not its text. A page
    keyed by its cards is made again when a field of one changes, not when its text does; a theme
    that reaches for a card's text gets a clear error instead of a page that goes stale."""

    __slots__ = ("_case",)

    def __init__(self, case: Case) -> None:
        self._case = case

    def __getattr__(self, name: str) -> Any:
        if name in _TEXT:
            raise AttributeError(f"a case's text ({name}) is shown on its own page, not on cards or links")
        return getattr(self._case, name)


_TEXT = frozenset({"body", "sections", "section", "extra_sections", "digest"})


def _shown(value: object) -> str:
    """What a template receives, as its part of the page's key: a case by everything it holds, a
    card by its fields (`face`), anything else by its repr."""
    if isinstance(value, CaseCard):
        return value.face  # type: ignore[no-any-return]
    if isinstance(value, Case):
        return value.digest
    if isinstance(value, tuple | list):
        return "(" + ",".join(_shown(item) for item in value) + ")"
    return value if isinstance(value, str) else repr(value)


def _card(case: Case | None) -> CaseCard | None:
    return CaseCard(case) if case is not None else None


class SiteRenderer:
    """Renders pages with the shared context every template gets."""

    def __init__(self, settings: Settings, leaflets: bool = False) -> None:
        self.settings = settings
        self.leaflets = leaflets
        # Everything every page depends on: a change here re-renders the whole site. The theme is
        # not in it: each page's key has the digest of the templates it is made from.
        self.fingerprint = key(__version__, settings, leaflets)
        self.links = Links(settings)
        self.env: jinja2.Environment = environment(settings, "site")
        self.templates = TemplateDigests(self.env, lambda: theme_fingerprint(settings, "site"))
        self._translators: dict[str, Translator] = {}

    def tr(self, language: str) -> Translator:
        """A cached translator for `language`."""
        if language not in self._translators:
            self._translators[language] = translator(language, self.settings)
        return self._translators[language]

    def page(
        self,
        template: str,
        path: str,
        language: str,
        root: str | None = None,
        lazy: Callable[[], dict[str, Any]] | None = None,
        **context: Any,
    ) -> Artifact:
        """One page at site path `path` in `language`, rendered only if its key differs from the last
        build's. The key is made of what the template receives (`context`; `lazy` adds what is
        derived from it), the templates it is made from and the site's fingerprint."""
        received = (f"{name}={_shown(value)}" for name, value in sorted(context.items()))
        made_of = key(self.fingerprint, self.templates(template), template, path, language, root, *received)
        render = functools.partial(self._render, template, path, language, root, context, lazy)
        return Artifact(file_for(path), render, made_of)

    def _render(
        self,
        template: str,
        path: str,
        language: str,
        root: str | None,
        context: dict[str, Any],
        lazy: Callable[[], dict[str, Any]] | None,
    ) -> bytes:
        try:
            return self._render_page(template, path, language, root, {**context, **(lazy() if lazy else {})})
        except jinja2.TemplateError as exc:
            raise theme_error(exc, template) from None  # may run in a worker: keep the message, not the frames

    def _render_page(self, template: str, path: str, language: str, root: str | None, context: dict[str, Any]) -> bytes:
        html = self.env.get_template(template).render(
            settings=self.settings,
            links=self.links,
            tr=self.tr,
            t=self.tr(language),
            site_t=self.tr(self.settings.language),
            lang=language,
            path=path,
            root=root_for(file_for(path)) if root is None else root,
            url=self.links.absolute(path),
            leaflets=self.leaflets,
            base_path=urlsplit(self.settings.base_url).path or "/",
            **context,
        )
        return html.encode("utf-8")

    def case_page(self, case: Case, previous: Case | None, next_: Case | None) -> Artifact:
        """The page of one case."""
        return self.page(
            "case.html",
            self.links.case(case),
            case.language,
            case=case,
            previous=_card(previous),
            next=_card(next_),
            lazy=functools.partial(self._case_context, case),
        )

    def _case_context(self, case: Case) -> dict[str, Any]:
        """What only rendering a case page needs (skipped for a page kept from the last build)."""
        t = self.tr(case.language)
        json_ld = {
            "@context": "https://schema.org",
            "@type": "Article",
            "headline": case.title,
            "description": case.summary,
            "datePublished": case.date.isoformat(),
            "inLanguage": case.language,
            "url": self.links.absolute(self.links.case(case)),
            "keywords": list(case.tags),
            "publisher": {"@type": "Organization", "name": self.settings.company.name},
            "about": case.industry or t("a_customer"),
        }
        name = Locale.parse(case.language).get_display_name(case.language) or case.language
        return {"ordered_sections": ordered_sections(case), "json_ld": json_ld, "language_name": name.capitalize()}

    def index_pages(self, cases: tuple[Case, ...]) -> Iterable[Artifact]:
        """The case index, split into pages of `per_page`."""
        for number, pages, chunk in _paged(cases, self.settings.per_page):
            yield self.page(
                "index.html",
                self.links.index(number),
                self.settings.language,
                cases=tuple(CaseCard(case) for case in chunk),
                page=number,
                pages=pages,
                previous_page=self.links.index(number - 1) if number > 1 else None,
                next_page=self.links.index(number + 1) if number < pages else None,
            )

    def grouped(
        self,
        cases: tuple[Case, ...],
        keys: Callable[[Case], Iterable[str]],
        path: Callable[[str, int], str],
        heading: str,
        all_heading: str,
        folder: str,
    ) -> Iterable[Artifact]:
        """The pages of each tag or industry (split like the index), and a page listing them all."""
        groups: dict[str, list[Case]] = defaultdict(list)
        names: dict[str, str] = {}
        for case in cases:
            for term in keys(case):
                names.setdefault(tag_slug(term), term)
                groups[tag_slug(term)].append(case)
        t = self.tr(self.settings.language)
        for slug, members in sorted(groups.items()):
            name = names[slug]
            title = t(heading, name=name)
            for number, pages, chunk in _paged(tuple(members), self.settings.per_page):
                yield self.page(
                    "list.html",
                    path(name, number),
                    self.settings.language,
                    heading=title,
                    cases=tuple(CaseCard(case) for case in chunk),
                    page=number,
                    pages=pages,
                    previous_page=path(name, number - 1) if number > 1 else None,
                    next_page=path(name, number + 1) if number < pages else None,
                )
        terms = [(names[s], path(names[s], 1), len(m)) for s, m in sorted(groups.items())]
        yield self.page("terms.html", f"{folder}/", self.settings.language, heading=t(all_heading), terms=terms)

    def stats_page(self, cases: tuple[Case, ...]) -> Artifact:
        """The trust page: counts, response times and costs, as SVG charts with data tables."""
        t = self.tr(self.settings.language)
        figures = compute(cases)
        return self.page(
            "stats.html",
            "stats/",
            self.settings.language,
            stats=figures,
            months=[(t.month(month), count) for month, count in figures.per_month],
            buckets=[(t(key), count) for key, count in figures.buckets],
            costs=[(t(f"cost_{cost}"), count) for cost, count in figures.costs],
        )

    def render(self, cases: tuple[Case, ...]) -> list[Artifact]:
        """Every file of the site for `cases` (newest first)."""
        out: list[Artifact] = []
        for i, case in enumerate(cases):
            older = cases[i + 1] if i + 1 < len(cases) else None
            newer = cases[i - 1] if i > 0 else None
            out.append(self.case_page(case, older, newer))
            out.extend(
                Artifact(f"{self.links.case(case)}{name}", source, key(case.digest, name, file_key(source)))
                for name, source in case.assets
            )
        out.extend(self.index_pages(cases))
        out.extend(self.grouped(cases, lambda c: c.tags, self.links.tag, "tagged", "tags", "tags"))
        out.extend(
            self.grouped(
                cases,
                lambda c: [c.industry] if c.industry else [],
                self.links.industry,
                "in_industry",
                "industries",
                "industries",
            )
        )
        out.append(self.stats_page(cases))
        base_path = urlsplit(self.settings.base_url).path or "/"
        out.append(self.page("404.html", "404.html", self.settings.language, root=base_path))
        out.append(self.feed(cases))
        out.append(self.sitemap(cases, [a.path for a in out]))
        robots = self.env.get_template("robots.txt").render(sitemap=self.links.absolute("sitemap.xml"))
        out.append(Artifact("robots.txt", robots.encode("utf-8"), key(self.fingerprint, self.templates("robots.txt"))))
        out.extend(
            Artifact(f"static/{name}", path, key(self.fingerprint, "static", name, file_key(path)))
            for name, path in static_files(self.settings, "site").items()
        )
        return out

    def feed(self, cases: tuple[Case, ...]) -> Artifact:
        """feed.xml: the newest cases of `cases` (newest first), whole."""
        newest = cases[:FEED_SIZE]
        made_of = key(self.fingerprint, "feed", *(c.digest for c in newest))
        return Artifact("feed.xml", functools.partial(render_feed, newest, self.settings, _body), made_of)

    def sitemap(self, cases: tuple[Case, ...], files: list[str]) -> Artifact:
        """sitemap.xml of every HTML page but the 404 page."""
        lastmod = {file_for(self.links.case(c)): c.date for c in cases}
        entries = [
            (self.links.absolute(f.removesuffix("index.html")), lastmod.get(f))
            for f in sorted(files)
            if f.endswith(".html") and f != "404.html"
        ]
        lines = "\n".join(f"{loc} {day}" for loc, day in entries)  # 10x cheaper than a repr of 20,000 tuples
        made_of = key(self.fingerprint, self.templates("sitemap.xml"), "sitemap", lines)
        return Artifact(
            "sitemap.xml", lambda: self.env.get_template("sitemap.xml").render(entries=entries).encode(), made_of
        )


def _paged(cases: tuple[Case, ...], size: int) -> Iterable[tuple[int, int, tuple[Case, ...]]]:
    """(page number, number of pages, the cases on it) for a list split into pages of `size`;
    an empty list still has its one, empty, first page."""
    pages = max(1, -(-len(cases) // size))
    for number in range(1, pages + 1):
        yield number, pages, cases[(number - 1) * size : number * size]


def _body(case: Case) -> str:
    """A case's sections as one piece of HTML, for the feed."""
    return "\n".join(s.html for s in ordered_sections(case))


def render_site(cases: tuple[Case, ...], settings: Settings, leaflets: bool = False) -> list[Artifact]:
    """Every file of the website for the published `cases`, newest first; `leaflets`: link the PDFs."""
    return SiteRenderer(settings, leaflets).render(cases)
