"""Hostile front matter is refused quickly with the file, the line and what to do: never a crash,
never a hang, never gigabytes of memory."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from site_builder.cli import main
from tests.conftest import case_text

ALIAS = "uses a YAML anchor or alias (& or *), which case files do not need"
# Nine levels of nine: 387,420,489 strings once expanded (a few gigabytes), from under 400 bytes.
_ITEMS = ['"x"', *(f"*{prev}" for prev in "abcdefgh")]
BOMB = "".join(f"{name}: &{name} [{', '.join([item] * 9)}]\n" for name, item in zip("abcdefghi", _ITEMS, strict=True))


def _front(extra: str) -> str:
    """A valid case whose front matter starts with `extra`."""
    return case_text(title="T").replace("---\n", "---\n" + extra, 1)


@pytest.mark.parametrize(
    ("front", "line", "message"),
    [
        (BOMB, 2, ALIAS),
        ('summary: &s "Hello"\ncompensation: *s\n', 2, ALIAS),
        ("consent: !!bool 1\n", 2, "uses a YAML tag (tag:yaml.org,2002:bool), which case files do not need"),
        ('industry: !!python/object/apply:os.system ["true"]\n', 2, "uses a YAML tag (tag:yaml.org,2002:python"),
        ('summary: "a bell \x07"\n', 2, "contains the control character U+0007"),
        ('summary: "a nul \x00"\n', 2, "contains the control character U+0000"),
        ('summary: "x"\ncompensation: "a DEL \x7f"\n', 3, "contains the control character U+007F"),
        (f"customer: {'9' * 5000}\n", 2, "holds a number too long to read (text in quotes)"),
    ],
)
def test_hostile_front_matter_is_a_problem_with_its_line(
    project: Path, write_case: Callable[..., Path], front: str, line: int, message: str
) -> None:
    write_case("bad.md", _front(front))
    started = time.monotonic()
    result = CliRunner().invoke(main, ["check"])
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert f"cases/bad.md:{line}: front matter: {message}" in result.output, result.output
    assert "Traceback" not in result.output and "Error" not in result.output.split("\n")[0]
    # A build refuses it the same way, and writes nothing.
    built = CliRunner().invoke(main, ["build", "--only", "site", "--no-search"])
    assert built.exit_code == 1 and f"cases/bad.md:{line}: front matter" in built.output
    assert not (project / "dist/site").exists()


def test_honest_values_with_the_same_characters_are_fine(project: Path, write_case: Callable[..., Path]) -> None:
    front = 'summary: "Fees & charges: *all* refunded!"\ncustomer: "Ann & Bob!"\n'
    write_case("fine.md", _front(front))
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
