"""The leaflets as one output of a build: a PDF per case and the booklet, also carried by the site
(its pages link to them). WeasyPrint is imported only by builds that print."""

from __future__ import annotations

from typing import TYPE_CHECKING

from site_builder.build.keys import key

if TYPE_CHECKING:
    from site_builder.build.artifacts import Artifact, Finish, OutputTree
    from site_builder.build.outputs import Edited
    from site_builder.build.request import BuildRequest
    from site_builder.cases.model import Case
    from site_builder.leaflets.workers import LayoutWorkers


class LeafletsOutput:
    """OUT/leaflets/: <slug>.pdf for every case, and a booklet with a cover per language (all.pdf)."""

    name = "leaflets"
    carried = ("site", "leaflets/")

    def shows(self, request: BuildRequest) -> str:
        """What every leaflet's key holds (settings, theme, paper, WeasyPrint's version), and the booklet's filter."""
        from site_builder.leaflets.compose import leaflet_fingerprint

        # --imposed adds files without changing a leaflet: the output differs, no leaflet's key does.
        return key(
            leaflet_fingerprint(request.settings, request.leaflet), repr(request.booklet), request.leaflet.imposed
        )

    def render(self, cases: tuple[Case, ...], request: BuildRequest, workers: LayoutWorkers | None) -> list[Artifact]:
        """Every leaflet and the booklet (the ones to lay out go to the workers at once)."""
        from site_builder.leaflets.compose import render_leaflets

        return render_leaflets(cases, request.settings, request.leaflet, request.booklet, workers)

    def shown_whole(self, cases: tuple[Case, ...], request: BuildRequest) -> tuple[Case, ...]:
        """The booklet's cases."""
        from site_builder.leaflets.compose import booklet_cases

        return booklet_cases(cases, request.settings, request.booklet)

    def remade(self, edited: Edited, request: BuildRequest, workers: LayoutWorkers | None) -> list[Artifact]:
        """The edited cases' leaflets, and the booklet when it holds one of them."""
        from site_builder.leaflets.compose import render_leaflets

        shown = tuple(case for case, _, _ in edited.cases)
        whole = edited.whole or ()
        wanted = {f"{case.slug}.pdf" for case in shown}
        # The booklets' cases are all among those shown whole: one call makes them and their leaflets.
        in_whole = {case.source for case in whole}
        alone = tuple(case for case in shown if case.source not in in_whole)
        made = render_leaflets(whole, request.settings, request.leaflet, request.booklet, workers) if whole else []
        made += render_leaflets(alone, request.settings, request.leaflet, None, workers, with_booklet=False)
        return [artifact for artifact in made if artifact.path in wanted or artifact.made_from_others]

    def remember(self, cases: tuple[Case, ...], request: BuildRequest) -> tuple[str, ...]:
        """Nothing."""
        return ()

    def finish(self, request: BuildRequest, remembered: tuple[str, ...]) -> Finish | None:
        """Nothing runs on the leaflets' folder."""
        return None

    def written(self, tree: OutputTree, changed: int, request: BuildRequest) -> None:
        """After a build that laid out leaflets, the cached ones no output uses any more go, in time."""
        from site_builder.build.cache import Cache

        if changed and request.leaflet.cache_dir is not None:
            Cache(request.leaflet.cache_dir / "leaflets").prune(set(tree.keys.values()))
