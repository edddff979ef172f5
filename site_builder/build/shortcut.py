"""Rebuilds that load only the case files that changed, when nothing else did.

Every build leaves a note in the cache folder: a digest of everything but the case files (the
tool, the settings, the themes, the options, today's date), and for each case file its signature
(size, mtime, inode), a digest of everything about the case but its text (what other pages show
of it), and its warnings; also the published order, and which cases are shown whole elsewhere
(the feed, the digest's period, the booklet). When the next build finds the same files and only
the text of some cases changed, it parses just those and their neighbours, renders their pages and
leaflets, and takes every other file from the last build as the writer's manifests record it. When
one of them is shown whole elsewhere, the note also keeps those cases (about as many as the digest's
period holds), so that the feed, the digest and the booklet are made again from them alone. The
writer still checks each file it keeps; anything unexpected (or any other change) and the build is
done in full instead, which is what every test compares against.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

from site_builder import __version__
from site_builder.build.artifacts import OutputTree
from site_builder.build.case_cache import DAMAGED, Signature, signature
from site_builder.build.manifest import folder_tag
from site_builder.build.sealed import read_sealed, write_sealed
from site_builder.build.writer import recorded
from site_builder.cases.load import case_names, load_case
from site_builder.cases.model import Case
from site_builder.digest.period import Period
from site_builder.leaflets.options import BookletFilter, LeafletOptions
from site_builder.problems import Problem
from site_builder.settings.config import Settings
from site_builder.settings.theme import theme_fingerprint

_MAGIC = b"site-builder shortcut 5\n"  # 5: sealed
MOST = 50  # more changed files than this: a full build is as quick and simpler
KEEP_WHOLE = 2000  # more cases shown whole (a digest of years): the note does not keep them, a full build is as quick


class Stale(Exception):
    """A file the last build wrote is not there as recorded: the build must be done in full."""


@dataclass(frozen=True)
class Note:
    """What the last build saw and made, for the next one to compare with."""

    context: str
    files: dict[str, tuple[Signature | None, str, tuple[Problem, ...]]]  # signature, face, problems
    order: tuple[str, ...]  # the published case files, newest first
    shown_whole: frozenset[str]  # in the feed, the digest's period or the booklet
    cases: int
    held_back: int
    whole: bytes | None  # those cases, newest first, pickled (unpickled only by a build that needs them)
    newest: tuple[str, ...]  # the pages of the newest cases, which the search index keeps in a bundle of their own


def context(
    settings: Settings,
    cases_dir: Path,
    names: list[str],
    period: Period,
    leaflet: LeafletOptions,
    booklet: BookletFilter | None,
    drafts: bool,
    today: dt.date,
) -> str:
    """A digest of everything a build's output depends on besides the case files."""
    parts = (
        __version__,
        repr(settings),
        str(cases_dir.resolve()),
        names,
        repr(period),
        leaflet.size,
        leaflet.print_marks,
        repr(booklet),
        drafts,
        today,
        os.environ.get("SOURCE_DATE_EPOCH", ""),
        *(theme_fingerprint(settings, part) for part in ("site", "email") if part_wanted(part, names)),
        _leaflets(settings, leaflet) if "leaflets" in names else "",
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


def _leaflets(settings: Settings, leaflet: LeafletOptions) -> str:
    from site_builder.leaflets.compose import (
        leaflet_fingerprint,  # what a leaflet's key holds, WeasyPrint's version too
    )

    return leaflet_fingerprint(settings, leaflet)


def part_wanted(part: str, names: list[str]) -> bool:
    """True when a theme part is used by the outputs `names`."""
    return {"site": "site", "email": "digest", "leaflet": "leaflets"}[part] in names


def _note_file(settings: Settings, out: Path) -> Path:
    return settings.cache_dir / f"shortcut-{folder_tag(out.resolve())}.pickle"


def load(settings: Settings, out: Path) -> Note | None:
    """The last build's note, or None when missing or damaged."""
    data = read_sealed(_note_file(settings, out))
    if data is None or not data.startswith(_MAGIC):
        return None
    try:
        note = pickle.loads(data[len(_MAGIC) :])  # noqa: S301 - our own file, its digest checked, type checked below
    except DAMAGED:
        return None
    return note if isinstance(note, Note) else None


def save(settings: Settings, out: Path, note: Note | None) -> None:
    """Keep the note for the next build (None: forget the last one)."""
    path = _note_file(settings, out)
    if note is None:
        path.unlink(missing_ok=True)
        return
    write_sealed(path, _MAGIC + pickle.dumps(note, protocol=pickle.HIGHEST_PROTOCOL))


def take_note(
    context_digest: str,
    cases: tuple[Case, ...],
    problems: tuple[Problem, ...],
    signatures: dict[str, Signature | None],
    chosen: tuple[Case, ...],
    shown_whole: tuple[Case, ...],
    newest: list[str],
) -> Note | None:
    """The note of a build that loaded every case; None when a case links to files beside it
    (they may change without the case file changing) or a file gave no case."""
    if any(c.local_links or c.assets for c in cases) or len(cases) != len(signatures):
        return None
    own: dict[str, list[Problem]] = {}
    for problem in problems:
        own.setdefault(str(problem.path), []).append(problem)
    by_name = {str(c.source): c for c in cases}
    if by_name.keys() != signatures.keys() or own.keys() - by_name.keys():
        return None
    # In the order the files were read, so that warnings come out in the same order as a full build's.
    files = {name: (sig, by_name[name].face, tuple(own.get(name, ()))) for name, sig in signatures.items()}
    whole = frozenset(str(c.source) for c in shown_whole)
    return Note(
        context_digest,
        files,
        tuple(str(c.source) for c in chosen),
        whole,
        len(chosen),
        len(cases) - len(chosen),
        _pickled(tuple(c for c in chosen if str(c.source) in whole)) if len(whole) <= KEEP_WHOLE else None,
        tuple(newest),
    )


def _pickled(cases: tuple[Case, ...]) -> bytes:
    return pickle.dumps(cases, protocol=pickle.HIGHEST_PROTOCOL)


def _unpickled(data: bytes | None) -> tuple[Case, ...] | None:
    """The cases a note keeps; None when it keeps none or they are not cases (never trusted blindly)."""
    if data is None:
        return None
    try:
        cases = pickle.loads(data)  # noqa: S301 - our own note's, type checked below
    except DAMAGED:
        return None
    if not isinstance(cases, tuple) or not all(isinstance(case, Case) for case in cases):
        return None
    return cases


@dataclass
class Changed:
    """What a shortcut build loads: the changed published cases and their neighbours, and the note to leave."""

    cases: list[tuple[Case, Case | None, Case | None]]  # each case with its older and newer neighbour
    problems: tuple[Problem, ...]
    note: Note
    whole: tuple[Case, ...] | None  # the cases shown whole, newest first, when a changed one is among them


def changes(note: Note, settings: Settings, cases_dir: Path, strict: bool) -> Changed | None:
    """The changed cases when only their text changed; None when a full build is needed."""
    names = case_names(cases_dir)
    if len(names) != len(note.files) or not all(name in note.files for name in names):
        return None
    changed: dict[str, Signature | None] = {}
    for name in names:
        try:
            now = signature(os.stat(name))  # noqa: PTH116 - 10,000 files: strings are cheaper
        except OSError:
            return None
        if now is None or now != note.files[name][0]:
            changed[name] = now
    if len(changed) > MOST:
        return None
    loaded: dict[str, Case] = {}
    files = dict(note.files)
    for name, now in changed.items():
        problems: list[Problem] = []
        case = load_case(Path(name), settings, problems)
        if case is None or any(p.is_error for p in problems) or (strict and problems):
            return None
        if case.face != note.files[name][1] or str(case.source) != name:
            return None
        loaded[name] = case
        files[name] = (now, note.files[name][1], tuple(problems))
    position = {name: i for i, name in enumerate(note.order)}
    shown: list[tuple[Case, Case | None, Case | None]] = []
    for name, case in list(loaded.items()):  # neighbours join `loaded` as they are read
        if name not in position:
            continue  # a draft, or dated after today: on no page
        i = position[name]
        older = _neighbour(note.order, i + 1, loaded, settings)
        newer = _neighbour(note.order, i - 1, loaded, settings)
        shown.append((case, older, newer))
    every = tuple(p for entry in files.values() for p in entry[2])
    whole, blob = None, note.whole
    if any(name in note.shown_whole for name in changed):
        kept = _unpickled(note.whole)
        if kept is None:
            return None
        whole = tuple(loaded.get(str(case.source), case) for case in kept)
        blob = _pickled(whole)
    fresh = Note(note.context, files, note.order, note.shown_whole, note.cases, note.held_back, blob, note.newest)
    return Changed(shown, every, fresh, whole)


def _neighbour(order: tuple[str, ...], i: int, loaded: dict[str, Case], settings: Settings) -> Case | None:
    if i < 0 or i >= len(order):
        return None
    name = order[i]
    if name not in loaded:
        case = load_case(Path(name), settings, [])
        if case is None:
            raise Stale(name)
        loaded[name] = case
    return loaded[name]


def last_tree(out: Path, name: str, state: Path) -> OutputTree | None:
    """The output `name` as the last build left it, every file to be kept as it is; None if unknown."""
    keys = recorded(out, name, state)
    if keys is None:
        return None
    tree = OutputTree(name)
    for path, key in keys.items():
        tree.files[path] = _Kept(path)
        tree.keys[path] = key
    return tree


class _Kept:
    """A file to keep from the last build: asked to render, it says the build must be done in full."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self) -> bytes:
        raise Stale(self.path)
