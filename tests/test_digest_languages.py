"""Each reader's digest in their language: a case's translation when it has one, otherwise the
original marked with its language (or left out), and a story never sent twice in two languages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from lxml import html

from tests.conftest import case_text
from tests.smtp_server import SmtpServer
from tests.test_digest import parts
from tests.test_send import configure

RU_HEADINGS = {"## Problem": "## Проблема", "## Cause": "## Причина", "## Fix": "## Решение", "## Thanks": "## Спасибо"}
DA_HEADINGS = {"## Cause": "## Årsag", "## Fix": "## Løsning", "## Thanks": "## Tak"}


def translated(text: str, headings: dict[str, str]) -> str:
    """A case text with its headings in another language."""
    for english, other in headings.items():
        text = text.replace(english, other)
    return text


@pytest.fixture
def stories(project: Path, write_case: Callable[..., Path], smtp: SmtpServer) -> Path:
    """A story told in English and Russian, one told only in Danish, and an English and a Russian reader."""
    write_case("room.md", case_text(title="The room was gone", date="2026-03-05", extra="translation_key: room\n"))
    write_case(
        "komnata.md",
        translated(
            case_text(title="Номер исчез", date="2026-03-06", language="ru", extra="translation_key: room\n"),
            RU_HEADINGS,
        )
        .replace("The room was simply gone", "Номер просто исчез")
        .replace("industry: hotels", "industry: гостиницы"),
    )
    write_case(
        "cykel.md",
        translated(case_text(title="Cyklen kom aldrig", date="2026-03-10", language="da"), DA_HEADINGS)
        .replace("The room was simply gone", "Cyklen kom simpelthen aldrig")
        .replace("industry: hotels", "industry: cykler"),
    )
    (project / "people.csv").write_text(
        "email,name,language,segments\nanna@example.com,Anna,en,\nboris@example.com,Борис,ru,\n", encoding="utf-8"
    )
    return project


SEND = ("send", "--recipients", "people.csv", "--since", "2026-03-01", "--until", "2026-03-31")


def titles(smtp: SmtpServer, address: str) -> tuple[str, list[str], str]:
    """The subject, the case titles and the preheader of the one message `address` received."""
    (message,) = smtp.recorder.to(address)
    _, body = parts(message)
    page = html.fromstring(body)
    preheader = page.xpath("//div[@class='preheader']")[0].text_content().strip("\u2007\ufeff ")
    return str(message["Subject"]), [a.text_content() for a in page.xpath("//h2/a")], preheader


def test_each_reader_gets_the_translation_or_the_marked_original(
    stories: Path, smtp: SmtpServer, cli: Callable[..., Result]
) -> None:
    configure(stories, smtp.port)
    result = cli(*SEND)
    assert result.exit_code == 0, result.output
    subject, shown, preheader = titles(smtp, "anna@example.com")
    assert shown == ["Cyklen kom aldrig", "The room was gone"]
    assert subject.startswith("What we fixed") and preheader.startswith("The room was simply gone")
    subject, shown, preheader = titles(smtp, "boris@example.com")
    assert shown == ["Cyklen kom aldrig", "Номер исчез"]
    assert subject.startswith("Что мы исправили") and preheader.startswith("Номер просто исчез")
    (message,) = smtp.recorder.to("boris@example.com")
    text, body = parts(message)
    assert "датский" in text
    (marked,) = html.fromstring(body).xpath("//span[@class='language']")
    assert marked.text_content() == "датский" and marked.get("lang") == "ru"


def test_untranslated_cases_can_be_left_out(stories: Path, smtp: SmtpServer, cli: Callable[..., Result]) -> None:
    configure(stories, smtp.port, 'untranslated = "hide"\n')
    assert cli(*SEND).exit_code == 0
    assert titles(smtp, "anna@example.com")[1] == ["The room was gone"]
    assert titles(smtp, "boris@example.com")[1] == ["Номер исчез"]


def test_a_story_had_in_one_language_is_not_sent_again_in_another(
    stories: Path, smtp: SmtpServer, cli: Callable[..., Result]
) -> None:
    configure(stories, smtp.port)
    (stories / "cases/komnata.md").rename(stories / "later.txt")
    assert cli(*SEND).exit_code == 0
    assert titles(smtp, "boris@example.com")[1] == ["Cyklen kom aldrig", "The room was gone"]
    (stories / "later.txt").rename(stories / "cases/komnata.md")
    smtp.recorder.messages.clear()
    result = cli("send", "--recipients", "people.csv", "--since", "2026-03-01", "--until", "2026-04-30")
    assert result.exit_code == 0, result.output
    assert smtp.recorder.to("boris@example.com") == []  # the Russian version of a story Boris has read


def test_a_segment_matches_an_industry_in_any_language_and_the_company_speaks_it(
    stories: Path, smtp: SmtpServer, cli: Callable[..., Result]
) -> None:
    configure(stories, smtp.port)
    with (stories / "site.toml").open("a", encoding="utf-8") as toml:
        toml.write(
            '[languages.en]\n[languages.ru]\n[languages.ru.industries]\nhotels = "гостиницы"\n'
            '[languages.ru.company]\nname = "Акме"\n[languages.da]\n'
        )
    (stories / "people.csv").write_text(
        "email,name,language,segments\nboris@example.com,Борис,ru,hotels\nanna@example.com,Anna,en,гостиницы\n",
        encoding="utf-8",
    )
    result = cli(*SEND)
    assert result.exit_code == 0, result.output
    assert titles(smtp, "boris@example.com")[1] == ["Номер исчез"]
    assert titles(smtp, "anna@example.com")[1] == ["The room was gone"]
    # The company's text in the reader's language, where site.toml gives one.
    assert "Акме" in parts(smtp.recorder.to("boris@example.com")[0])[0]
    assert "Акме" not in parts(smtp.recorder.to("anna@example.com")[0])[0]
