"""One problem type that points at a file, a line and a field, the errors that carry problems, and
the formats problems are printed in: text for people, GitHub annotations, JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from site_builder.words import counted


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
        text = f"{where}: {label}{self.field}: {self.message}" if self.field else f"{where}: {label}{self.message}"
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


FORMATS = ("text", "github", "json")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def as_github(problem: Problem) -> str:
    """A workflow command, so the problem shows on the line of the pull request."""
    kind = "error" if problem.is_error else "warning"
    props = [f"file={_escape_property(problem.path.as_posix())}"]
    if problem.line:
        props.append(f"line={problem.line}")
    if problem.field:
        props.append(f"title={_escape_property(problem.field)}")
    message = f"{problem.message} ({problem.expected})" if problem.expected else problem.message
    return f"::{kind} {','.join(props)}::{_escape_data(message)}"


def as_json(problems: Sequence[Problem]) -> str:
    """A stable list of {file, line, field, message, expected, severity}."""
    rows = [
        {
            "file": p.path.as_posix(),
            "line": p.line,
            "field": p.field,
            "message": p.message,
            "expected": p.expected,
            "severity": p.severity,
        }
        for p in problems
    ]
    return json.dumps(rows, ensure_ascii=False, indent=2)


def summary(problems: Sequence[Problem]) -> str:
    """'2 errors and 1 warning in 2 files'."""
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    files = len({p.path for p in problems})
    parts = []
    if errors:
        parts.append(counted(errors, "error", "errors"))
    if warnings:
        parts.append(counted(warnings, "warning", "warnings"))
    return f"{' and '.join(parts)} in {counted(files, 'file', 'files')}"


class OutputError(Exception):
    """The output folder cannot be written as asked (not ours, a link, overlapping the cases)."""
