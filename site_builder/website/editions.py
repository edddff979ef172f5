"""The site's parts by language: the site's language at the root, every other language that has
cases under /<language>/, each with its own lists; and where each page has its translations."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.cases.model import Case
from site_builder.cases.translations import for_reader, story_of
from site_builder.settings.config import Settings


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
    languages = [
        settings.language,
        *(lang for lang in settings.languages if lang in present and lang != settings.language),
    ]
    if len(languages) == 1:
        return (Edition(settings.language, cases, cases),)
    order = (settings.language, *settings.languages)
    shown = settings.untranslated == "show"
    return tuple(
        Edition(lang, for_reader(cases, lang, order, shown), tuple(c for c in cases if c.language == lang))
        for lang in languages
    )


def translations(cases: tuple[Case, ...]) -> dict[str, dict[str, Case]]:
    """Each story's versions by language (a case without a translation_key is a story of its own)."""
    found: dict[str, dict[str, Case]] = {}
    for case in cases:
        found.setdefault(story_of(case), {}).setdefault(case.language, case)
    return found
