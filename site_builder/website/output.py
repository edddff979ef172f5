"""The website as one output of a build: what it shows, how it is made, and what runs on it
before it is put in place (the search index). Heavy modules are imported when used."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from site_builder.build.keys import key
from site_builder.settings.config import Digest, Leaflet, Settings, Smtp

if TYPE_CHECKING:
    from site_builder.build.artifacts import Artifact, Finish, OutputTree
    from site_builder.build.outputs import Edited
    from site_builder.build.request import BuildRequest
    from site_builder.cases.model import Case
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
        """The site's settings, its theme, and whether it links to leaflets."""
        from site_builder.settings.theme import theme_fingerprint  # Jinja: not for commands that build nothing

        settings = site_settings(request.settings)
        return key(repr(settings), theme_fingerprint(settings, "site"), request.wants("leaflets"))

    def render(self, cases: tuple[Case, ...], request: BuildRequest, workers: LayoutWorkers | None) -> list[Artifact]:
        """Every file of the site."""
        from site_builder.website.pages import render_site

        return render_site(cases, site_settings(request.settings), leaflets=request.wants("leaflets"))

    def shown_whole(self, cases: tuple[Case, ...], request: BuildRequest) -> tuple[Case, ...]:
        """The feed's cases."""
        from site_builder.website.feed import FEED_SIZE

        return cases[:FEED_SIZE]

    def remade(self, edited: Edited, request: BuildRequest, workers: LayoutWorkers | None) -> list[Artifact]:
        """The edited cases' pages, and the feed when it shows one of them."""
        from site_builder.website.pages import SiteRenderer

        renderer = SiteRenderer(site_settings(request.settings), request.wants("leaflets"))
        made = [renderer.case_page(case, older, newer) for case, older, newer in edited.cases]
        return [*made, renderer.feed(edited.whole)] if edited.whole is not None else made

    def remember(self, cases: tuple[Case, ...], request: BuildRequest) -> tuple[str, ...]:
        """The pages of the newest cases, which the search index keeps in a bundle of their own."""
        from site_builder.website import search
        from site_builder.website.links import Links, file_for

        links = Links(site_settings(request.settings))
        return tuple(file_for(links.case(case)) for case in cases[: search.FRESH])

    def finish(self, request: BuildRequest, remembered: tuple[str, ...]) -> Finish | None:
        """The search index, made on the prepared folder (or one left from the build before last removed)."""
        from site_builder.website.search import index_site, remove_index

        settings = site_settings(request.settings)
        if not settings.search:
            return lambda folder, previous, changed: remove_index(folder)
        return lambda folder, previous, changed: index_site(folder, previous, changed, settings, list(remembered))

    def written(self, tree: OutputTree, changed: int, request: BuildRequest) -> None:
        """Nothing to tidy."""
