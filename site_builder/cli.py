"""The command line: parse options, call the pipeline, print what happened. No logic lives here."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from site_builder import __version__, pipeline
from site_builder.cases import check_cases
from site_builder.config import Settings, load_settings
from site_builder.errors import ConfigError, InputError, Problem, ThemeError
from site_builder.scaffold import create_case

F = TypeVar("F", bound=Callable[..., Any])
PROGRESS_FROM = 200  # cases; fewer load in well under a second


def _common(func: F) -> F:
    func = click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path("site.toml"),
        show_default=True,
        help="Site settings file (optional).",
    )(func)
    func = click.option(
        "--cases",
        "cases_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("cases"),
        show_default=True,
        help="Folder of case files.",
    )(func)
    return func


def _settings(config_path: Path, base_url: str | None = None) -> Settings:
    try:
        settings = load_settings(config_path)
        return settings.with_base_url(base_url) if base_url else settings
    except ConfigError as exc:
        click.secho(f"Configuration error:\n{exc}", fg="red", err=True)
        sys.exit(2)


def _report_problems(problems: Iterable[Problem], action: str) -> None:
    problems = list(problems)
    for problem in problems:
        click.echo(str(problem), err=True)
    files = len({p.path for p in problems})
    noun = "problem" if len(problems) == 1 else "problems"
    click.secho(
        f"\n{len(problems)} {noun} in {files} file{'s' if files != 1 else ''}; {action}",
        fg="red",
        err=True,
    )


def _progress(paths: list[Path]) -> Iterator[Path]:
    if len(paths) < PROGRESS_FROM or not sys.stderr.isatty():
        yield from paths
        return
    with click.progressbar(paths, label="Reading cases", file=sys.stderr) as bar:
        yield from bar


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="site-builder")
def main() -> None:
    """Turn resolved customer complaints (cases/*.md) into a website, a digest and leaflets."""


@main.command()
@_common
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="Output folder; the site goes to OUT/site/.",
)
@click.option("--base-url", help="Public URL of the site (overrides site.toml).")
@click.option("--drafts", is_flag=True, help="Also publish cases marked draft: true.")
@click.option(
    "--only",
    type=click.Choice(list(pipeline.RENDERERS)),
    multiple=True,
    help="Build only this output (repeatable). Default: all.",
)
def build(
    cases_dir: Path,
    config_path: Path,
    out: Path,
    base_url: str | None,
    drafts: bool,
    only: tuple[str, ...],
) -> None:
    """Check every case, then build the outputs into OUT, replacing the old ones only on success."""
    settings = _settings(config_path, base_url)
    try:
        report = pipeline.build(
            cases_dir, out, settings, drafts=drafts, only=only, progress=_progress
        )
    except InputError as exc:
        _report_problems(exc.problems, "nothing was built, the previous output is unchanged.")
        sys.exit(1)
    except ThemeError as exc:
        click.secho(
            f"Theme error: {exc}\nNothing was built, the previous output is unchanged.",
            fg="red",
            err=True,
        )
        sys.exit(1)
    drafts_note = f" ({report.drafts_skipped} draft(s) left out)" if report.drafts_skipped else ""
    click.echo(f"Built {report.cases} case(s){drafts_note} in {report.seconds:.2f} s:")
    for output in report.outputs:
        click.echo(f"  {output.path}/  {output.files} files, {output.bytes / 1024:.0f} KiB")


@main.command()
@_common
def check(cases_dir: Path, config_path: Path) -> None:
    """Check every case and list all problems at once (exit 1 if any)."""
    settings = _settings(config_path)
    cases, problems = check_cases(cases_dir, settings, progress=_progress)
    if problems:
        _report_problems(problems, "fix them and run check again.")
        sys.exit(1)
    click.echo(f"All {len(cases)} case(s) in {cases_dir} are valid.")


@main.command()
@_common
@click.argument("title")
@click.option("--language", help="Language of the case (default: site.toml's language).")
def new(cases_dir: Path, config_path: Path, title: str, language: str | None) -> None:
    """Write a new case file with the four headings ready to fill in."""
    settings = _settings(config_path)
    language = language or settings.language
    if language not in settings.languages:
        raise click.BadParameter(
            f"{language!r} is not one of {', '.join(settings.languages)}", param_hint="--language"
        )
    try:
        path = create_case(cases_dir, title, language, dt.date.today(), settings)
    except (FileExistsError, ValueError) as exc:
        message = (
            f"{exc.filename} already exists; nothing was changed"
            if isinstance(exc, FileExistsError) and exc.filename
            else str(exc)
        )
        click.secho(f"Error: {message}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"Created {path}. Fill it in, then run: site-builder check")
