"""Split a case file into front matter (with the line of every field) and its body: YAML between
`---` lines, or TOML between `+++` lines as Hugo writes it. python-frontmatter finds and splits the
block through handlers of ours, which keep our YAML rules and know each field's line."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import BaseHandler

from site_builder.problems import Problem

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
_TAB_INDENT = re.compile(r"^[ ]*\t", re.MULTILINE)
_STR = "tag:yaml.org,2002:str"
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


@dataclass(frozen=True, slots=True)
class Parsed:
    """Front matter values, the line each field starts on, the body below it, and warnings."""

    fields: dict[str, Any]
    lines: dict[str, int]
    body: str
    body_line: int
    warnings: tuple[Problem, ...] = field(default=())


class _Refused(Exception):
    """A front matter that is read no further: the problem says why and where."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Handler(BaseHandler):
    """A front matter format: how it is fenced, and how it is read with the line of every field."""

    START: re.Pattern[str]

    def detect(self, text: str) -> bool:
        """True when the file's first line is this format's fence."""
        return self.START.match(text) is not None

    def read(self, path: Path, source: str) -> Parsed:
        """Fields and their lines from the text between the fences (its first line is file line 2)."""
        raise NotImplementedError

    def load(self, fm: str, **kwargs: object) -> Any:
        """python-frontmatter's entry point: the fields alone."""
        return self.read(Path("<text>"), fm.removeprefix("\n")).fields

    def export(self, metadata: dict[str, object], **kwargs: object) -> str:
        """Case files are written by people (and `new`), never re-exported."""
        raise NotImplementedError


class YAMLCase(_Handler):
    """YAML between `---` and `---` (or `...`), read by our loader."""

    FM_BOUNDARY = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
    START = re.compile(r"---[ \t]*\r?$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "---"

    def read(self, path: Path, source: str) -> Parsed:
        """Fields with their lines; hostile YAML and YAML errors raise _Refused."""
        refused = _refused(path, source)
        if refused is not None:
            raise _Refused(refused)
        loader = _Loader(source)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        except yaml.MarkedYAMLError as exc:
            raise _Refused(_yaml_problem(path, source, exc)) from None
        except (ValueError, TypeError, KeyError, OverflowError):  # a value YAML cannot make: a 5,000-digit number
            raise _Refused(_long_number(path, source)) from None
        except RecursionError:
            raise _Refused(_too_deep(path)) from None
        finally:
            loader.dispose()
        if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
            raise _Refused(
                Problem(path, 2, "front matter", "expected fields like 'title: ...'", "one 'name: value' per line")
            )
        lines: dict[str, int] = {}
        warnings: list[Problem] = []
        text_lines = source.splitlines()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 2
            if key in lines:
                raise _Refused(
                    Problem(path, line, key, f"appears twice (first on line {lines[key]})", "each field once")
                )
            lines[key] = line
            cut = _cut_by_comment(key_node, value_node, text_lines)
            if cut is not None:
                warnings.append(
                    Problem(
                        path,
                        line,
                        key,
                        f"the text after '#' is left out (YAML reads '{cut}' as a comment)",
                        "put the whole value in quotes, like " + _quoted(key, text_lines[key_node.start_mark.line]),
                        severity="warning",
                    )
                )
        return Parsed({str(k): v for k, v in data.items()}, lines, "", 0, tuple(warnings))


class TOMLCase(_Handler):
    """TOML between `+++` lines, as Hugo's front matter is often written."""

    FM_BOUNDARY = re.compile(r"^\+\+\+[ \t]*\r?$", re.MULTILINE)
    START = re.compile(r"\+\+\+[ \t]*\r?$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"
    _KEY = re.compile(r"""^[ \t]*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))[ \t]*[.=]""")
    _TABLE = re.compile(r"^[ \t]*\[")
    _AT = re.compile(r"\(at line (\d+), column \d+\)|\(at end of document\)")

    def read(self, path: Path, source: str) -> Parsed:
        """Fields with their lines; TOML's dates and times become text, checked like YAML's."""
        bad = _CONTROL.search(source)
        if bad:
            raise _Refused(_control(path, source, bad))
        try:
            data = tomllib.loads(source)
        except tomllib.TOMLDecodeError as exc:
            raise _Refused(self._problem(path, source, str(exc))) from None
        except ValueError:  # an integer of thousands of digits
            raise _Refused(_long_number(path, source)) from None
        except RecursionError:
            raise _Refused(_too_deep(path)) from None
        lines: dict[str, int] = {}
        for number, text in enumerate(source.splitlines(), start=2):
            if self._TABLE.match(text):
                break  # keys below a [table] header belong to the table
            match = self._KEY.match(text)
            if match:
                lines.setdefault(next(g for g in match.groups() if g is not None), number)
        return Parsed({k: _as_text(v) for k, v in data.items()}, lines, "", 0)

    def _problem(self, path: Path, source: str, message: str) -> Problem:
        at = self._AT.search(message)
        what = self._AT.sub("", message).strip().rstrip(".")
        line = int(at.group(1)) + 1 if at and at.group(1) else source.count("\n") + 2
        return Problem(
            path,
            line,
            "front matter",
            f"not valid TOML: {what[0].lower() + what[1:] if what else 'cannot be read'}",
            "'name = value' lines; text in quotes, like title = \"Late parcel\"",
        )


_HANDLERS = (YAMLCase(), TOMLCase())


def _as_text(value: Any) -> Any:
    """TOML's dates and times as the text YAML keeps them as, so both are checked alike."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    return value


def _cut_by_comment(key: yaml.Node, value: yaml.Node, lines: list[str]) -> str | None:
    """The comment that ends a text value on its line (`title: We are #1 at fixing` is 'We are'),
    or None. Comments after true/false, numbers and lists are what comments are for."""
    if not isinstance(value, yaml.ScalarNode) or value.style:  # plain: None from PyYAML, "" from libyaml
        return None
    if value.tag == _STR and not _DATE_LIKE.match(value.value):  # a comment after a date is a comment
        line, column = value.end_mark.line, value.end_mark.column
    elif value.value == "":  # `title: #1 at fixing`, but not `received:  # fill in later`
        line, column = key.end_mark.line, key.end_mark.column + 1
        if line < len(lines) and not re.match(r"\s*#\S", lines[line][column:]):
            return None
    else:
        return None
    if line >= len(lines):
        return None
    rest = lines[line][column:].strip()
    return rest if rest.startswith("#") else None


def _quoted(key: str, line: str) -> str:
    """The line as it should be written: the value after the key in double quotes."""
    value = line.split(":", 1)[1].strip() if ":" in line else ""
    return f'{key}: "{value}"' if '"' not in value else f"{key}: '{value}'"


def _control(path: Path, source: str, bad: re.Match[str]) -> Problem:
    return Problem(
        path,
        source.count("\n", 0, bad.start()) + 2,
        "front matter",
        f"contains the control character U+{ord(bad.group()):04X}",
        "plain text: remove the invisible character (it often comes from copying out of another program)",
    )


def _long_number(path: Path, source: str) -> Problem:
    long = next((i for i, text in enumerate(source.splitlines(), start=2) if _LONG_NUMBER.search(text)), 2)
    return Problem(path, long, "front matter", "holds a number too long to read", "text in quotes")


def _too_deep(path: Path) -> Problem:
    return Problem(path, 2, "front matter", "is nested too deeply to read", "plain 'name: value' fields and lists")


def _yaml_problem(path: Path, source: str, exc: yaml.MarkedYAMLError) -> Problem:
    """A YAML error in plain words, at its line; a tab used to indent is named as a tab."""
    tab = _TAB_INDENT.search(source)
    if tab is not None:
        return Problem(
            path,
            source.count("\n", 0, tab.start()) + 2,
            "front matter",
            "a line is indented with a tab, which YAML does not allow",
            "indent with spaces (two spaces are usual)",
        )
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


def _refused(path: Path, source: str) -> Problem | None:
    """A problem for YAML features a case has no use for and an attacker does: anchors and aliases
    (a few hundred bytes of aliases expand to gigabytes), explicit tags (`!!bool 1`,
    `!!python/...`), control characters."""
    bad = _CONTROL.search(source)  # one search of the whole text: every case file is read through here
    if bad:
        return _control(path, source, bad)
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
        return None  # reported with its line when the front matter is read
    return None


def parse(path: Path, text: str) -> Parsed | Problem:
    """Parse `---` YAML `---` (or `+++` TOML `+++`) then Markdown; a Problem says what is wrong and where."""
    handler = frontmatter.detect_format(text, _HANDLERS)
    if not isinstance(handler, _Handler):
        return Problem(
            path,
            1,
            "front matter",
            "the file does not start with front matter",
            "a first line '---', then fields like 'title: ...', then a line '---'",
        )
    try:
        source, body = handler.split(text)
    except ValueError:  # one fence only
        return Problem(
            path,
            1,
            "front matter",
            "the front matter is never closed",
            f"a line '{handler.END_DELIMITER}' after the last field",
        )
    source = source.removeprefix("\n")  # the rest of the opening fence's line
    body_line = source.count("\n") + 3
    try:  # without the closing fence's line break, so "end of stream" is on the last field's line
        parsed = handler.read(path, source.removesuffix("\n"))
    except _Refused as refused:
        return refused.problem
    return Parsed(parsed.fields, parsed.lines, body.removeprefix("\n"), body_line, parsed.warnings)
