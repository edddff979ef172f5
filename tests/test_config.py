"""site.toml: defaults without a file, every problem at once, exit code 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from site_builder.problems import ConfigError
from site_builder.settings.config import Settings, load_settings


def test_no_file_means_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "site.toml") == Settings()


def test_values_are_read_and_base_url_gets_a_slash(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text('base_url = "https://x.example/cases"\nper_page = 5\n[company]\nname = "Acme"\n')
    settings = load_settings(path)
    assert settings.base_url == "https://x.example/cases/"
    assert settings.per_page == 5 and settings.company.name == "Acme"
    assert settings.theme_override == tmp_path / "theme-overrides"


def test_all_problems_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text('titel = "x"\nper_page = "ten"\nbase_url = "example.com"\nlanguage = "zz"\n[company]\nnmae = 1\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    text = str(info.value)
    assert "titel: unknown setting (did you mean 'title'?)" in text
    assert "per_page: got 'ten', expected a whole number" in text
    assert "base_url: 'example.com' is not an absolute http(s) URL" in text
    assert "'zz' is not a language code" in text
    assert "company.nmae: unknown setting (did you mean 'name'?)" in text


def test_new_language_with_strings_and_headings(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    (project / "site.toml").write_text(
        'languages = ["en", "de"]\n[strings.de]\nresolved_in = "Gelöst in {duration}"\n'
        '[sections.de]\nproblem = ["Problem"]\ncause = ["Ursache"]\nfix = ["Lösung"]\nthanks = ["Danke"]\n',
        encoding="utf-8",
    )
    write_case(
        "de.md",
        '---\ntitle: "Paket zu spät"\ndate: 2026-03-05\nreceived: 2026-03-01\nresolved: 2026-03-03\nlanguage: de\n---\n'
        "## Problem\n\nZu spät.\n\n## Ursache\n\nStau.\n\n## Lösung\n\nNeu.\n\n## Danke\n\nDanke!\n",
    )
    assert cli("build").exit_code == 0
    html = (project / "dist/site/de/cases/de/index.html").read_text(encoding="utf-8")  # German lives under /de/
    assert '<html lang="de">' in html and "Gelöst in 2 Tage" in html


def test_config_error_exits_2(project: Path, cli: Callable[..., Result]) -> None:
    (project / "site.toml").write_text("per_page = [\n", encoding="utf-8")
    result = cli("build")
    assert result.exit_code == 2
    assert "site.toml: not valid TOML" in result.stderr


def test_bad_base_url_option_exits_2(project: Path, cli: Callable[..., Result]) -> None:
    result = cli("build", "--base-url", "ftp://nope")
    assert result.exit_code == 2
    assert "--base-url" in result.stderr
