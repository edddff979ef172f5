"""One build: plan -> load -> render -> write -> report, for the outputs asked for.

The plan comes from the last build's note (see shortcut.py): when only the text of some cases
changed, just those are loaded and each output makes again what shows them; anything else, or
anything unexpected on the way, loads every case. Either way the same writer puts the result in
place, and the report says which plan was taken and why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from site_builder.build import shortcut
from site_builder.build.artifacts import Finish, OutputTree
from site_builder.build.lock import project_lock
from site_builder.build.outputs import Edited, Output, chosen
from site_builder.build.request import BuildRequest
from site_builder.build.swap import claim
from site_builder.build.writer import WriteResult, write_outputs
from site_builder.cases.load import check_cases, published
from site_builder.digest.period import Period
from site_builder.leaflets.workers import LayoutWorkers, layout_workers
from site_builder.problems import InputError, Problem
from site_builder.settings.theme import theme_error

if TYPE_CHECKING:
    from site_builder.build.case_cache import Signature
    from site_builder.cases.model import Case


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
    plan: str = ""  # which way it was built, and why
    whole: int = 0  # cases shown whole (in the feed, the digest or a booklet): a digest's own cases


def build(
    request: BuildRequest,
    *,
    progress: Callable[[list[str]], Iterable[str]] = iter,
    workers: LayoutWorkers | None = None,
    waiting: Callable[[int | None], None] = lambda pid: None,
) -> BuildReport:
    """Validate every case, render the outputs asked for and swap them into OUT all at once.
    `workers`: leaflet workers the caller started (else the build starts its own, if it needs any);
    `waiting(pid)`: told when another build of the project runs, which this one then waits for."""
    started = time.perf_counter()
    outputs = chosen(request.outputs)
    # Forked now, before the cases are loaded: a worker imports WeasyPrint meanwhile, so that an
    # edited case's leaflet costs only its layout, done while this process renders the site.
    own = (
        contextlib.nullcontext(workers) if workers else layout_workers(request.leaflet.jobs, request.wants("leaflets"))
    )
    with project_lock(request.settings.cache_dir, waiting), own as workers:
        # Before anything is read of the last build: refuse a folder not ours, complete the
        # commit of a build that was killed half way, remove what killed builds left.
        claim(request.out, request.cases_dir, request.settings.cache_dir)
        context = shortcut.context(request, outputs)
        note = shortcut.load(request.settings, request.out)
        found, why = shortcut.plan(note, context, request)
        if found is not None and note is not None:
            quick = _remake(found, note, request, outputs, workers)
            if quick is not None:
                return dataclasses.replace(quick, seconds=time.perf_counter() - started, plan=why)
            why = "full: a file the last build made is not as it recorded it"
        report = _full(request, outputs, context, workers, progress)
        return dataclasses.replace(report, seconds=time.perf_counter() - started, plan=why)


def _full(
    request: BuildRequest,
    outputs: tuple[Output, ...],
    context: dict[str, str],
    workers: LayoutWorkers | None,
    progress: Callable[[list[str]], Iterable[str]],
) -> BuildReport:
    """The build that loads every case."""
    settings = request.settings
    signatures: dict[str, Signature | None] = {}
    cases, problems = check_cases(
        request.cases_dir,
        settings,
        progress=progress,
        jobs=request.leaflet.jobs,
        cache_file=settings.cache_dir / "cases.pickle",
        signatures=signatures,
    )
    if any(p.is_error or request.strict for p in problems):
        raise InputError(problems)
    shown = published(cases, request.drafts, request.today)
    # Outputs another one carries first (the leaflets): the ones to lay out go to the workers,
    # which work while the rest is rendered.
    made = {o.name: _render(o, shown, request, workers) for o in sorted(outputs, key=lambda o: o.carried is None)}
    trees = [made[o.name] for o in outputs]
    _carry(outputs, made)
    remembered = {o.name: o.remember(shown, request) for o in outputs}
    # In a build of several outputs, one with nothing in it (a digest of an empty period) is
    # removed, so the output always mirrors the input; `digest` alone leaves the last one there.
    empty = [tree.name for tree in trees if not tree.files] if len(trees) > 1 else []
    shortcut.save(settings, request.out, None)  # the old note must not outlive the output it describes
    reports = _write(request, outputs, trees, remembered, empty)
    whole = tuple(case for o in outputs for case in o.shown_whole(shown, request))
    note = shortcut.take_note(context, cases, problems, signatures, shown, whole, remembered)
    shortcut.save(settings, request.out, note)
    return BuildReport(
        len(shown),
        len(cases) - len(shown),
        request.period,
        reports,
        0.0,
        problems,
        whole=len({c.source for c in whole}),
    )


def _remake(
    found: shortcut.Changed,
    note: shortcut.Note,
    request: BuildRequest,
    outputs: tuple[Output, ...],
    workers: LayoutWorkers | None,
) -> BuildReport | None:
    """The build from the last one's note: each output makes again what shows the edited cases,
    and keeps every other file; None when the last build's files are not as it recorded them."""
    trees: dict[str, OutputTree] = {}
    for output in outputs:
        tree = shortcut.last_tree(request.out, output.name, request.settings.cache_dir)
        if tree is None:
            return None
        trees[output.name] = tree
    edited = Edited(tuple(found.cases), found.whole, note.remembered)
    if edited.cases or edited.whole is not None:
        for output in outputs:
            with _theme_errors(output):
                remade = output.remade(edited, request, workers)
            carrier = _carrier(output, trees)
            for artifact in remade:
                if not trees[output.name].replace(artifact):
                    return None  # a file this build would make that the last one did not
                if carrier and not carrier[0].replace(
                    dataclasses.replace(artifact, path=f"{carrier[1]}{artifact.path}")
                ):
                    return None
    try:
        reports = _write(request, outputs, list(trees.values()), note.remembered, [])
    except shortcut.Stale:
        return None  # a file the last build wrote is gone or changed: build everything
    shortcut.save(request.settings, request.out, found.note)
    return BuildReport(
        note.cases,
        note.held_back,
        request.period,
        reports,
        0.0,
        found.problems,
        whole=len(found.note.shown_whole),
    )


@contextlib.contextmanager
def _theme_errors(output: Output) -> Iterator[None]:
    """A template failure while `output` renders becomes a ThemeError naming the template line."""
    try:
        yield
    except jinja2.TemplateError as exc:
        raise theme_error(exc, f"{output.name} template") from exc


def _render(
    output: Output, cases: tuple[Case, ...], request: BuildRequest, workers: LayoutWorkers | None
) -> OutputTree:
    """One output's files."""
    tree = OutputTree(output.name)
    with _theme_errors(output):
        tree.extend(output.render(cases, request, workers))
    return tree


def _carrier(output: Output, trees: dict[str, OutputTree]) -> tuple[OutputTree, str] | None:
    """The tree that also carries `output`'s files, and the folder they go in there, if one is built."""
    if output.carried is None or output.carried[0] not in trees:
        return None
    host, folder = output.carried
    return trees[host], folder


def _carry(outputs: tuple[Output, ...], trees: dict[str, OutputTree]) -> None:
    """An output another one carries (the site links to each leaflet) travels with it too."""
    for output in outputs:
        carrier = _carrier(output, trees)
        if carrier is None:
            continue
        host, folder = carrier
        own = trees[output.name]
        for name, data in own.files.items():
            host.add(f"{folder}{name}", data, own.keys.get(name), name in own.made_from_others)


def _write(
    request: BuildRequest,
    outputs: tuple[Output, ...],
    trees: list[OutputTree],
    remembered: dict[str, tuple[str, ...]],
    remove: list[str],
) -> tuple[OutputReport, ...]:
    """Write the trees (an empty one keeps its old folder), then let each output tidy up."""
    finish: dict[str, Finish] = {}
    for output in outputs:
        hook = output.finish(request, remembered.get(output.name, ()))
        if hook is not None:
            finish[output.name] = hook
    full = [tree for tree in trees if tree.files]
    state = request.settings.cache_dir
    written = write_outputs(request.out, full, finish, state=state, jobs=request.leaflet.jobs, remove=remove)
    reports = _reports(trees, request.out, written)
    for output, tree, report in zip(outputs, trees, reports, strict=True):
        output.written(tree, report.changed, request)
    return reports


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
