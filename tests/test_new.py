"""`site-builder new` writes a case that passes `check`, and never overwrites one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result


def test_new_case_is_valid_and_localized(project: Path, cli: Callable[..., Result]) -> None:
    result = cli("new", "Курьер опоздал: заказ пришёл через неделю", "--language", "ru")
    assert result.exit_code == 0, result.output
    path = project / "cases/kurer-opozdal-zakaz-prishel-cherez-nedeliu.md"
    text = path.read_text(encoding="utf-8")
    assert 'title: "Курьер опоздал: заказ пришёл через неделю"' in text
    assert "## Проблема" in text and "## Спасибо" in text and "language: ru" in text
    assert "draft: true" in text
    assert cli("check").exit_code == 0


def test_new_refuses_to_overwrite(project: Path, cli: Callable[..., Result]) -> None:
    assert cli("new", "Late parcel").exit_code == 0
    path = project / "cases/late-parcel.md"
    path.write_text("edited by hand", encoding="utf-8")
    result = cli("new", "Late parcel")
    assert result.exit_code == 1
    assert (
        "a case already has the name late-parcel (cases/late-parcel.md); pick another title; nothing was created"
        in result.stderr
    )
    assert path.read_text(encoding="utf-8") == "edited by hand"


def test_new_refuses_a_slug_used_in_a_subfolder(project: Path, cli: Callable[..., Result]) -> None:
    (project / "cases/en").mkdir()
    (project / "cases/en/late-parcel.md").write_text("x", encoding="utf-8")
    result = cli("new", "Late parcel")
    assert result.exit_code == 1
    assert not (project / "cases/late-parcel.md").exists()


def test_new_rejects_unknown_language(project: Path, cli: Callable[..., Result]) -> None:
    result = cli("new", "Title", "--language", "xx")
    assert result.exit_code == 2
    assert "--language" in result.output
