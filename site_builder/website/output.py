"""The website as one output of a build: what it shows, how it is made, and what runs on it
before it is put in place (the search index). Heavy modules are imported when used."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from site_builder.build.keys import file_key, key
from site_builder.settings.config import Digest, Leaflet, Settings, Smtp

if TYPE_CHECKING:
    from site_builder.build.artifacts import Artifact, Finish, OutputTree
    from site_builder.build.outputs import Edited
    from site_builder.build.request import BuildRequest
    from site_builder.cases.model import Case
    from site_builder.digest.period import Period
    from site_builder.leaflets.workers import LayoutWorkers


def site_settings(settings: Settings) -> Settings:
    """The settings with what no page shows left at their defaults: pages are made from this, so
    a change to the mail server or the digest's options cannot and does not make a page again."""
    return replace(settings, smtp=Smtp(), digest=Digest(), leaflet=Leaflet())


class Website:
    """OUT/site/: the case pages, lists, feed, sitemap, stats and search index."""

    name = "site"
    carried = None

    def shows(self, request: BuildRequest) -> str:
        """The site's settings, its theme, what its cards are drawn with (fonts, colours), whether it
        links to leaflets, and the digests sent (its archive): a send makes the next build a full
        one, which adds the new digest's pages."""
        from site_builder.settings.theme import theme_fingerprint  # Jinja: not for commands that build nothing
        from site_builder.website.cards import drawing  # the fonts cards are drawn with are the leaflets' theme's

        settings = site_settings(request.settings)
        # The logo is copied into the site: a new picture under the same name is a change too.
        logo = file_key(settings.logo_path) if settings.logo_path is not None else ""
        made = (repr(settings), theme_fingerprint(settings, "site"), logo, drawing(settings), request.wants("leaflets"))
        return key(*made, *_archive(request))

    def render(self, cases: tuple[Case, ...], request: BuildRequest, workers: LayoutWorkers | None) -> list[Artifact]:
        """Every file of the site."""
        from site_builder.website.pages import render_site

        return render_site(cases, site_settings(request.settings), request.wants("leaflets"), *_archive(request))

    def shown_whole(self, cases: tuple[Case, ...], request: BuildRequest) -> tuple[Case, ...]:
        """The feeds' cases, each with every version of its story (so that each language's feed can
        be made again from them alone)."""
        from site_builder.cases.translations import story_of
        from site_builder.website.editions import editions
        from site_builder.website.feed import FEED_SIZE

        fed = {story_of(c) for edition in editions(cases, request.settings) for c in edition.listed[:FEED_SIZE]}
        return tuple(c for c in cases if story_of(c) in fed)

    def remade(self, edited: Edited, request: BuildRequest, workers: LayoutWorkers | None) -> list[Artifact]:
        """The edited cases' pages, and the feeds when they show one of them."""
        from site_builder.website.pages import SiteRenderer

        renderer = SiteRenderer(site_settings(request.settings), request.wants("leaflets"), *_archive(request))
        versions = _versions(edited.remembered.get(self.name, ()))
        made = [
            renderer.case_page(case, older, newer, versions.get(str(case.source), ()))
            for case, older, newer in edited.cases
        ]
        return [*made, *renderer.feeds(edited.whole)] if edited.whole is not None else made

    def remember(self, cases: tuple[Case, ...], request: BuildRequest) -> tuple[str, ...]:
        """The pages of the newest cases, which the search index keeps in a bundle of their own; and
        on a site of several languages, where each case's translations and each language's home are,
        for a case page made again from the note."""
        from site_builder.cases.translations import by_story
        from site_builder.website import search
        from site_builder.website.editions import editions, homes, versions
        from site_builder.website.links import Links, file_for

        settings = site_settings(request.settings)
        links = Links(settings)
        fresh = tuple(file_for(links.case(case)) for case in cases[: search.FRESH])
        starts = homes(editions(cases, settings), links)
        if not starts:
            return fresh
        stories = by_story(cases)
        return fresh + tuple(
            "\t".join(
                (_VERSIONS, str(c.source), *(f"{lang}={path}" for lang, path in versions(c, stories, starts, links)))
            )
            for c in cases
        )

    def finish(self, request: BuildRequest, remembered: tuple[str, ...]) -> Finish | None:
        """The search index, made on the prepared folder (or one left from the build before last removed)."""
        from site_builder.website.search import index_site, remove_index

        settings = site_settings(request.settings)
        if not settings.search:
            return lambda folder, previous, changed: remove_index(folder)
        fresh = [page for page in remembered if not page.startswith(_VERSIONS)]
        return lambda folder, previous, changed: index_site(folder, previous, changed, settings, fresh)

    def written(self, tree: OutputTree, changed: int, request: BuildRequest) -> None:
        """After a build that changed the site, the cached cards no page uses any more go, in time."""
        from site_builder.build.cache import Cache
        from site_builder.website.cards import FILE

        if changed:
            used = {made_of for name, made_of in tree.keys.items() if name.endswith(FILE)}
            Cache(request.settings.cache_dir / "cards").prune(used)


_VERSIONS = "versions"


def _archive(request: BuildRequest) -> tuple[tuple[Period, ...], bool]:
    """What the site's archive of sent digests is made of: the digests, and whether a story not
    told in a reader's language is shown in another (the digest's setting, which `site_settings`
    leaves out: it is the digest's choice, not the site's lists')."""
    return request.sent, request.settings.digest.untranslated == "show" if request.sent else True


def _versions(remembered: tuple[str, ...]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each case's versions as `remember` wrote them, by its file."""
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    for entry in remembered:
        if entry.startswith(_VERSIONS + "\t"):
            _, source, *pairs = entry.split("\t")
            found[source] = tuple(tuple(pair.split("=", 1)) for pair in pairs)  # type: ignore[misc]
    return found
