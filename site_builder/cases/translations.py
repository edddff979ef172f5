"""Translations: cases that share a `translation_key` tell one story in several languages."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from site_builder.cases.model import Case
from site_builder.problems import Problem

_FIELD = re.compile(r"^translation_key\s*[:=]", re.MULTILINE)


def story_of(case: Case) -> str:
    """The story a case tells: its translation key, or the case itself when it has none."""
    return f"key:{case.translation_key}" if case.translation_key is not None else f"file:{case.source}"


def by_story(cases: Iterable[Case]) -> dict[str, dict[str, Case]]:
    """Each story's versions by language, in the order the cases come (the first case of a
    language wins; a case without a translation_key is a story of its own)."""
    grouped: dict[str, dict[str, Case]] = defaultdict(dict)
    for case in cases:
        grouped[story_of(case)].setdefault(case.language, case)
    return dict(grouped)


def _line(path: Path) -> int | None:
    """The line of the translation_key field, read again only to report a problem."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = _FIELD.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def twins(cases: Sequence[Case]) -> list[Problem]:
    """An error for each case that is a second translation of a story into the same language."""
    first: dict[tuple[str, str], Case] = {}
    problems = []
    for case in sorted(cases, key=lambda c: str(c.source)):
        if case.translation_key is None:
            continue
        other = first.setdefault((case.translation_key, case.language), case)
        if other is not case:
            problems.append(
                Problem(
                    case.source,
                    _line(case.source),
                    "translation_key",
                    f"'{case.translation_key}' already has a case in '{case.language}': {other.source}",
                    "one case per language for each story: change the key or the language of one of them",
                )
            )
    return problems


def untranslated(cases: Iterable[Case], languages: Sequence[str]) -> list[str]:
    """One line per story that lacks a language the site offers, for `check -v`."""
    lines = []
    for story, versions in sorted(by_story(cases).items()):
        missing = [language for language in languages if language not in versions]
        if story.startswith("key:") and missing:
            have = ", ".join(f"{lang} ({case.source})" for lang, case in sorted(versions.items()))
            lines.append(f"{story.removeprefix('key:')}: no {', '.join(missing)} translation yet; has {have}")
    return lines


def for_reader(
    cases: Sequence[Case], language: str, languages: Sequence[str], untranslated: bool = True
) -> tuple[Case, ...]:
    """One case per story for a reader of `language`, in the order of `cases`: the story's version in
    that language, else (when `untranslated`) its version in the first of `languages` it has."""
    rank: dict[str, int] = {}
    for i, lang in enumerate(languages):
        rank.setdefault(lang, i)
    chosen: set[int] = set()
    for told in by_story(cases).values():
        if language in told:
            chosen.add(id(told[language]))
        elif untranslated:
            chosen.add(id(min(told.values(), key=lambda c: rank.get(c.language, len(rank)))))
    return tuple(case for case in cases if id(case) in chosen)


def siblings(cases: Iterable[Case]) -> dict[str, frozenset[str]]:
    """Each case's slug -> the slugs of every version of its story (its own included)."""
    slugs_of = (frozenset(c.slug for c in told.values()) for told in by_story(cases).values())
    return {slug: slugs for slugs in slugs_of for slug in slugs}
