"""A deterministic corpus of N cases in English, Russian and Danish, using every field.

python bench/corpus.py N FOLDER  -- writes FOLDER/cases/*.md (400-900 words each, with lists,
tables and links). The same N always gives the same files.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

WORDS = {
    "en": [
        "customer",
        "order",
        "delivery",
        "parcel",
        "courier",
        "invoice",
        "refund",
        "apology",
        "manager",
        "shift",
        "route",
        "booking",
        "room",
        "guest",
        "driver",
        "support",
        "trial",
        "software",
        "clinic",
        "office",
        "cleaning",
        "kitchen",
        "warehouse",
        "schedule",
        "call",
        "promise",
        "mistake",
        "process",
        "checklist",
        "training",
        "guarantee",
        "discount",
        "week",
        "hour",
        "morning",
        "evening",
        "late",
        "early",
        "broken",
        "missing",
        "wrong",
        "damaged",
        "quickly",
        "fixed",
        "changed",
        "improved",
        "rule",
        "team",
        "every",
        "each",
    ],
    "ru": [
        "клиент",
        "заказ",
        "доставка",
        "посылка",
        "курьер",
        "счёт",
        "возврат",
        "извинение",
        "менеджер",
        "смена",
        "маршрут",
        "бронь",
        "номер",
        "гость",
        "водитель",
        "поддержка",
        "программа",
        "офис",
        "уборка",
        "кухня",
        "склад",
        "график",
        "звонок",
        "обещание",
        "ошибка",
        "процесс",
        "список",
        "обучение",
        "гарантия",
        "скидка",
        "неделя",
        "час",
        "утро",
        "вечер",
        "поздно",
        "рано",
        "сломан",
        "пропал",
        "неверно",
        "повреждён",
        "быстро",
        "исправили",
        "изменили",
        "улучшили",
        "правило",
        "команда",
        "каждый",
    ],
    "da": [
        "kunde",
        "ordre",
        "levering",
        "pakke",
        "bud",
        "faktura",
        "refusion",
        "undskyldning",
        "leder",
        "vagt",
        "rute",
        "booking",
        "værelse",
        "gæst",
        "chauffør",
        "support",
        "prøve",
        "software",
        "klinik",
        "kontor",
        "rengøring",
        "køkken",
        "lager",
        "plan",
        "opkald",
        "løfte",
        "fejl",
        "proces",
        "tjekliste",
        "oplæring",
        "garanti",
        "rabat",
        "uge",
        "time",
        "morgen",
        "aften",
        "sent",
        "tidligt",
        "ødelagt",
        "mangler",
        "forkert",
        "beskadiget",
        "hurtigt",
        "rettet",
        "ændret",
        "forbedret",
        "regel",
        "hold",
        "hver",
    ],
}
HEADINGS = {
    "en": ("Problem", "Cause", "Fix", "What we changed", "Thanks", "Thank you to our customer for telling us."),
    "ru": (
        "Проблема",
        "Причина",
        "Решение",
        "Что мы изменили",
        "Спасибо",
        "Спасибо нашему клиенту, что рассказал нам.",
    ),
    "da": ("Problem", "Årsag", "Løsning", "Hvad vi ændrede", "Tak", "Tak til vores kunde, fordi du sagde det."),
}
INDUSTRIES = ["cleaning", "hotels", "taxi", "software", "online retail", "manufacturing", "banking", "dental care"]
TAGS = ["delivery", "refund", "apology", "guarantee", "training", "process-change", "follow-up", "booking", "stock"]
COSTS = ["economic", "time", "social", "emotional"]


def _sentence(rng: random.Random, words: list[str]) -> str:
    text = " ".join(rng.choice(words) for _ in range(rng.randint(8, 16)))
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, words: list[str]) -> str:
    return " ".join(_sentence(rng, words) for _ in range(rng.randint(3, 6)))


def case_text(index: int, language: str | None = None) -> str:
    """The Markdown of case number `index` (deterministic), in `language` or in its turn's."""
    rng = random.Random(index)
    language = language or ("en", "ru", "da")[index % 3]
    words = WORDS[language]
    problem, cause, fix, changed, thanks, thank_line = HEADINGS[language]
    year, day = 2016 + index % 10, 1 + index % 28
    month = 1 + (index // 28) % 12
    consent = index % 4 == 0
    received = f"{year}-{month:02d}-{day:02d}" + (" 09:30" if index % 2 else "")
    resolved_day = min(28, day + rng.randint(0, 9))
    front = [
        "---",
        f'title: "{_sentence(rng, words)[:-1]} #{index}"',
        f"date: {year}-{month:02d}-{min(28, resolved_day + 1):02d}",
        f"received: {received}",
        f"resolved: {year}-{month:02d}-{resolved_day:02d}" + (" 17:45" if index % 2 else ""),
        f'customer: "Ms Ramsey-{index}"',
        f"consent: {'true' if consent else 'false'}",
        f"slug: case-{index:05d}",
        f'industry: "{INDUSTRIES[index % len(INDUSTRIES)]}"',
        f"tags: [{', '.join(rng.sample(TAGS, 3))}]",
        f"costs: [{', '.join(rng.sample(COSTS, 2))}]",
        f'compensation: "{_sentence(rng, words)}"',
        f"language: {language}",
        f'summary: "{_sentence(rng, words)[:150]}"',
        "draft: false",
        "---",
    ]
    body = [
        f"## {problem}",
        *(_paragraph(rng, words) for _ in range(3)),
        f"## {cause}",
        *(_paragraph(rng, words) for _ in range(2)),
        "| | |\n|---|---|\n" + "\n".join(f"| {rng.choice(words)} | {rng.randint(1, 99)} |" for _ in range(4)),
        f"## {fix}",
        *(_paragraph(rng, words) for _ in range(2)),
        "\n".join(f"- {_sentence(rng, words)}" for _ in range(4)),
        f"See [our service page](https://example.com/service/{index}).",
        f"## {changed}",
        *(_paragraph(rng, words) for _ in range(rng.randint(1, 4))),
        f"## {thanks}",
        thank_line + " " + _paragraph(rng, words),
    ]
    return "\n".join(front) + "\n\n" + "\n\n".join(body) + "\n"


def write_corpus(count: int, folder: Path, languages: str = "mixed") -> Path:
    """Write `count` cases into folder/cases; returns that folder. `languages`: "mixed" (a third
    each in English, Russian and Danish), "one-en", "one-ru" or "one-da" (all in that language: a
    site of one language), or "translated" (as mixed, and each three cases in a row one story in
    three languages)."""
    cases = folder / "cases"
    cases.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        text = case_text(index, languages.removeprefix("one-") if languages.startswith("one-") else None)
        if languages == "translated":
            text = text.replace("\nlanguage: ", f"\ntranslation_key: story-{index // 3}\nlanguage: ", 1)
        (cases / f"case-{index:05d}.md").write_text(text, encoding="utf-8")
    return cases


if __name__ == "__main__":
    write_corpus(int(sys.argv[1]), Path(sys.argv[2]))
