"""Cases -> every page of the website, as artifacts in memory (pure: nothing is written)."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from site_builder import __version__
from site_builder.build.artifacts import Artifact
from site_builder.build.keys import file_key, key
from site_builder.cases.model import Case, Section
from site_builder.cases.names import booklet_file
from site_builder.cases.translations import by_story, for_reader
from site_builder.digest.period import Period
from site_builder.settings.collation import sort_key
from site_builder.settings.config import Settings
from site_builder.settings.i18n import Translator, language_name, own_name, translator
from site_builder.settings.theme import TemplateDigests, environment, static_files, theme_error, theme_fingerprint
from site_builder.website.cards import Cards, Face
from site_builder.website.editions import Edition, editions, homes, versions
from site_builder.website.feed import FEED_SIZE, Channel, render_feed, render_json_feed
from site_builder.website.links import Links, file_for, icon, root_for, tag_slug
from site_builder.website.stats import Stats, compute
from site_builder.website.structured import breadcrumbs, collection, publisher
from site_builder.website.trust import badge_svg, stats_json


def ordered_sections(case: Case) -> tuple[Section, ...]:
    """Problem, Cause, Fix, What we changed and the extra sections as written, then Thanks."""
    main = tuple(case.section(k) for k in ("problem", "cause", "fix"))
    after = tuple(s for s in case.sections if s.key in ("extra", "changed"))
    return (*main, *after, case.section("thanks"))


class CaseCard:
    """A case as a list's card or a neighbour's link shows it: any field, but not its text. A page
    keyed by its cards is made again when a field of one changes, not when its text does; a theme
    that reaches for a card's text gets a clear error instead of a page that goes stale. Its What we
    changed (`change`) is the one piece of text a card shows: the face holds it."""

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

    def __init__(
        self,
        settings: Settings,
        leaflets: bool = False,
        digests: tuple[Period, ...] = (),
        untranslated: bool = True,
    ) -> None:
        self.settings = settings
        self.leaflets = leaflets
        # The archive: the digests sent (newest first), and whether a story not told in a reader's
        # language is shown in another, as the digest did (its own setting, not the site's).
        self.digests = digests
        self.untranslated = untranslated
        # Everything every page depends on: a change here re-renders the whole site. The theme is
        # not in it: each page's key has the digest of the templates it is made from. Of the
        # archive, only whether there is one: every page links it; a new digest changes no page
        # but its own, the list and the sitemap.
        self.fingerprint = key(__version__, settings, leaflets, bool(digests))
        self.links = Links(settings)
        self.env: jinja2.Environment = environment(settings, "site")
        self.templates = TemplateDigests(self.env, lambda: theme_fingerprint(settings, "site"))
        self.cards = Cards(settings, self.env, self.templates)
        self._translators: dict[str, Translator] = {}
        self._alternates: dict[str, tuple[tuple[str, str], ...]] = {}  # of each page, for the sitemap
        self._lastmod: dict[str, dt.date] = {}  # of each case page, for the sitemap
        self._figures: dict[str, Stats] = {}  # of each language's part, for stats.json and the badge

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
        if context.get("alternates"):
            self._alternates[file_for(path)] = context["alternates"]
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
        context.setdefault("switcher", ())
        context.setdefault("alternates", ())
        context.setdefault("card", None)
        context.setdefault("json_ld", ())
        context.setdefault("own_feed", None)
        html = self.env.get_template(template).render(
            settings=self.settings,
            links=self.links.within(language),
            home=self.links.home(language),
            site_title=self.settings.title_in(language),
            site_description=self.settings.description_in(language),
            company=self.settings.company_in(language),
            shown=functools.partial(self._shown_name, language),
            elsewhere=_elsewhere,
            language_label=lambda other: language_name(other, language),
            page_language_name=own_name(language),
            tr=self.tr,
            t=self.tr(language),
            site_t=self.tr(language),
            lang=language,
            path=path,
            root=root_for(file_for(path)) if root is None else root,
            url=self.links.absolute(path),
            leaflets=self.leaflets,
            archive=bool(self.digests),
            base_path=urlsplit(self.settings.base_url).path or "/",
            titled=functools.partial(self._titled, language),
            icon=icon(self.settings),
            **context,
        )
        return html.encode("utf-8")

    def _titled(self, language: str, page: str) -> str:
        """A page's <title> from its own name (the template's title block, already escaped once)."""
        return self.settings.page_title(page.unescape() if isinstance(page, Markup) else page, language)

    def _shown_name(self, language: str, kind: str, name: str) -> str:
        """An industry's or tag's name as a reader of `language` sees it."""
        return self.settings.shown(kind, name, language)

    def case_page(
        self, case: Case, previous: Case | None, next_: Case | None, versions: tuple[tuple[str, str], ...] = ()
    ) -> Artifact:
        """The page of one case; `versions`: (language, path) of each of its story's versions, when
        the site has more than one language, and ("home:<language>", path) for each language's home."""
        path = self.links.case(case)
        alternates, switcher = self._languages(case.language, path, versions)
        return self.page(
            "case.html",
            path,
            case.language,
            card=self.cards.shared(path, self.case_face(case), self.tr(case.language)),
            case=case,
            previous=_card(previous),
            next=_card(next_),
            alternates=alternates,
            switcher=switcher,
            lazy=functools.partial(self._case_context, case, versions),
        )

    def face(self, language: str, title: str, kicker: str | None = None, badge: str = "", lead: str = "") -> Face:
        """What the card of a page in `language` shows (above its title: the site's, unless told)."""
        company, site = self.settings.company_in(language).name, self.settings.title_in(language)
        return Face(language, title, site if kicker is None else kicker, badge, lead, company, site)

    def case_face(self, case: Case) -> Face:
        """A case's card: its title, industry and response time, as its page shows them."""
        t = self.tr(case.language)
        industry = self.settings.shown("industries", case.industry, case.language) if case.industry else ""
        badge = t.duration(case.response_time) if case.response_time is not None else ""
        return self.face(case.language, case.title, industry, badge)

    def _languages(
        self, language: str, path: str, versions: tuple[tuple[str, str], ...]
    ) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str, str, bool], ...]]:
        """A page's hreflang alternates (language, absolute URL; x-default last) and its language
        switcher (language, its name in itself, path, is this page) from the page's `versions`: the
        same page in each language where there is one, and each language's home (language "")."""
        if not versions:
            return (), ()
        same = dict(v for v in versions if not v[0].startswith("home:"))
        homes = {v[0].removeprefix("home:"): v[1] for v in versions if v[0].startswith("home:")}
        alternates = [(lang, self.links.absolute(same[lang])) for lang in homes if lang in same]
        default = same.get(self.settings.language, same.get(language, path))
        alternates.append(("x-default", self.links.absolute(default)))
        switcher = tuple((lang, own_name(lang), same.get(lang, home), lang == language) for lang, home in homes.items())
        return tuple(alternates), switcher

    def _case_context(self, case: Case, versions: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        """What only rendering a case page needs (skipped for a page kept from the last build)."""
        t = self.tr(case.language)
        url = self.links.absolute(self.links.case(case))
        company = publisher(self.settings, case.language)
        json_ld = {
            "@context": "https://schema.org",
            "@type": "Article",
            "headline": case.title,
            "description": case.summary,
            "datePublished": case.date.isoformat(),
            "dateModified": case.date.isoformat(),  # a case is published once it is fixed, and not revised
            "inLanguage": case.language,
            "url": url,
            "mainEntityOfPage": {"@type": "WebPage", "@id": url},
            "keywords": list(case.tags),
            "author": company,
            "publisher": company,
            "about": case.industry or t("a_customer"),
        }
        others = [
            {"@type": "Article", "inLanguage": lang, "url": self.links.absolute(path)}
            for lang, path in versions
            if not lang.startswith("home:") and lang != case.language
        ]
        if others:
            # The site's language tells the original; the others are its translations.
            key = "translationOfWork" if case.language != self.settings.language else "workTranslation"
            json_ld[key] = others[0] if key == "translationOfWork" and len(others) == 1 else others  # type: ignore[assignment]
        name = own_name(case.language)
        links = self.links.within(case.language)
        trail = [(self.settings.title_in(case.language), links.home())]
        if case.industry:
            trail.append(
                (self.settings.shown("industries", case.industry, case.language), links.industry(case.industry))
            )
        trail.append((case.title, links.case(case)))
        crumbs = breadcrumbs([(name_, self.links.absolute(path)) for name_, path in trail])
        return {"ordered_sections": ordered_sections(case), "json_ld": (json_ld, crumbs), "language_name": name}

    def _lists(self, edition: Edition) -> tuple[list[_Page], list[Artifact]]:
        """Every list page of one language's part of the site (paths within it, from its home), and
        the feed of each tag's and industry's list."""
        language, cases = edition.language, edition.listed
        t = self.tr(language)
        links = self.links.within(language)
        home = links.home()
        site_title, absolute = self.settings.title_in(language), self.links.absolute
        made: list[_Page] = []
        feeds: list[Artifact] = []
        home_card = self.face(language, site_title, "", lead=self.settings.description_in(language))
        for number, pages, chunk in _paged(cases, self.settings.per_page):
            front = collection(
                site_title, self.settings.description_in(language), absolute(home), language, self.settings
            )
            made.append(
                _Page(
                    "index.html",
                    links.index(number).removeprefix(home),
                    language,
                    home_card,
                    links.index(1).removeprefix(home),
                    {
                        "cases": tuple(CaseCard(case) for case in chunk),
                        "page": number,
                        "pages": pages,
                        "previous_page": links.index(number - 1) if number > 1 else None,
                        "next_page": links.index(number + 1) if number < pages else None,
                        "booklet": booklet_file(language, self.settings.language),
                        "json_ld": (front,),
                    },
                )
            )
        kinds = (
            ("tags", lambda c: c.tags, links.tag, "tagged", "tags", "tags"),
            ("industries", _industry, links.industry, "in_industry", "industries", "industries"),
        )
        collate = sort_key(language)
        for kind, keys, path, heading, all_heading, folder in kinds:
            groups: dict[str, list[Case]] = defaultdict(list)
            names: dict[str, str] = {}
            for case in cases:
                for term in keys(case):
                    url = tag_slug(self.settings.canonical(kind, term))
                    names.setdefault(url, self.settings.shown(kind, term, language))
                    groups[url].append(case)
            # In the reader's alphabet: доставка after delivery and follow-up on a Russian page.
            ordered = sorted(groups, key=lambda url: (collate(names[url]), url))
            top = (site_title, absolute(home)), (t(all_heading), absolute(f"{home}{folder}/"))
            for url in ordered:
                name, members = names[url], groups[url]
                title, first = t(heading, name=name), path(name, 1)
                description = t(f"{heading}_description", name=name)
                trail = breadcrumbs([*top, (title, absolute(first))])
                about = collection(title, description, absolute(first), language, self.settings)
                face = self.face(language, title)
                for number, pages, chunk in _paged(tuple(members), self.settings.per_page):
                    made.append(
                        _Page(
                            "list.html",
                            path(name, number).removeprefix(home),
                            language,
                            face,
                            path(name, 1).removeprefix(home),
                            {
                                "heading": title,
                                "description": description,
                                "own_feed": first + "feed.xml",
                                "cases": tuple(CaseCard(case) for case in chunk),
                                "page": number,
                                "pages": pages,
                                "previous_page": path(name, number - 1) if number > 1 else None,
                                "next_page": path(name, number + 1) if number < pages else None,
                                "json_ld": (about, trail),
                            },
                        )
                    )
                feeds.append(self._term_feed(tuple(members), Channel(first, title, language)))
            terms = [(names[u], path(names[u], 1), len(groups[u])) for u in ordered]
            context = {"heading": t(all_heading), "description": t(f"{folder}_description"), "terms": terms}
            made.append(
                _Page("terms.html", f"{folder}/", language, self.face(language, t(all_heading)), f"{folder}/", context)
            )
        figures = compute(cases, lambda name: self.settings.shown("industries", name, language))
        stats = {
            "stats": figures,
            "months": [(t.month(month), count) for month, count in figures.per_month],
            "buckets": [(t(key), count) for key, count in figures.buckets],
            "costs": [(t(f"cost_{cost}"), count) for cost, count in figures.costs],
        }
        self._figures[language] = figures
        made.append(_Page("stats.html", "stats/", language, self.face(language, t("stats_title")), "stats/", stats))
        changed = tuple(case for case in cases if case.has_change)
        changes_card = self.face(language, t("changes_title"))
        for number, pages, chunk in _paged(changed, self.settings.per_page):
            made.append(
                _Page(
                    "changes.html",
                    links.changes(number).removeprefix(home),
                    language,
                    changes_card,
                    links.changes().removeprefix(home),
                    {
                        "cases": tuple(CaseCard(case) for case in chunk),
                        "page": number,
                        "pages": pages,
                        "previous_page": links.changes(number - 1) if number > 1 else None,
                        "next_page": links.changes(number + 1) if number < pages else None,
                    },
                )
            )
        if changed:  # for the sitemap: the first page changes when a change is published
            self._lastmod[file_for(links.changes())] = changed[0].date
        return made, feeds

    def _term_feed(self, cases: tuple[Case, ...], channel: Channel) -> Artifact:
        """<tag's list>feed.xml: the newest of a tag's or industry's cases, as summaries. Made of
        what their cards show, as the list is: an edit of a case's text leaves it alone."""
        newest = cases[:FEED_SIZE]
        made_of = key(self.fingerprint, "feed", channel.page, channel.title, *(c.face for c in newest))
        render = functools.partial(render_feed, newest, self.settings, channel)
        return Artifact(f"{channel.page}feed.xml", render, made_of)

    def render(self, cases: tuple[Case, ...]) -> list[Artifact]:
        """Every file of the site for `cases` (newest first)."""
        out: list[Artifact] = []
        parts = editions(cases, self.settings)
        several = len(parts) > 1
        starts = homes(parts, self.links)
        stories = by_story(cases) if several else {}
        for edition in parts:
            # Previous and next stay within the page's language.
            own = edition.own
            for i, case in enumerate(own):
                older = own[i + 1] if i + 1 < len(own) else None
                newer = own[i - 1] if i > 0 else None
                out.append(self.case_page(case, older, newer, versions(case, stories, starts, self.links)))
                out.extend(self.cards.artifacts(self.links.case(case), self.case_face(case)))
                self._lastmod[file_for(self.links.case(case))] = case.date
                out.extend(
                    Artifact(f"{self.links.case(case)}{name}", source, key(case.digest, name, file_key(source)))
                    for name, source in case.assets
                )
        made = {e.language: self._lists(e) for e in parts}
        lists = {language: pages for language, (pages, _) in made.items()}
        out.extend(feed for _, feeds in made.values() for feed in feeds)
        where = {(language, page.path) for language, pages in lists.items() for page in pages}
        for language, pages in lists.items():
            for page in pages:
                same = tuple((lang, self.links.home(lang) + page.path) for lang in lists if (lang, page.path) in where)
                alternates, switcher = self._languages(
                    language, self.links.home(language) + page.path, same + starts if several else ()
                )
                shared = self.links.home(language) + page.card_at  # a list's later pages share its first's
                out.append(
                    self.page(
                        page.template,
                        self.links.home(language) + page.path,
                        language,
                        alternates=alternates,
                        switcher=switcher,
                        card=self.cards.shared(shared, page.face, self.tr(language)),
                        **page.context,
                    )
                )
                if page.path == page.card_at:
                    out.extend(self.cards.artifacts(shared, page.face))
        for language, figures in self._figures.items():
            out.extend(self.trust(language, figures))
        base_path = urlsplit(self.settings.base_url).path or "/"
        for edition in parts:
            home = self.links.home(edition.language)
            _, switcher = self._languages(edition.language, home, starts)
            out.append(self.page("404.html", f"{home}404.html", edition.language, root=base_path, switcher=switcher))
        if self.digests:
            out.extend(self.archive(cases, parts, starts))
        out.extend(self.feeds(cases, parts))
        out.append(self.sitemap(out))
        robots = self.env.get_template("robots.txt").render(sitemap=self.links.absolute("sitemap.xml"))
        out.append(Artifact("robots.txt", robots.encode("utf-8"), key(self.fingerprint, self.templates("robots.txt"))))
        out.extend(
            Artifact(f"static/{name}", path, key(self.fingerprint, "static", name, file_key(path)))
            for name, path in static_files(self.settings, "site").items()
        )
        if self.settings.logo_path is not None:
            logo = self.settings.logo_path
            out.append(Artifact(icon(self.settings)[0], logo, key(self.fingerprint, "logo", file_key(logo))))
        return out

    def trust(self, language: str, figures: Stats) -> list[Artifact]:
        """<home>stats/stats.json and <home>stats/badge.svg: the trust page's figures of one language's
        part of the site, for machines and to embed; made again only when the figures change."""
        folder = f"{self.links.home(language)}stats/"
        t = self.tr(language)
        made_of = key(self.fingerprint, repr(figures), language)
        return [
            Artifact(
                f"{folder}stats.json",
                functools.partial(stats_json, figures, language, self.links.absolute(folder)),
                key(made_of, "stats.json"),
            ),
            Artifact(f"{folder}badge.svg", functools.partial(badge_svg, figures, t), key(made_of, "badge.svg")),
        ]

    def archive(
        self, cases: tuple[Case, ...], parts: tuple[Edition, ...], starts: tuple[tuple[str, str], ...]
    ) -> list[Artifact]:
        """The web copy of each digest sent, in each language's part of the site where a reader of
        that language had cases in it (one version of each story, theirs when there is one, as the
        digest chose), and in each part the list of them; `starts`: each language's home."""
        copies: dict[str, list[tuple[Period, tuple[Case, ...]]]] = {}
        for edition in parts:
            told = ((p, self._read_by(edition.language, p.select(cases))) for p in self.digests)
            copies[edition.language] = [(period, chosen) for period, chosen in told if chosen]
        where = {(language, period.until) for language, made in copies.items() for period, _ in made}
        out: list[Artifact] = []
        for language, made in copies.items():
            t = self.tr(language)
            listed = []
            for period, chosen in made:
                path = self.links.digest(period.until, language)
                same = tuple(
                    (lang, self.links.digest(period.until, lang)) for lang in copies if (lang, period.until) in where
                )
                alternates, switcher = self._languages(language, path, same + starts if starts else ())
                face = self.face(language, t("digest_subject", date=t.date(period.until)))
                out.extend(self.cards.artifacts(path, face))
                out.append(
                    self.page(
                        "digest.html",
                        path,
                        language,
                        card=self.cards.shared(path, face, t),
                        since=period.since,
                        until=period.until,
                        cases=tuple(CaseCard(case) for case in chosen),
                        alternates=alternates,
                        switcher=switcher,
                    )
                )
                listed.append((period.since, period.until, len(chosen), path))
            path = self.links.digests(language)
            same = tuple((lang, self.links.digests(lang)) for lang in copies)
            alternates, switcher = self._languages(language, path, same + starts if starts else ())
            face = self.face(language, t("digests"))
            out.extend(self.cards.artifacts(path, face))
            card = self.cards.shared(path, face, t)
            out.append(
                self.page(
                    "digests.html",
                    path,
                    language,
                    digests=tuple(listed),
                    alternates=alternates,
                    switcher=switcher,
                    card=card,
                )
            )
        return out

    def _read_by(self, language: str, cases: tuple[Case, ...]) -> tuple[Case, ...]:
        """One version of each story of `cases` for a reader of `language`, as the digest chose it."""
        return for_reader(cases, language, self.settings.fallbacks, self.untranslated)

    def feeds(self, cases: tuple[Case, ...], parts: tuple[Edition, ...] | None = None) -> list[Artifact]:
        """feed.xml and feed.json of each language's part of the site (`parts`, when the caller has
        them): the newest cases its lists show, whole."""
        return [
            feed
            for edition in parts or editions(cases, self.settings)
            for feed in self.feed(edition.listed, self.links.home(edition.language), edition.language)
        ]

    def feed(self, cases: tuple[Case, ...], home: str = "", language: str = "") -> tuple[Artifact, Artifact]:
        """<home>feed.xml (Atom) and <home>feed.json (JSON Feed): the newest of `cases` (newest first), whole."""
        newest = cases[:FEED_SIZE]
        language = language or self.settings.language
        t = self.tr(language)
        changes = (t("changes_title"), t("changes_intro"))
        channel = Channel(home, self.settings.title_in(language), language, _body, changes)
        made_of = key(self.fingerprint, "feed", home, changes, *(c.digest for c in newest))
        return (
            Artifact(f"{home}feed.xml", functools.partial(render_feed, newest, self.settings, channel), made_of),
            Artifact(
                f"{home}feed.json",
                functools.partial(render_json_feed, newest, self.settings, channel),
                key(made_of, "json"),
            ),
        )

    def sitemap(self, made: list[Artifact]) -> Artifact:
        """sitemap.xml of every HTML page but the 404 pages, with each page's language alternates."""
        pages = [a for a in made if a.path.endswith(".html") and not a.path.endswith("404.html")]
        several = bool(self._alternates)
        entries = [
            (
                self.links.absolute(a.path.removesuffix("index.html")),
                self._lastmod.get(a.path),
                self._alternates.get(a.path, ()),
            )
            for a in sorted(pages, key=lambda a: a.path)
        ]
        # 10x cheaper than a repr of 20,000 tuples
        lines = "\n".join(f"{loc} {day} {alternates}" for loc, day, alternates in entries)
        made_of = key(self.fingerprint, self.templates("sitemap.xml"), "sitemap", lines)
        return Artifact(
            "sitemap.xml",
            lambda: self.env.get_template("sitemap.xml").render(entries=entries, languages=several).encode(),
            made_of,
        )


def _industry(case: Case) -> list[str]:
    return [case.industry] if case.industry else []


@dataclass(frozen=True, slots=True)
class _Page:
    """A list page before its languages are known: template, path within its language's part, context."""

    template: str
    path: str
    language: str
    face: Face  # what its card shows
    card_at: str  # where its card is: the first page of its list
    context: dict[str, Any]


def _paged(cases: tuple[Case, ...], size: int) -> Iterable[tuple[int, int, tuple[Case, ...]]]:
    """(page number, number of pages, the cases on it) for a list split into pages of `size`;
    an empty list still has its one, empty, first page."""
    pages = max(1, -(-len(cases) // size))
    for number in range(1, pages + 1):
        yield number, pages, cases[(number - 1) * size : number * size]


def _elsewhere(safe_html: str, base: str) -> str:
    """A case's section shown on another page, its links leading where they do from the case's page."""
    from site_builder.cases.markdown import elsewhere  # nh3: only when such a page is made

    return elsewhere(safe_html, base)


def _body(case: Case) -> str:
    """A case's sections as one piece of HTML, for the feed."""
    return "\n".join(s.html for s in ordered_sections(case))


def render_site(
    cases: tuple[Case, ...],
    settings: Settings,
    leaflets: bool = False,
    digests: tuple[Period, ...] = (),
    untranslated: bool = True,
) -> list[Artifact]:
    """Every file of the website for the published `cases`, newest first; `leaflets`: link the PDFs;
    `digests`: the digests sent, newest first, each published with the cases a reader got
    (`untranslated`: a story not told in the reader's language shown in another)."""
    return SiteRenderer(settings, leaflets, digests, untranslated).render(cases)
