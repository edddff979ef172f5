"""The command line: parse options, call the pipeline, print what happened. No logic lives here."""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import errno
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from site_builder import __version__
from site_builder.build.outputs import NAMES
from site_builder.build.request import BuildRequest
from site_builder.digest.period import Period
from site_builder.leaflets.options import BookletFilter, LeafletOptions
from site_builder.leaflets.workers import LayoutWorkers, layout_workers
from site_builder.problems import (
    FORMATS,
    ConfigError,
    InputError,
    LayoutError,
    OutputError,
    Problem,
    SearchError,
    ThemeError,
    as_github,
    as_json,
    summary,
)
from site_builder.runtime import collect_for_a_build, exit_quickly
from site_builder.settings.config import PAPER_SIZES, SECURITY, Settings, load_settings
from site_builder.words import counted

if TYPE_CHECKING:
    from site_builder.build.pipeline import BuildReport
    from site_builder.digest.send import SendReport
    from site_builder.digest.sent import Sent
    from site_builder.digest.transport import Transport

# Mail, recipients, the preview server and the link checker are imported by their own commands:
# together they cost a build ~60 ms of start-up it never uses.

F = TypeVar("F", bound=Callable[..., Any])
PROGRESS_FROM = 200  # items; fewer finish in well under a second


if TYPE_CHECKING:
    _DayType = click.ParamType[dt.datetime, object]
else:
    _DayType = click.ParamType  # generic only from click 8.5; the package accepts 8.1


class _Day(_DayType):
    """A date written YYYY-MM-DD (a machine's timestamp, 2026-03-31T09:30:00Z, gives its date)."""

    name = "YYYY-MM-DD"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        """The date at midnight; a mistake is named in plain words."""
        if isinstance(value, dt.datetime):
            return value
        text = str(value).strip()
        found = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})([T ].+)?", text)
        if found is None:
            self.fail(f"{text!r} is not a date; write it as YYYY-MM-DD, like 2026-03-31", param, ctx)
        year, month, day = (int(part) for part in found.groups()[:3])
        if not 1 <= month <= 12:
            self.fail(f"{text} is not a real date: there is no month {month} (YYYY-MM-DD)", param, ctx)
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            name = calendar.month_name[month]
            self.fail(f"{text} is not a real date: {name} {year} has {last} days (YYYY-MM-DD)", param, ctx)
        if found.group(4):
            try:
                dt.datetime.fromisoformat(text)
            except ValueError:
                self.fail(f"{text!r} is not a date and time; write YYYY-MM-DD, like 2026-03-31", param, ctx)
        return dt.datetime(year, month, day)


DATE = _Day()


_config = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("site.toml"),
    show_default=True,
    help="Site settings file (optional).",
)


def _common(func: F) -> F:
    func = _config(func)
    func = click.option(
        "--cases",
        "cases_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("cases"),
        show_default=True,
        help="Folder of case files.",
    )(func)
    return func


def _period_options(func: F) -> F:
    func = click.option("--until", type=DATE, help="Digest: last publication date to include [today].")(func)
    func = click.option("--since", type=DATE, help="Digest: first date to include [day after the last digest sent].")(
        func
    )
    return func


# Options several commands share.
_out = click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="Output folder: OUT/site/, OUT/digest/, OUT/leaflets/.",
)
_ledger = click.option("--ledger", type=click.Path(path_type=Path, dir_okay=False), help="Send ledger (SQLite).")
_base_url = click.option("--base-url", help="Public URL of the site (overrides site.toml).")
_print_option = click.option(
    "--print/--screen",
    "print_shop",
    default=None,
    help="Leaflets for a print shop (PDF/X-4, CMYK, bleed, marks) or a screen (PDF/UA-1) [site.toml's leaflet.print].",
)


def _fail(message: str, code: int) -> NoReturn:
    click.secho(message, fg="red", err=True)
    sys.exit(code)


# The machine's faults, not ours: said in one line with what to do. Any other OSError is left to
# show its traceback, since that is more likely a bug of this tool than of the machine.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_UNNAMED = {*_NO_SPACE, errno.EROFS, errno.EIO}  # write() and close() name no file
_NAMED = {
    *_UNNAMED,
    errno.ENAMETOOLONG,
    errno.EACCES,
    errno.EPERM,
    errno.ELOOP,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.ENOENT,
    errno.EMLINK,
    errno.EMFILE,
    errno.ENFILE,
}


def _is_worlds(exc: OSError) -> bool:
    return exc.errno in _UNNAMED or (exc.errno in _NAMED and exc.filename is not None)


def _shown(name: str, folder: Path) -> str:
    """A file in the writer's staging folder (`OUT/.site-builder-output/staging-*/`) as its place in `folder`."""
    from site_builder.build.swap import AREA

    try:
        area, staging, *rest = Path(name).absolute().relative_to(folder.absolute()).parts
    except ValueError:
        return name
    return str(folder.joinpath(*rest)) if area == AREA and staging.startswith("staging-") else name


def _world_error(exc: OSError, folder: Path, again: str, unchanged: str) -> str:
    """One line for a write that failed: where, what happened in plain words, what to do."""
    where = _shown(os.fsdecode(exc.filename), folder) if exc.filename is not None else str(folder)
    # The advice names the output folder, unless the file is elsewhere (the cache, say).
    inside = Path(where) == folder or Path(where).is_relative_to(folder)
    place = folder if inside else Path(where).parent
    what = (exc.strerror or str(exc)).lower()
    if exc.errno in _NO_SPACE:
        todo = f"free some space on the disk holding {place}, then {again}"
    elif exc.errno == errno.EROFS:
        todo = f"{place} is on a read-only disk: make it writable or choose another folder, then {again}"
    elif exc.errno == errno.ENAMETOOLONG:
        todo = f"choose a shorter path than {place}, then {again}"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        todo = f"make {place} writable for you or choose another folder, then {again}"
    else:
        todo = f"fix that, then {again}"
    return f"Cannot write {where}: {what}; {todo}; {unchanged}."


@contextlib.contextmanager
def _writing(folder: Path, again: str, unchanged: str = "the previous output is unchanged") -> Iterator[None]:
    """Around a command's writing: the machine's faults (disk full, read-only, ...) become one line, exit 1."""
    try:
        yield
    except OSError as exc:
        if not _is_worlds(exc):
            raise
        _fail(_world_error(exc, folder, again, unchanged), 1)


def _settings(config_path: Path, base_url: str | None = None) -> Settings:
    try:
        settings = load_settings(config_path)
        return settings.with_base_url(base_url) if base_url else settings
    except ConfigError as exc:
        text = str(exc)
        # One problem, one line; several are listed under the heading, one per line.
        _fail(f"Configuration error:{chr(10) if chr(10) in text else ' '}{text}", 2)


def _period(
    settings: Settings,
    since: dt.datetime | None,
    until: dt.datetime | None,
    today: dt.date | None = None,
    ledger: bool = True,
    after: str = "",
    sent: Sent | None = None,
) -> Period:
    """The digest's dates. `ledger`: False when no digest is made, so the send ledger is not even opened;
    `sent`: the digests sent, when already read from it."""
    from site_builder.digest.ledger_read import LedgerError
    from site_builder.digest.period import digest_period

    end = until.date() if until else today or dt.date.today()
    try:
        if ledger:
            period = digest_period(settings, since and since.date(), until and until.date(), end, sent)
        else:
            period = Period(since.date() if since else end, end)
    except LedgerError as exc:
        _fail(f"Ledger error: {exc}{after}", 2)
    if period.since > period.until:
        raise click.BadParameter(f"{period.since} is after {period.until}", param_hint="'--since'")
    return period


def _report_problems(problems: Iterable[Problem], action: str, fmt: str = "text") -> None:
    """Each problem, then the summary and `action` ("{them}": "it" for one problem, else "them")."""
    problems = list(problems)
    if fmt == "json":
        click.echo(as_json(problems))
        return
    for problem in problems:
        click.echo(as_github(problem) if fmt == "github" else str(problem), err=fmt == "text")
    if problems and fmt == "text":
        failing = any(p.is_error for p in problems)
        action = action.replace("{them}", "it" if len(problems) == 1 else "them")
        click.secho(f"\n{summary(problems)}; {action}", fg="red" if failing else "yellow", err=True)


def _progress(paths: list[str]) -> Iterator[str]:
    if len(paths) < PROGRESS_FROM or not sys.stderr.isatty():
        yield from paths
        return
    with click.progressbar(paths, label="Reading cases", file=sys.stderr) as bar:
        yield from bar


_DIGEST_FILES = {
    ".html": "to look at in a browser",
    ".txt": "the plain-text part",
    ".eml": "the whole message as a recipient gets it (a mail program opens it)",
}


def _say_digest(result: BuildReport, language: str) -> None:
    """What `digest` made: the period, how many cases, and each file with what it is for."""
    period, output = result.period, result.outputs[0]
    if not output.files:
        click.echo(f"No digest: no published cases from {period.since} to {period.until}; nothing written.")
        return
    from site_builder.settings.i18n import language_name

    click.echo(
        f"Digest of {period.since} to {period.until} "
        f"({counted(result.whole, 'case', 'cases')} published in that time), "
        f"as a reader of {language_name(language, 'en')} gets it, in {output.path}/ ({result.seconds:.2f} s):"
    )
    stem = f"digest-{period.until}"
    for suffix, use in _DIGEST_FILES.items():
        if (output.path / f"{stem}{suffix}").is_file():
            click.echo(f"  {stem}{suffix}  {use}")
    click.echo("Nothing was sent: `site-builder send --recipients FILE` sends it, to each reader in their language.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="site-builder")
def main() -> None:
    """Turn resolved customer complaints (cases/*.md) into a website, a digest and leaflets."""
    collect_for_a_build()


def run() -> NoReturn:
    """The command line as a program (`site-builder`, `python -m site_builder`): main(), then a quick exit."""
    try:
        main()
        code: str | int | None = 0
    except SystemExit as done:
        code = done.code
    exit_quickly(code)


def _run_build(
    request: BuildRequest, workers: LayoutWorkers | None = None, verbose: bool = False, summary: Path | None = None
) -> None:
    from site_builder.build import pipeline
    from site_builder.build.summary import site_keys

    out, strict = request.out, request.strict
    state = request.settings.cache_dir
    before = site_keys(out, state) if summary and "site" in request.outputs else None

    def failed(message: str, code: int, problems: tuple[Problem, ...] = ()) -> NoReturn:
        if summary:
            # The problems say why nothing was built; any other failure is quoted whole.
            _summarize(summary, problems=problems, cases=None, failure="" if problems else message)
        if problems:
            _report_problems(problems, message)
            sys.exit(code)
        _fail(message, code)

    try:
        with _writing(out, "build again"):
            result = pipeline.build(
                request,
                progress=_progress,
                workers=workers,
                waiting=lambda pid: click.echo(
                    f"another build of this project is running (pid {pid or '?'}); waiting for it", err=True
                ),
            )
    except OutputError as exc:
        failed(f"Output error: {exc}", 2)
    except InputError as exc:
        why = " (--strict: warnings count as errors)" if strict else ""
        failed(f"nothing was built{why}, the previous output is unchanged.", 1, tuple(exc.problems))
    except ThemeError as exc:
        failed(f"Theme error: {exc}\nNothing was built, the previous output is unchanged.", 1)
    except LayoutError as exc:
        failed(f"Leaflet error: {exc}\nNothing was built, the previous output is unchanged.", 1)
    except SearchError as exc:
        failed(f"Search index error: {exc}\nNothing was built, the previous output is unchanged.", 1)
    if summary:
        after = site_keys(out, state) if "site" in request.outputs else None
        _summarize(
            summary,
            problems=result.warnings,
            cases=result.cases,
            held_back=result.held_back,
            before=before,
            after=after,
        )
    _report_problems(result.warnings, "built anyway; --strict would refuse.")
    if verbose:
        click.echo(f"Plan: {result.plan}")
    if request.outputs == ("digest",):
        _say_digest(result, request.settings.language)
        return
    waiting = counted(result.held_back, "draft or future-dated case", "drafts or future-dated cases")
    held = f" ({waiting} not published)" if result.held_back else ""
    click.echo(f"Built {counted(result.cases, 'case', 'cases')}{held} in {result.seconds:.2f} s:")
    for output in result.outputs:
        if output.files:
            click.echo(f"  {output.path}/  {counted(output.files, 'file', 'files')}, {output.changed} new or changed")
        else:
            p = result.period
            click.echo(f"  {output.name}: no published cases from {p.since} to {p.until}; nothing written")


def _summarize(path: Path, **report: Any) -> None:
    """Append the build's summary in Markdown to `path` (as GitHub's $GITHUB_STEP_SUMMARY is meant to be)."""
    from site_builder.build.summary import markdown

    try:
        with path.open("a", encoding="utf-8") as file:
            file.write(markdown(**report))
    except OSError as exc:
        _fail(f"{path}: cannot write the summary ({exc.strerror}); check --summary", 2)


@main.command()
@_common
@_period_options
@_out
@_base_url
@click.option("--drafts", is_flag=True, help="Also publish cases marked draft: true.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors: build nothing if there are any.")
@click.option("--search/--no-search", default=None, help="Build the search index [site.toml's search, on].")
@click.option("--cards/--no-cards", default=None, help="Draw each page's social card [site.toml's cards, on].")
@click.option("--now", type=DATE, help="Build as if today were this date (scheduled cases, digest period).")
@click.option("--jobs", type=click.IntRange(min=0), default=0, help="Processes for leaflets [all cores].")
@_print_option
@click.option(
    "--only",
    type=click.Choice(NAMES),
    multiple=True,
    help="Build only this output (repeatable). Default: all.",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Also say how it was built and why (in full, or from the last build)."
)
@click.option(
    "--archive-from-cache",
    is_flag=True,
    help="With no send ledger here (a pull request's build), the digests sent as the last build read them.",
)
@click.option(
    "--summary",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append in Markdown the check's result, the cases and the pages changed since the last build "
    "(a pull request's $GITHUB_STEP_SUMMARY).",
)
def build(
    cases_dir: Path,
    config_path: Path,
    since: dt.datetime | None,
    until: dt.datetime | None,
    out: Path,
    base_url: str | None,
    drafts: bool,
    strict: bool,
    search: bool | None,
    cards: bool | None,
    now: dt.datetime | None,
    jobs: int,
    only: tuple[str, ...],
    verbose: bool,
    print_shop: bool | None,
    archive_from_cache: bool,
    summary: Path | None,
) -> None:
    """Check every case, then build the outputs into OUT, replacing the old ones only on success."""
    # The leaflet workers first, before the rest of the tool is even imported: each spends half a
    # second importing WeasyPrint, and an edited case's leaflet should not wait for that.
    names = tuple(name for name in NAMES if name in only) or NAMES
    with layout_workers(jobs, "leaflets" in names) as workers:
        settings = _settings(config_path, base_url)
        if search is not None:
            settings = replace(settings, search=search)
        if cards is not None:
            settings = replace(settings, cards=cards)
        today = now.date() if now else None
        print_shop = settings.leaflet.print if print_shop is None else print_shop
        leaflet = LeafletOptions(
            settings.leaflet.size, settings.leaflet.print_marks, print_shop, jobs, settings.cache_dir
        )
        wanted = "site" in names or ("digest" in names and since is None)
        sent = _sent(settings, archive_from_cache) if wanted else None
        period = _period(settings, since, until, today, ledger="digest" in names, sent=sent)
        request = BuildRequest(
            cases_dir,
            out,
            settings,
            period,
            today or dt.date.today(),
            names,
            leaflet,
            drafts=drafts,
            strict=strict,
            sent=sent.periods if sent and "site" in names else (),
        )
        _run_build(request, workers, verbose, summary)
    if print_shop and "leaflets" in names:
        _preflight(out / "leaflets")


def _preflight(folder: Path) -> None:
    """What a print shop would send back about the print files just built, as warnings."""
    from site_builder.leaflets.preflight import preflight

    problems = [replace(problem, severity="warning") for problem in preflight(folder, print_shop=True)]
    _report_problems(problems, "the print files were written; fix {them} before sending them to print.")


def _sent(settings: Settings, cached_if_missing: bool = False) -> Sent:
    """The digests sent, for the site's archive and the digest's first day; a ledger that cannot be
    read is a warning, never a failed build (see digest/sent.py)."""
    from site_builder.digest.sent import sent_digests

    sent = sent_digests(settings, cached_if_missing)
    if sent.warning:
        click.secho(f"warning: {sent.warning}", fg="yellow", err=True)
    return sent


@main.command()
@_common
@_period_options
@_out
@_base_url
def digest(
    cases_dir: Path,
    config_path: Path,
    since: dt.datetime | None,
    until: dt.datetime | None,
    out: Path,
    base_url: str | None,
) -> None:
    """Render the digest of a period into OUT/digest/ as .html, .txt and a complete .eml."""
    settings = _settings(config_path, base_url)
    period = _period(settings, since, until)
    _run_build(BuildRequest(cases_dir, out, settings, period, dt.date.today(), ("digest",)))


@main.command()
@_common
@_out
@click.option("--base-url", help="Public URL of the site, for the QR codes (overrides site.toml).")
@click.option("--size", type=click.Choice(PAPER_SIZES), help="Paper size [site.toml's leaflet.size, A5].")
@click.option("--print-marks", is_flag=True, default=None, help="3 mm bleed and crop marks for a print shop.")
@_print_option
@click.option("--tag", help="Booklet: only cases with this tag.")
@click.option("--industry", help="Booklet: only cases in this industry.")
@click.option("--since", type=DATE, help="Booklet: only cases published on or after this date.")
@click.option("--language", help="Only this language's booklet [one booklet per language].")
@click.option("--jobs", type=click.IntRange(min=0), default=0, help="Processes to render with [all cores].")
@click.option("--imposed", is_flag=True, help="Also all.imposed.pdf: each booklet 2-up in saddle-stitch order.")
def leaflets(
    cases_dir: Path,
    config_path: Path,
    out: Path,
    base_url: str | None,
    size: str | None,
    print_marks: bool | None,
    print_shop: bool | None,
    tag: str | None,
    industry: str | None,
    since: dt.datetime | None,
    language: str | None,
    jobs: int,
    imposed: bool,
) -> None:
    """Render one PDF per case into OUT/leaflets/, and a booklet with a cover per language: all.pdf
    in the site's language, all.<language>.pdf in each other one."""
    with layout_workers(jobs) as workers:  # first: see `build`
        settings = _settings(config_path, base_url)
        if language is not None and language not in settings.languages:
            raise click.BadParameter(
                f"{language!r} is not one of {', '.join(settings.languages)}", param_hint="--language"
            )
        leaflet = LeafletOptions(
            size or settings.leaflet.size,
            settings.leaflet.print_marks if print_marks is None else print_marks,
            settings.leaflet.print if print_shop is None else print_shop,
            jobs,
            settings.cache_dir,
            imposed=imposed,
        )
        booklet = BookletFilter(tag, industry, since.date() if since else None, language)
        period = Period(dt.date.today(), dt.date.today())  # not used: no digest here
        request = BuildRequest(cases_dir, out, settings, period, dt.date.today(), ("leaflets",), leaflet, booklet)
        _run_build(request, workers)
    if leaflet.print_shop:
        _preflight(out / "leaflets")


@main.command()
@_common
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0 picks a free port.")
# Hidden and ignored rather than removed: scripts that passed --out keep working, and are told.
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), hidden=True, help="Ignored.")
def serve(cases_dir: Path, config_path: Path, port: int, out: Path | None) -> None:
    """Preview the site on 127.0.0.1 (drafts included): rebuilds on every save and reloads the open page.

    The preview has a folder of its own; it never touches the output of `build`."""
    from site_builder import preview

    if out is not None:
        click.echo(f"serve: --out {out} is ignored: the preview has its own folder and leaves {out} alone.", err=True)
    try:
        preview.serve(cases_dir, config_path, port, lambda text: click.echo(text, err=True))
    except OSError as exc:
        _fail(f"Cannot serve on port {port}: {exc.strerror}", 2)


@main.command()
@_common
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, github for pull-request annotations, json for tools.")  # fmt: skip
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
@click.option("--links", is_flag=True, help="Also check every link, anchor and image of the built site in OUT/site.")
@click.option("-v", "--verbose", is_flag=True, help="Also list stories that lack a translation the site offers.")
@click.option(
    "--print",
    "print_shop",
    is_flag=True,
    help="Also preflight the print files in OUT/leaflets: image resolution, RGB, small text, booklet pages.",
)
@_out
def check(
    cases_dir: Path,
    config_path: Path,
    fmt: str,
    strict: bool,
    links: bool,
    verbose: bool,
    print_shop: bool,
    out: Path,
) -> None:
    """Check every case and list all problems at once. Exit 1 on errors (or warnings with --strict)."""
    from site_builder.cases.load import check_cases

    settings = _settings(config_path)
    cases, problems = check_cases(
        cases_dir, settings, _progress if fmt == "text" else iter, cache_file=settings.cache_dir / "cases.pickle"
    )
    failing = any(p.is_error or strict for p in problems)
    if verbose and fmt == "text":
        from site_builder.cases.translations import untranslated

        for line in untranslated(cases, settings.languages):
            click.echo(line)
    _report_problems(problems, "fix {them} and run check again." if failing else "fine to publish; worth a look.", fmt)
    broken = []
    if links:
        site = out / "site"
        if not (site / "index.html").is_file():
            _fail(f"No built site in {site}; run site-builder build first.", 2)
        from site_builder.website.linkcheck import check_site

        broken = check_site(site, settings.base_url)
        for link in broken:
            click.echo(f"{site}/{link}", err=True)
        said = f"{counted(len(broken), 'broken link', 'broken links')} in {site}." if broken else ""
        click.echo(said or f"All links in {site} work.", err=bool(broken))
    preflighted = []
    if print_shop:
        folder = out / "leaflets"
        if not any(folder.glob("*.pdf")):
            _fail(f"No leaflets in {folder}; run site-builder leaflets --print first.", 2)
        from site_builder.leaflets.preflight import preflight

        preflighted = preflight(folder, print_shop=True)
        _report_problems(preflighted, "fix {them} and build the print files again.", fmt)
        if fmt == "text" and not preflighted:
            click.echo(f"The print files in {folder} pass preflight.")
    if failing or broken or preflighted:
        sys.exit(1)
    if fmt == "text":
        click.echo(
            f"The case in {cases_dir} is valid."
            if len(cases) == 1
            else f"All {counted(len(cases), 'case', 'cases')} in {cases_dir} are valid."
        )


@main.command()
@_common
@_period_options
@click.option(
    "--recipients",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="CSV with columns email, name, language, segments.",
)
@click.option("--smtp-host", help="SMTP server (overrides [smtp] host).")
@click.option("--smtp-port", type=click.IntRange(1, 65535), help="SMTP port (overrides [smtp] port).")
@click.option("--security", type=click.Choice(SECURITY), help="Connection security (overrides [smtp] security).")
@_ledger
@click.option(
    "--dry-run",
    "outbox",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write each message as an .eml file into this folder; send nothing.",
)
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="At most N messages per second.")
@click.option(
    "--connections",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="SMTP connections used at the same time.",
)
@click.option("--now", type=DATE, help="Send as if today were this date (the default period ends today).")
@_base_url
def send(
    cases_dir: Path,
    config_path: Path,
    since: dt.datetime | None,
    until: dt.datetime | None,
    recipients: Path,
    smtp_host: str | None,
    smtp_port: int | None,
    security: str | None,
    ledger: Path | None,
    outbox: Path | None,
    rate: float | None,
    connections: int,
    now: dt.datetime | None,
    base_url: str | None,
) -> None:
    """Send the digest to every recipient once. Exit 0: all got it; 1: some did not, or may not have;
    2: nothing was sent."""
    settings = _settings(config_path, base_url)
    smtp = replace(
        settings.smtp,
        host=smtp_host or settings.smtp.host,
        port=smtp_port or settings.smtp.port,
        security=security or settings.smtp.security,
    )
    settings = replace(settings, smtp=smtp)
    if smtp.username and not outbox and not os.environ.get(smtp.password_env):
        _fail(
            f"Configuration error: [smtp] username is set; put the password in {smtp.password_env}",
            2,
        )
    secret_env = settings.digest.unsubscribe_secret_env
    if settings.digest.unsubscribe_url and not os.environ.get(secret_env):
        # A dry run too: without the secret its messages would not be the ones sent.
        _fail(
            f"Configuration error: [digest] unsubscribe_url is set; put the secret that signs its tokens in "
            f"{secret_env} (long random text, the same for every run)",
            2,
        )
    if not (settings.digest.unsubscribe_url or settings.digest.unsubscribe_mailto or settings.company.email):
        _fail(
            "Configuration error: a message would have no unsubscribe link; set [digest] unsubscribe_url "
            "or unsubscribe_mailto (or [company] email)",
            2,
        )
    if ledger is not None:
        settings = replace(settings, digest=replace(settings.digest, ledger=str(ledger.resolve())))
    sign = _dkim_signer(settings)
    from site_builder.cases.load import load_cases
    from site_builder.digest.ledger import Ledger, LedgerError
    from site_builder.digest.recipients import load_recipients
    from site_builder.digest.send import SendOptions, send_digest
    from site_builder.digest.transport import OutboxTransport, SmtpTransport

    try:
        cases = load_cases(cases_dir, settings)
        people = load_recipients(recipients, settings)
    except InputError as exc:
        _report_problems(exc.problems, "nothing was sent.")
        sys.exit(2)
    period = _period(settings, since, until, now.date() if now else None, after="; nothing was sent")
    if period.resumed:
        click.echo(
            f"Finishing the digest of {period.since} to {period.until}, which an earlier send began and did not"
            " finish: everyone still due gets it now."
        )
    if not period.select(cases):
        click.echo(f"No published cases from {period.since} to {period.until}; nothing to send.")
        if period.resumed and not outbox:
            try:
                with Ledger(settings.ledger_path) as done:
                    done.finish(period)  # its cases were deleted: the next send begins the next digest
            except LedgerError as exc:
                _fail(f"Ledger error: {exc}", 2)
        return
    # A dry run writes numbered files in order: one "connection". Only its writing is guarded: a
    # real send's OSErrors are the transport's to retry or report.
    guard = _writing(outbox, "run it again", "nothing was sent") if outbox else contextlib.nullcontext()
    with guard:
        transports: list[Transport] = (
            [OutboxTransport(outbox)] if outbox else [SmtpTransport(settings.smtp) for _ in range(connections)]
        )
        try:
            store = Ledger(settings.ledger_path if not outbox or settings.ledger_path.exists() else Path(":memory:"))
        except LedgerError as exc:
            _fail(f"Ledger error: {exc}; nothing was sent.", 2)
        options = SendOptions(rate=rate, record=outbox is None, sign=sign)
        click.echo(
            f"Digest {period.since} to {period.until}: {counted(len(period.select(cases)), 'case', 'cases')}, "
            f"{counted(len(people), 'recipient', 'recipients')}"
        )
        with store:
            try:
                if sys.stderr.isatty() and len(people) >= 2:
                    with click.progressbar(length=len(people), label="Sending", file=sys.stderr) as bar:
                        report = send_digest(
                            cases, people, settings, period, transports, store, options, lambda _: bar.update(1)
                        )
                else:
                    report = send_digest(cases, people, settings, period, transports, store, options)
            except LedgerError as exc:
                # Locked mid-run by another program: whoever was recorded stays recorded; a rerun
                # sends the rest (and, at worst, again the one message whose "sent" could not be written).
                _fail(f"Ledger error: {exc}; the run stopped. Run the same command again to send the rest.", 1)
    _print_send_report(report, outbox)
    sys.exit(1 if report.failed or report.deferred or report.uncertain or report.left_uncertain else 0)


def _dkim_signer(settings: Settings) -> Callable[[bytes], bytes] | None:
    """[digest] dkim_key's signer, the key read once, now: one that cannot be used stops `send` before
    anything is sent (exit 2). The dry run's .eml files are signed too: they are what would be sent."""
    if not settings.digest.dkim_key:
        return None
    from site_builder.digest.signing import load_signer  # cryptography and dkimpy: only when signing

    try:
        signer = load_signer(settings)
    except ConfigError as exc:
        _fail(f"Configuration error: {exc}", 2)
    if signer is None:
        return None
    click.echo(f"Signing with DKIM: d={signer.domain}, s={signer.selector} ({signer.algorithm})")
    return signer.sign


def _print_send_report(report: SendReport, outbox: Path | None) -> None:
    verb = f"written to {outbox}" if outbox else "sent"
    click.echo(
        f"{len(report.sent)} {verb}, {len(report.skipped)} skipped (already sent), "
        f"{len(report.nothing_new)} with nothing new, {len(report.failed)} failed, "
        f"{len(report.deferred)} not sent yet"
    )
    if report.suppressed:
        click.echo(f"{len(report.suppressed)} left out: unsubscribed or bounced (site-builder unsubscribe's list)")
    if report.elsewhere:
        click.echo(f"{len(report.elsewhere)} being sent by another run at the same time (its report says how it went)")
    for email, error in report.failed:
        click.secho(f"  failed: {email}: {error}", fg="red", err=True)
    for email, error in report.deferred:
        click.secho(f"  not sent yet: {email}: {error}", fg="yellow", err=True)
    if report.uncertain:
        click.echo(
            f"{len(report.uncertain)} uncertain: the server may have stored the message before the line dropped;"
            " the next run sends it once more with the same Message-ID"
        )
    for email, error in report.uncertain:
        click.secho(f"  uncertain: {email}: {error}", fg="yellow", err=True)
    if report.left_uncertain:
        click.echo(
            f"{len(report.left_uncertain)} left out: uncertain twice already (each copy may have arrived),"
            " not sent again"
        )
    # Never promise what cannot be known: an uncertain message may arrive twice.
    once = (
        f"nobody gets the digest twice, except that the {len(report.uncertain)} uncertain may get a second copy"
        if report.uncertain
        else "nobody gets the digest twice"
    )
    if report.aborted:
        reason = report.aborted.rstrip(".")
        click.secho(f"Stopped: {reason}. Run the same command again to send the rest; {once}.", fg="red", err=True)
    elif report.deferred or report.uncertain:
        click.secho(f"Run the same command again to retry; {once}.", fg="yellow", err=True)


@main.command()
@click.argument("people", nargs=-1, metavar="[ADDRESS|TOKEN]...")
@click.option(
    "--from-file",
    type=click.Path(path_type=Path, dir_okay=False),
    multiple=True,
    help="A file of addresses or tokens, one a line (or a CSV with an email column).",
)
@click.option(
    "--reason",
    type=click.Choice(("unsubscribed", "bounced", "complained")),
    default="unsubscribed",
    show_default=True,
    help="Why they are left out from now on.",
)
@click.option(
    "--recipients",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The recipients CSV, to find whose a token is when the ledger has never sent to them.",
)
@_ledger
@click.option("--list", "show", is_flag=True, help="Print everyone on the list (address, reason, date, source).")
@_config
def unsubscribe(
    people: tuple[str, ...],
    from_file: tuple[Path, ...],
    reason: str,
    recipients: Path | None,
    ledger: Path | None,
    show: bool,
    config_path: Path,
) -> None:
    """Never send the digest again to these people (addresses, or tokens from unsubscribe links).

    Exit 0: all recorded; 1: some tokens matched nobody; 2: bad input, nothing recorded.
    """
    settings = _settings(config_path)
    from site_builder.digest.ledger import Ledger, LedgerError
    from site_builder.digest.recipients import load_recipients
    from site_builder.digest.suppress import from_arguments, resolve_requests
    from site_builder.digest.suppress import from_file as read_file

    path = ledger.resolve() if ledger else settings.ledger_path
    if not (people or from_file or show):
        raise click.UsageError("name at least one address or token, or --from-file, or --list")
    try:
        requests = from_arguments(people) + [r for f in from_file for r in read_file(f)]
        listed = load_recipients(recipients, settings) if recipients else ()
    except InputError as exc:
        _report_problems(exc.problems, "nothing was recorded.")
        sys.exit(2)
    secret_text = os.environ.get(settings.digest.unsubscribe_secret_env)
    secret = secret_text.encode("utf-8") if secret_text else None
    try:
        with Ledger(path) as store:
            try:
                resolved = resolve_requests(
                    requests,
                    [*store.known_addresses(), *(p.email for p in listed)],
                    secret,
                    settings.digest.unsubscribe_secret_env,
                )
            except InputError as exc:
                _report_problems(exc.problems, "nothing was recorded.")
                sys.exit(2)
            added = store.suppress((email, reason, source) for email, source in resolved.people)
            entries = store.suppression_list() if show else []
    except LedgerError as exc:
        _fail(f"Ledger error: {exc}; nothing was recorded.", 2)
    for address, why, date, source in entries:
        click.echo(f"{address}\t{why}\t{date}\t{source}")
    if requests:
        again = len({email for email, _ in resolved.people}) - len(added)
        click.echo(
            f"{len(added)} added to the list of people never sent the digest ({path})"
            + (f"; {again} already on it" if again else "")
        )
    for problem in resolved.unknown if requests else []:
        click.secho(str(problem), fg="yellow", err=True)
    if requests and resolved.unknown:
        sys.exit(1)


@main.command()
@click.option("--imap-host", help="IMAP server (overrides [mailbox] host).")
@click.option("--imap-port", type=click.IntRange(1, 65535), help="IMAP port (overrides [mailbox] port).")
@click.option("--security", type=click.Choice(SECURITY), help="Connection security (overrides [mailbox] security).")
@_ledger
@click.option("--dry-run", is_flag=True, help="Say what would be recorded and moved; change nothing.")
@click.option("-v", "--verbose", is_flag=True, help="Also list each message handled.")
@_config
def mailbox(
    imap_host: str | None,
    imap_port: int | None,
    security: str | None,
    ledger: Path | None,
    dry_run: bool,
    verbose: bool,
    config_path: Path,
) -> None:
    """Record the unsubscribe requests and permanent bounces in [mailbox] folder on the suppression
    list, and move those messages to [mailbox] done_folder; everything else stays where it is.

    Exit 0: done; 1: all recorded, but the connection broke while moving (run again to move the
    rest); 2: the mailbox could not be read, nothing was recorded.
    """
    settings = _settings(config_path)
    config = replace(
        settings.mailbox,
        host=imap_host or settings.mailbox.host,
        port=imap_port or settings.mailbox.port,
        security=security or settings.mailbox.security,
    )
    where = f"[mailbox] in {config_path}"
    if not config.host:
        _fail(f"Configuration error: {where}: set host (the IMAP server), or pass --imap-host", 2)
    if not config.username:
        _fail(f"Configuration error: {where}: set username (the login for {config.host})", 2)
    password = os.environ.get(config.password_env)
    if not password:
        _fail(f"Configuration error: put the password for {config.username!r} in {config.password_env}", 2)
    from site_builder.digest.imap import ConnectionLost, MailboxError
    from site_builder.digest.ledger import Ledger, LedgerError
    from site_builder.digest.mailbox import read_mailbox

    path = ledger.resolve() if ledger else settings.ledger_path
    secret_text = os.environ.get(settings.digest.unsubscribe_secret_env)
    secret = secret_text.encode("utf-8") if secret_text else None
    try:
        with Ledger(path) as store:
            report = read_mailbox(config, password, store, secret, settings.digest.unsubscribe_secret_env, dry_run)
    except ConnectionLost as exc:
        _fail(f"Mailbox error: {exc}; nothing was recorded; run it again.", 2)
    except MailboxError as exc:
        _fail(f"Mailbox error: {exc}; nothing was recorded.", 2)
    except LedgerError as exc:
        _fail(f"Ledger error: {exc}; nothing was recorded or moved.", 2)
    if verbose or dry_run:
        for line in report.details:
            click.echo(f"  {line}")
    for note in report.notes:
        click.secho(f"left in {report.folder}: {note}", fg="yellow", err=True)
    again = len(report.unsubscribed) + len(report.bounced) - len(report.added)
    already = f" ({again} already on the list)" if again and not dry_run else ""
    moved = f"{report.handled} to move to" if dry_run else f"{report.moved} moved to"
    click.echo(
        f"{len(report.unsubscribed)} unsubscribed, {len(report.bounced)} bounced{already}, "
        f"{moved} {report.done_folder}, {report.left} left alone" + (" (dry run: nothing changed)" if dry_run else "")
    )
    if report.move_note:
        click.secho(f"Note: {report.move_note}.", fg="yellow", err=True)
    if report.interrupted:
        _fail(
            f"Stopped: {report.interrupted}. Everyone found is recorded; "
            f"{counted(report.handled - report.moved, 'message', 'messages')} left in {report.folder} "
            "for the next run to move.",
            1,
        )


@main.command()
@_common
@click.argument("title")
@click.option("--language", help="Language of the case (default: site.toml's language).")
def new(cases_dir: Path, config_path: Path, title: str, language: str | None) -> None:
    """Write a new case file with the four headings ready to fill in."""
    settings = _settings(config_path)
    language = language or settings.language
    if language not in settings.languages:
        raise click.BadParameter(f"{language!r} is not one of {', '.join(settings.languages)}", param_hint="--language")
    from site_builder.scaffold import Taken, create_case, file_slug, new_case_text

    slug = file_slug(title)
    today = dt.date.today()
    try:
        with _writing(cases_dir, "run new again", "nothing was created"):
            try:
                path = create_case(cases_dir, title, language, today, settings)
            except FileExistsError:
                raise  # someone's file: never touched
            except OSError:
                _remove_partial(cases_dir / f"{slug}.md", new_case_text(title, language, today, settings))
                raise
    except FileExistsError as exc:
        _fail(f"Error: {exc.filename or exc} already exists; nothing was changed", 1)
    except (Taken, ValueError) as exc:
        _fail(f"Error: {exc}; nothing was created", 1)
    click.echo(f"Created {path}. Fill it in, then run: site-builder check")


def _remove_partial(path: Path, text: str) -> None:
    """After a failed write (disk full), the start of the new case is removed: it is ours only if the
    file holds a beginning of what was being written, since `new` never overwrites."""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if text.startswith(path.read_text(encoding="utf-8")):
            path.unlink()
