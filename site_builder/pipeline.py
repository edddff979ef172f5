"""load -> render -> write, for every output asked for; returns what was done."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from site_builder.cases import Case, check_cases, published
from site_builder.config import Settings
from site_builder.errors import InputError, ThemeError
from site_builder.output import Artifact, OutputTree, write_outputs
from site_builder.render.site import render_site

Renderer = Callable[[tuple[Case, ...], Settings], list[Artifact]]

# Each output folder and the renderer that fills it, in build order.
RENDERERS: dict[str, Renderer] = {"site": render_site}


@dataclass(frozen=True, slots=True)
class OutputReport:
    """What one output folder received."""

    name: str
    path: Path
    files: int
    bytes: int


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did, for the command line to print."""

    cases: int
    drafts_skipped: int
    outputs: tuple[OutputReport, ...]
    seconds: float


def _template_line(exc: BaseException) -> str | None:
    """`file:line` of the innermost template frame: Jinja puts template lines in the traceback."""
    where = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.endswith(".py") and not filename.startswith("<"):
            where = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def build(
    cases_dir: Path,
    out: Path,
    settings: Settings,
    *,
    drafts: bool = False,
    only: Iterable[str] = (),
    progress: Callable[[list[Path]], Iterable[Path]] = iter,
) -> BuildReport:
    """Validate every case, render the chosen outputs and swap them into `out` all at once."""
    started = time.perf_counter()
    names = list(dict.fromkeys(only)) or list(RENDERERS)
    cases, problems = check_cases(cases_dir, settings, progress=progress)
    if problems:
        raise InputError(problems)
    chosen = published(cases, drafts)
    trees = []
    for name in names:
        tree = OutputTree(name)
        try:
            tree.extend(RENDERERS[name](chosen, settings))
        except jinja2.TemplateSyntaxError as exc:
            raise ThemeError(f"{exc.filename}:{exc.lineno}: {exc.message}") from exc
        except jinja2.TemplateError as exc:
            raise ThemeError(f"{_template_line(exc) or name + ' template'}: {exc.message}") from exc
        trees.append(tree)
    paths = write_outputs(out, trees)
    reports = tuple(
        OutputReport(tree.name, path, len(tree.files), tree.size)
        for tree, path in zip(trees, paths, strict=True)
    )
    return BuildReport(
        len(chosen), len(cases) - len(chosen), reports, time.perf_counter() - started
    )
