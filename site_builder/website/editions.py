"""The site's parts by language: the site's language at the root, every other language that has
cases under /<language>/, each with its own lists; and where each page has its translations."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.cases.model import Case
from site_builder.cases.translations import for_reader, story_of
from site_builder.settings.config import Settings
from site_builder.website.links import Links


@dataclass(frozen=True, slots=True)
class Edition:
    """One language's part of the site: the cases its lists show (one version of each story, newest
    first) and the cases written in it, whose pages live in it."""

    language: str
    listed: tuple[Case, ...]
    own: tuple[Case, ...]


def editions(cases: tuple[Case, ...], settings: Settings) -> tuple[Edition, ...]:
    """The site's language first, then each other language of `cases` in site.toml's order. A site
    whose cases are all in its language is one edition, as it always was."""
    present = {case.language for case in cases}
    languages = [lang for lang in settings.fallbacks if lang == settings.language or lang in present]
    if len(languages) == 1:
        return (Edition(settings.language, cases, cases),)
    shown = settings.untranslated == "show"
    return tuple(
        Edition(lang, for_reader(cases, lang, settings.fallbacks, shown), tuple(c for c in cases if c.language == lang))
        for lang in languages
    )


def versions(
    case: Case, stories: dict[str, dict[str, Case]], homes: tuple[tuple[str, str], ...], links: Links
) -> tuple[tuple[str, str], ...]:
    """(language, path) of each version of a case's story (`stories` from `by_story`), then each
    language's home as ("home:<language>", path); nothing on a site of one language (no `homes`)."""
    if not homes:
        return ()
    told = stories.get(story_of(case), {case.language: case})
    return (*((lang, links.case(told[lang])) for lang in sorted(told)), *homes)


def homes(parts: tuple[Edition, ...], links: Links) -> tuple[tuple[str, str], ...]:
    """("home:<language>", path) of each language's part of the site, when there are several."""
    return tuple((f"home:{e.language}", links.home(e.language)) for e in parts) if len(parts) > 1 else ()
