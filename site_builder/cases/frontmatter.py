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
