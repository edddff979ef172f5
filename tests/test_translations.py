"""Translations of one story (`translation_key`) and per-language site text (`[languages.xx]`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from site_builder.problems import ConfigError
from site_builder.settings.config import load_settings
from tests.conftest import case_text


def test_two_cases_of_one_story_in_one_language_is_an_error(
    cli: Callable[..., Result], write_case: Callable[..., Path]
) -> None:
    write_case("a.md", case_text(extra="translation_key: room\n"))
    second = write_case("b.md", case_text(title="The room was gone", extra="translation_key: room\n"))
    write_case("c.md", case_text(title="Værelset var væk", language="da", extra="translation_key: room\n"))
    result = cli("check")
    assert result.exit_code == 1
    assert (
        f"{second}:11: translation_key: 'room' already has a case in 'en': cases/a.md "
        "(one case per language for each story: change the key or the language of one of them)"
    ) in result.stderr
    assert "c.md:11: translation_key" not in result.stderr


def test_check_verbose_lists_stories_that_lack_a_language(
    cli: Callable[..., Result], write_case: Callable[..., Path]
) -> None:
    write_case("a.md", case_text(extra="translation_key: room\n"))
    write_case("c.md", case_text(title="Værelset var væk", language="da", extra="translation_key: room\n"))
    write_case("d.md", case_text(title="Alone"))
    quiet = cli("check")
    assert quiet.exit_code == 0 and "translation yet" not in quiet.output
    result = cli("check", "-v")
    assert result.exit_code == 0
    assert "room: no ru translation yet; has da (cases/c.md), en (cases/a.md)" in result.stdout


def test_languages_as_tables_give_each_language_its_text(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        """
title = "Complaints we fixed"
language = "en"
[company]
name = "Example Ltd"
address = "1 High Street"
[languages.en]
[languages.ru]
title = "Жалобы, которые мы исправили"
[languages.ru.company]
address = "ул. Ленина, 1"
[languages.ru.industries]
"online retail" = "интернет-магазин"
[languages.da]
description = "Rigtige klager."
""",
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert settings.languages == ("en", "ru", "da")
    assert settings.title_in("ru") == "Жалобы, которые мы исправили"
    assert settings.title_in("da") == "Complaints we fixed"
    assert settings.description_in("da") == "Rigtige klager."
    assert settings.company_in("ru").address == "ул. Ленина, 1"
    assert settings.company_in("ru").name == "Example Ltd"
    assert settings.company_in("en").address == "1 High Street"
    assert settings.canonical("industries", "интернет-магазин") == "online retail"
    assert settings.shown("industries", "интернет-магазин", "en") == "online retail"
    assert settings.shown("industries", "online retail", "ru") == "интернет-магазин"
    assert settings.shown("industries", "hotels", "ru") == "hotels"


def test_language_tables_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        """
[languages.en]
titel = "x"
[languages.ru.company]
adress = "y"
[languages.ru.industries]
retail = 3
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert f"{path}: languages.en.titel: unknown setting (did you mean 'title'?)" in message
    assert f"{path}: languages.ru.company.adress: unknown setting (did you mean 'address'?)" in message
    assert f"{path}: languages.ru.industries.retail: got 3, expected text in quotes" in message
