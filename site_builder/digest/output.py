"""The digest as one output of a build: the .html, .txt and .eml of the period's cases. The email
code is imported only by builds that make a digest."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from site_builder.build.keys import key
from site_builder.settings.config import Leaflet, Settings, Smtp

if TYPE_CHECKING:
    from site_builder.build.artifacts import Artifact, Finish, OutputTree
    from site_builder.build.outputs import Edited
    from site_builder.build.request import BuildRequest
    from site_builder.cases.model import Case
    from site_builder.leaflets.workers import LayoutWorkers


def digest_settings(settings: Settings) -> Settings:
    """The settings with what the digest does not show left at their defaults (how and where it
    is sent is `send`'s business, not the rendered digest's)."""
    digest = replace(
        settings.digest, ledger="", retries=0, backoff=0.0, days=0, dkim_key="", dkim_selector="", dkim_domain=""
    )
    return replace(settings, smtp=Smtp(), leaflet=Leaflet(), digest=digest, per_page=0, search=False)


class DigestOutput:
    """OUT/digest/: the digest of the period, as a mail program and a browser show it."""

    name = "digest"
    carried = None

    def shows(self, request: BuildRequest) -> str:
        """The digest's settings, the email theme, the period and the preview's unsubscribe links."""
        from site_builder.digest.unsubscribe import preview_address, unsubscribe_links
        from site_builder.settings.theme import theme_fingerprint  # Jinja: not for commands that build nothing

        settings = digest_settings(request.settings)
        # The links change with the secret in the environment, which no file of the project holds.
        links = unsubscribe_links(settings, preview_address(settings))
        return key(repr(settings), theme_fingerprint(settings, "email"), repr(request.period), repr(links))

    def render(self, cases: tuple[Case, ...], request: BuildRequest, workers: LayoutWorkers | None) -> list[Artifact]:
        """The three files of the digest; none for a period without cases."""
        from site_builder.digest.compose import render_digest_files

        return render_digest_files(cases, digest_settings(request.settings), request.period)

    def shown_whole(self, cases: tuple[Case, ...], request: BuildRequest) -> tuple[Case, ...]:
        """The period's cases."""
        return request.period.select(cases)

    def remade(self, edited: Edited, request: BuildRequest, workers: LayoutWorkers | None) -> list[Artifact]:
        """The digest again when it shows an edited case (it shows nothing but cases shown whole)."""
        return self.render(edited.whole, request, workers) if edited.whole is not None else []

    def remember(self, cases: tuple[Case, ...], request: BuildRequest) -> tuple[str, ...]:
        """Nothing."""
        return ()

    def finish(self, request: BuildRequest, remembered: tuple[str, ...]) -> Finish | None:
        """Nothing runs on the digest's folder."""
        return None

    def written(self, tree: OutputTree, changed: int, request: BuildRequest) -> None:
        """Nothing to tidy."""
