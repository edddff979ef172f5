"""load -> render -> write, for every output asked for; returns what was done."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from site_builder.build import shortcut
from site_builder.build.artifacts import Artifact, Finish, OutputTree
from site_builder.build.cache import Cache
from site_builder.build.lock import project_lock
from site_builder.build.swap import claim
from site_builder.build.writer import WriteResult, write_outputs
from site_builder.cases.load import check_cases, published
from site_builder.cases.model import Case
from site_builder.digest.period import Period
from site_builder.leaflets.options import BookletFilter, LeafletOptions
from site_builder.leaflets.workers import LayoutWorkers, layout_workers
from site_builder.problems import InputError, Problem
from site_builder.settings.config import OUTPUTS, Settings
from site_builder.settings.theme import theme_error
from site_builder.website import search
from site_builder.website.feed import FEED_SIZE
from site_builder.website.links import Links, file_for
from site_builder.website.pages import SiteRenderer, render_site
from site_builder.website.search import index_site, remove_index

if TYPE_CHECKING:
    from site_builder.build.case_cache import Signature


@dataclass(frozen=True, slots=True)
class Context:
    """What renderers need besides the cases: settings, the digest's period, how to print leaflets."""

    settings: Settings
    period: Period
    leaflet: LeafletOptions
    booklet: BookletFilter
    outputs: tuple[str, ...]
    workers: LayoutWorkers | None = None


Renderer = Callable[[tuple[Case, ...], Context], list[Artifact]]

# Each output folder and the renderer that fills it, in build order.
RENDERERS: dict[str, Renderer] = {  # in the order of config.OUTPUTS
    "site": lambda cases, ctx: render_site(cases, ctx.settings, leaflets="leaflets" in ctx.outputs),
    "digest": lambda cases, ctx: _render_digest(cases, ctx),
    "leaflets": lambda cases, ctx: _render_leaflets(cases, ctx),
}
assert tuple(RENDERERS) == OUTPUTS


def _render_digest(cases: tuple[Case, ...], context: Context) -> list[Artifact]:
    from site_builder.digest.compose import render_digest_files  # email code: only builds with a digest load it

    return render_digest_files(cases, context.settings, context.period)


def _render_leaflets(cases: tuple[Case, ...], context: Context) -> list[Artifact]:
    # WeasyPrint takes half a second to import: only builds that print pay for it.
    from site_builder.leaflets.compose import render_leaflets

    return render_leaflets(cases, context.settings, context.leaflet, context.booklet, context.workers)


@dataclass(frozen=True, slots=True)
class OutputReport:
    """What one output folder received (files == 0: nothing to write, the old folder was kept)."""

    name: str
    path: Path
    files: int
    changed: int  # files new or different from the last build; the rest were kept as they were


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did, for the command line to print."""

    cases: int
    held_back: int  # drafts, and cases dated after today
    period: Period
    outputs: tuple[OutputReport, ...]
    seconds: float
    warnings: tuple[Problem, ...] = ()


def digest_period(settings: Settings, since: dt.date | None, until: dt.date | None, today: dt.date) -> Period:
    """--since/--until, else from the day after the last digest sent, else the last `digest.days` days."""
    end = until or today
    if since is None:
        from site_builder.digest.ledger import last_sent_until

        last = last_sent_until(settings.ledger_path)
        since = last + dt.timedelta(days=1) if last else end - dt.timedelta(days=settings.digest.days)
    return Period(since, end)


def render_output(name: str, cases: tuple[Case, ...], context: Context) -> OutputTree:
    """Run one renderer; a template failure becomes a ThemeError naming the template line."""
    tree = OutputTree(name)
    try:
        tree.extend(RENDERERS[name](cases, context))
    except jinja2.TemplateError as exc:
        raise theme_error(exc, f"{name} template") from exc
    return tree


def _publish_leaflets_on_site(trees: list[OutputTree]) -> None:
    """The site links to each leaflet, so the PDFs travel with it when only the site is published."""
    by_name = {tree.name: tree for tree in trees}
    if "site" in by_name and "leaflets" in by_name:
        leaflets = by_name["leaflets"]
        for name, data in leaflets.files.items():
            by_name["site"].add(f"leaflets/{name}", data, leaflets.keys.get(name), name in leaflets.made_from_others)


def build(
    cases_dir: Path,
    out: Path,
    settings: Settings,
    *,
    period: Period,
    leaflet: LeafletOptions | None = None,
    booklet: BookletFilter | None = None,
    drafts: bool = False,
    strict: bool = False,
    now: dt.date | None = None,
    only: Iterable[str] = (),
    progress: Callable[[list[str]], Iterable[str]] = iter,
    workers: LayoutWorkers | None = None,
    waiting: Callable[[int | None], None] = lambda pid: None,
) -> BuildReport:
    """Validate every case, render the chosen outputs and swap them into `out` all at once.
    `workers`: leaflet workers the caller started (else the build starts its own, if it needs any);
    `waiting(pid)`: told when another build of the project runs, which this one then waits for."""
    started = time.perf_counter()
    names = list(dict.fromkeys(only)) or list(RENDERERS)
    leaflet = leaflet or LeafletOptions(settings.leaflet.size, settings.leaflet.print_marks, 0, settings.cache_dir)
    # Forked now, before the cases are loaded: a worker imports WeasyPrint meanwhile, so that an
    # edited case's leaflet costs only its layout, done while this process renders the site.
    own = contextlib.nullcontext(workers) if workers else layout_workers(leaflet.jobs, "leaflets" in names)
    with project_lock(settings.cache_dir, waiting), own as workers:
        # Before anything is read of the last build: refuse a folder not ours, complete the
        # commit of a build that was killed half way, remove what killed builds left.
        claim(out, cases_dir, settings.cache_dir)
        today = now or dt.date.today()
        note_context = shortcut.context(settings, cases_dir, names, period, leaflet, booklet, drafts, today)
        last = shortcut.load(settings, out)
        quick = _shortcut(
            cases_dir, out, settings, names, period, leaflet, booklet, strict, last, note_context, workers
        )
        if quick is not None:
            return replace(quick, seconds=time.perf_counter() - started)
        signatures: dict[str, Signature | None] = {}
        cases, problems = check_cases(
            cases_dir,
            settings,
            progress=progress,
            jobs=leaflet.jobs,
            cache_file=settings.cache_dir / "cases.pickle",
            signatures=signatures,
        )
        if any(p.is_error or strict for p in problems):
            raise InputError(problems)
        chosen = published(cases, drafts, today)
        context = Context(settings, period, leaflet, booklet or BookletFilter(), tuple(names), workers)
        # Leaflets first: the ones to lay out go to the workers, which work while the site is rendered.
        made = {
            name: render_output(name, chosen, context) for name in sorted(names, key=lambda name: name != "leaflets")
        }
        trees = [made[name] for name in names]
        _publish_leaflets_on_site(trees)
        # An output with nothing in it (a digest of an empty period) leaves its old folder alone.
        full = [tree for tree in trees if tree.files]
        newest = _newest_pages(settings, chosen)
        finish = _finish(settings, newest)
        # In a full build an output with nothing in it is removed, so the output always mirrors the
        # input; `digest` alone with an empty period leaves the last digest where it was.
        empty = [tree.name for tree in trees if not tree.files] if len(trees) > 1 else []
        shortcut.save(settings, out, None)  # the old note must not outlive the output it describes
        written = write_outputs(out, full, finish, state=settings.cache_dir, jobs=leaflet.jobs, remove=empty)
        reports = _reports(trees, out, written)
        _prune_leaflets(leaflet, made.get("leaflets"), reports)
        whole = _shown_whole(chosen, names, period, booklet)
        note = shortcut.take_note(note_context, cases, problems, signatures, chosen, whole, newest)
        shortcut.save(settings, out, note)
        return BuildReport(
            len(chosen), len(cases) - len(chosen), period, reports, time.perf_counter() - started, problems
        )


def _prune_leaflets(leaflet: LeafletOptions, tree: OutputTree | None, reports: tuple[OutputReport, ...]) -> None:
    """After a build that laid out leaflets, the cached ones no output uses any more go, in time."""
    if tree is None or leaflet.cache_dir is None or not any(r.name == "leaflets" and r.changed for r in reports):
        return
    Cache(leaflet.cache_dir / "leaflets").prune(set(tree.keys.values()))


def _shown_whole(
    chosen: tuple[Case, ...], names: list[str], period: Period, booklet: BookletFilter | None
) -> tuple[Case, ...]:
    """The cases some output other than their own page and leaflet shows whole (text included)."""
    whole: tuple[Case, ...] = ()
    if "site" in names:
        whole += chosen[:FEED_SIZE]
    if "digest" in names:
        whole += period.select(chosen)
    if "leaflets" in names:
        from site_builder.leaflets.compose import booklet_cases

        whole += booklet_cases(chosen, booklet)
    return whole


def _newest_pages(settings: Settings, chosen: tuple[Case, ...]) -> list[str]:
    """The pages of the newest published cases, which the search index keeps in a bundle of their own."""
    links = Links(settings)
    return [file_for(links.case(case)) for case in chosen[: search.FRESH]]


def _finish(settings: Settings, newest: list[str]) -> dict[str, Finish]:
    """What runs on a prepared output folder before the swap: the search index of the site."""
    if not settings.search:  # no index: none left from the build before last in a reused folder either
        return {"site": lambda folder, previous, changed: remove_index(folder)}
    return {"site": lambda folder, previous, changed: index_site(folder, previous, changed, settings, newest)}


def _reports(trees: list[OutputTree], out: Path, written: list[WriteResult]) -> tuple[OutputReport, ...]:
    results = dict(zip([t.name for t in trees if t.files], written, strict=True))
    return tuple(
        OutputReport(
            tree.name,
            results[tree.name].path if tree.name in results else out.resolve() / tree.name,
            len(tree.files),
            results[tree.name].written if tree.name in results else 0,
        )
        for tree in trees
    )


def _whole_again(
    by_name: dict[str, OutputTree], whole: tuple[Case, ...], settings: Settings, names: list[str], period: Period
) -> bool:
    """The feed and the digest made again from the cases shown whole (they are all they show);
    False when one of their files is not where the last build put it."""
    if "site" in by_name and not by_name["site"].replace(SiteRenderer(settings, "leaflets" in names).feed(whole)):
        return False
    if "digest" in by_name:
        from site_builder.digest.compose import render_digest_files

        return all(by_name["digest"].replace(artifact) for artifact in render_digest_files(whole, settings, period))
    return True


def _shortcut(
    cases_dir: Path,
    out: Path,
    settings: Settings,
    names: list[str],
    period: Period,
    leaflet: LeafletOptions,
    booklet: BookletFilter | None,
    strict: bool,
    note: shortcut.Note | None,
    note_context: str,
    workers: LayoutWorkers | None,
) -> BuildReport | None:
    """The build done from the last one's note when only the text of some cases changed (see
    shortcut.py); None when it must be done in full."""
    if note is None or note.context != note_context:
        return None
    try:
        found = shortcut.changes(note, settings, cases_dir, strict)
    except (shortcut.Stale, OSError):  # a file gone between looking and reading, the folder gone...
        return None
    if found is None or (strict and found.problems):
        return None
    trees = [shortcut.last_tree(out, name, settings.cache_dir) for name in names]
    if any(tree is None for tree in trees):
        return None
    by_name = {tree.name: tree for tree in trees if tree is not None}
    shown = tuple(case for case, _, _ in found.cases)
    if "site" in by_name and shown:
        renderer = SiteRenderer(settings, "leaflets" in names)
        for case, older, newer in found.cases:
            if not by_name["site"].replace(renderer.case_page(case, older, newer)):
                return None
    whole = found.whole or ()
    if "leaflets" in by_name and shown:
        from site_builder.leaflets.compose import render_leaflets

        edited = {f"{case.slug}.pdf" for case in shown} | ({"all.pdf"} if whole else set())
        # The booklet's cases are all among those shown whole: one call makes it and their leaflets.
        in_whole = {case.source for case in whole}
        alone = tuple(case for case in shown if case.source not in in_whole)
        artifacts = render_leaflets(whole, settings, leaflet, booklet, workers) if whole else []
        artifacts += render_leaflets(alone, settings, leaflet, None, workers, with_booklet=False)
        for artifact in (artifact for artifact in artifacts if artifact.path in edited):
            if not by_name["leaflets"].replace(artifact):
                return None
            if "site" in by_name and not by_name["site"].replace(replace(artifact, path=f"leaflets/{artifact.path}")):
                return None
    if whole and not _whole_again(by_name, whole, settings, names, period):
        return None
    full = [tree for tree in by_name.values() if tree.files]
    try:
        finish = _finish(settings, list(note.newest))  # the order is the last build's: so are the newest
        written = write_outputs(out, full, finish, state=settings.cache_dir, jobs=leaflet.jobs)
    except shortcut.Stale:
        return None  # a file the last build wrote is gone or changed: build everything
    shortcut.save(settings, out, found.note)
    reports = _reports(list(by_name.values()), out, written)
    _prune_leaflets(leaflet, by_name.get("leaflets"), reports)
    return BuildReport(note.cases, note.held_back, period, reports, 0.0, found.problems)
