"""The example text `site-builder new` writes under each heading, and the check that none is published."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from site_builder.cases.sections import RawSection
from site_builder.problems import Problem

# English is the fallback for a language without its own.
PLACEHOLDERS: dict[str, dict[str, str]] = {
    "en": {
        "problem": "What went wrong, from the customer's side. Be concrete: what, when, how long.",
        "cause": "Why it happened. Name the broken process, not a scapegoat.",
        "fix": "What we did for this customer, and what we changed so it cannot happen again.",
        "thanks": "Thank the customer who told us. Name them only if they agreed (consent: true).",
    },
    "ru": {
        "problem": "Что пошло не так, глазами клиента. Конкретно: что, когда, как долго.",
        "cause": "Почему это случилось. Назовите сломанный процесс, а не виноватого.",
        "fix": "Что мы сделали для этого клиента и что изменили, чтобы это не повторилось.",
        "thanks": (
            "Поблагодарите клиента, который нам написал. Называйте имя, только если он согласился (consent: true)."
        ),
    },
    "da": {
        "problem": "Hvad gik galt, set fra kundens side. Vær konkret: hvad, hvornår, hvor længe.",
        "cause": "Hvorfor det skete. Nævn den proces, der svigtede, ikke en syndebuk.",
        "fix": "Hvad vi gjorde for denne kunde, og hvad vi ændrede, så det ikke kan ske igen.",
        "thanks": "Tak kunden, der sagde det til os. Nævn kun navnet, hvis kunden har sagt ja (consent: true).",
    },
}

# Folded, so a placeholder survives neither a rewrapped line nor extra spaces.
_ALL = {" ".join(text.split()) for texts in PLACEHOLDERS.values() for text in texts.values()}
# Each one's first word and the next (no line is broken that early): a section without any of them
# is not folded at all.
_STARTS = {" ".join(text.split()[:2]) for text in _ALL}


def placeholder(language: str, key: str) -> str:
    """The example text for a section in a language (English when the language has none)."""
    return PLACEHOLDERS.get(language, PLACEHOLDERS["en"])[key]


def leftovers(path: Path, sections: Iterable[RawSection], draft: bool) -> list[Problem]:
    """A problem for each section that still holds example text: an error once the case is no draft."""
    problems = []
    for section in sections:
        if section.key == "extra" or not any(start in section.text for start in _STARTS):
            continue
        folded = " ".join(section.text.split())
        if any(text in folded for text in _ALL):
            problems.append(
                Problem(
                    path,
                    section.line,
                    "body",
                    f"section '{section.heading}' still holds the example text that 'site-builder new' wrote",
                    "replace it with what happened in this case",
                    severity="warning" if draft else "error",
                )
            )
    return problems
