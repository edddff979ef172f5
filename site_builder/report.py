"""Problems as text for people, GitHub Actions annotations for pull requests, or JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Sequence

from site_builder.errors import Problem

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
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return f"{' and '.join(parts)} in {files} file{'s' if files != 1 else ''}"
