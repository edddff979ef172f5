"""One problem type that points at a file, a line and a field, and the error that carries many."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one input file, said in plain words."""

    path: Path
    line: int | None
    field: str
    message: str
    expected: str = ""
    severity: str = "error"  # or "warning": published anyway, unless --strict

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        label = "warning: " if self.severity == "warning" else ""
        text = f"{where}: {label}{self.field}: {self.message}"
        return f"{text} ({self.expected})" if self.expected else text

    @property
    def is_error(self) -> bool:
        """True for errors, False for warnings."""
        return self.severity == "error"

    def sort_key(self) -> tuple[str, int]:
        """Order problems by file, then line."""
        return (str(self.path), self.line or 0)


class InputError(Exception):
    """Raised with every problem found, so the user can fix them all in one go."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=Problem.sort_key))
        super().__init__("\n".join(str(p) for p in self.problems))


class ThemeError(Exception):
    """A template of the theme (or of the user's overrides) failed to render."""


class LayoutError(Exception):
    """A PDF could not be laid out: WeasyPrint failed on it, or a worker laying it out stopped."""


class SearchError(Exception):
    """Pagefind could not make the search index (or is not installed)."""


class ConfigError(Exception):
    """The settings file or command-line options are wrong; exit code 2."""
