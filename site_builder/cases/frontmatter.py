"""Split a case file into YAML front matter (with the line of every field) and its body."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from site_builder.problems import Problem

_FENCE = re.compile(r"^(---|\.\.\.)\s*$")


# libyaml's parser when PyYAML was built with it (it is, in the wheels): several times faster.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """YAML without its surprises: dates stay text (we check them), only true/false are booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith((":timestamp", ":bool"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


# Characters YAML gives a meaning beyond plain text: only a front matter holding one is read event by
# event for anchors, aliases and explicit tags (most hold none, and a build reads thousands).
_SPECIAL = re.compile(r"[&*!]")
_LONG_NUMBER = re.compile(r"\d{1000,}")
# C0 controls but tab, newline and carriage return; DEL and the C1 controls: never in an honest case.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _refused(path: Path, source: str) -> Problem | None:
    """A problem for YAML features a case has no use for and an attacker does: anchors and aliases
    (a few hundred bytes of aliases expand to gigabytes), explicit tags (`!!bool 1`,
    `!!python/...`), control characters."""
    bad = _CONTROL.search(source)  # one search of the whole text: every case file is read through here
    if bad:
        return Problem(
            path,
            source.count("\n", 0, bad.start()) + 2,
            "front matter",
            f"contains the control character U+{ord(bad.group()):04X}",
            "plain text: remove the invisible character (it often comes from copying out of another program)",
        )
    if not _SPECIAL.search(source):
        return None
    try:
        for event in yaml.parse(source, Loader=_Base):
            line = event.start_mark.line + 2 if event.start_mark else 2
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return Problem(
                    path,
                    line,
                    "front matter",
                    "uses a YAML anchor or alias (& or *), which case files do not need",
                    "write the value out, or put it in quotes if it starts with & or *",
                )
            tag = getattr(event, "tag", None)
            implicit = getattr(event, "implicit", True)
            explicit = tag is not None and not (all(implicit) if isinstance(implicit, tuple) else implicit)
            if explicit:
                return Problem(
                    path,
                    line,
                    "front matter",
                    f"uses a YAML tag ({tag}), which case files do not need",
                    "a plain value: true or false, a date, or text in quotes if it starts with !",
                )
    except yaml.YAMLError:
        return None  # reported with its line when the front matter is read below
    return None


@dataclass(frozen=True, slots=True)
class Parsed:
    """Front matter values, the line each field starts on, and the body below it."""

    fields: dict[str, Any]
    lines: dict[str, int]
    body: str
    body_line: int


def parse(path: Path, text: str) -> Parsed | Problem:
    """Parse `---` YAML `---` then Markdown; a Problem says what is wrong and where."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("---") or lines[0].strip() != "---":
        return Problem(
            path,
            1,
            "front matter",
            "the file does not start with front matter",
            "a first line '---', then fields like 'title: ...', then a line '---'",
        )
    end = next((i for i in range(1, len(lines)) if _FENCE.match(lines[i])), None)
    if end is None:
        return Problem(
            path,
            1,
            "front matter",
            "the front matter is never closed",
            "a line '---' after the last field",
        )
    source = "\n".join(lines[1:end])
    refused = _refused(path, source)
    if refused is not None:
        return refused
    loader = _Loader(source)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark else 1
        what = exc.problem or exc.context or "cannot be read"
        if exc.context and exc.context_mark and exc.problem:
            # "while scanning a quoted scalar" matters most when it began lines earlier.
            started = exc.context_mark.line + 2
            what = f"{exc.problem}, {exc.context.removeprefix('while ')} that starts on line {started}"
        return Problem(
            path,
            line,
            "front matter",
            f"not valid YAML: {what}",
            "'name: value' lines; quote values that contain ': ' or start with a symbol",
        )
    except (ValueError, TypeError, KeyError, OverflowError):  # a value YAML cannot make: a 5,000-digit number
        long = next((i for i, text in enumerate(source.splitlines(), start=2) if _LONG_NUMBER.search(text)), 2)
        return Problem(path, long, "front matter", "holds a number too long to read", "text in quotes")
    finally:
        loader.dispose()
    if not isinstance(data, dict) or node is None:
        return Problem(
            path,
            2,
            "front matter",
            "expected fields like 'title: ...'",
            "one 'name: value' per line",
        )
    field_lines: dict[str, int] = {}
    for key_node, _ in node.value:
        key = str(key_node.value)
        line = key_node.start_mark.line + 2
        if key in field_lines:
            return Problem(
                path,
                line,
                key,
                f"appears twice (first on line {field_lines[key]})",
                "each field once",
            )
        field_lines[key] = line
    body = "\n".join(lines[end + 1 :])
    return Parsed({str(k): v for k, v in data.items()}, field_lines, body, end + 2)
