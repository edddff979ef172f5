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

import dataclasses
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from site_builder import __version__
from site_builder.build.artifacts import OutputTree
from site_builder.build.case_cache import DAMAGED, Signature, signature
from site_builder.build.keys import key
from site_builder.build.manifest import folder_tag
from site_builder.build.sealed import read_sealed, write_sealed
from site_builder.build.writer import recorded
from site_builder.cases.load import MAX_BYTES, case_names, decoded, load_case, text_digest
from site_builder.cases.model import Case
from site_builder.problems import Problem
from site_builder.settings.config import Settings

if TYPE_CHECKING:
    from site_builder.build.outputs import Output
    from site_builder.build.request import BuildRequest

# 10: responded; 9: languages, for neighbours (8: pictures from other sites, 7: context)
_MAGIC = b"site-builder shortcut 10\n"
MOST = 50  # more changed files than this: a full build is as quick and simpler
KEEP_WHOLE = 2000  # more cases shown whole (a digest of years): the note does not keep them, a full build is as quick


class Stale(Exception):
    """A file the last build wrote is not there as recorded: the build must be done in full."""


@dataclass(frozen=True)
class Note:
    """What the last build saw and made, for the next one to compare with."""

    context: dict[str, str]  # what the output depends on besides the case files, part by part
    files: dict[str, tuple[Signature | None, str, tuple[Problem, ...], str]]  # signature, face, problems, digest
    order: tuple[str, ...]  # the published case files, newest first
    languages: tuple[str, ...]  # the language of each, in that order (neighbours share the language)
    shown_whole: frozenset[str]  # in the feed, the digest's period or the booklet
    cases: int
    held_back: int
    whole: bytes | None  # those cases, newest first, pickled (unpickled only by a build that needs them)
    remembered: dict[str, tuple[str, ...]]  # what each output asked to keep (the site: its newest pages)


def context(request: BuildRequest, outputs: tuple[Output, ...]) -> dict[str, str]:
    """What a build's output depends on besides the case files, by part, each part a digest."""
    parts = {
        "the tool's version": key(__version__, os.environ.get("SOURCE_DATE_EPOCH", "")),
        "the cases folder": str(request.cases_dir.resolve()),
        "the outputs asked for": key(*(o.name for o in outputs)),
        "drafts": key(request.drafts),
        "today's date": request.today.isoformat(),  # a case dated today may be due
    }
    for output in outputs:
        parts[f"what the {output.name} shows (settings, theme, options)"] = output.shows(request)
    return parts


def plan(note: Note | None, parts: dict[str, str], request: BuildRequest) -> tuple[Changed | None, str]:
    """The changed cases, when a build from the note can do, with why; else None, with why not."""
    if note is None:
        return None, "full: no note from the last build of this output folder"
    differ = [name for name in parts if note.context.get(name) != parts[name]]
    if differ or note.context.keys() != parts.keys():
        return None, f"full: {', '.join(differ) or 'the outputs asked for'} changed"
    try:
        found = changes(note, request.settings, request.cases_dir, request.strict)
    except (Stale, OSError):  # a file gone between looking and reading, the folder gone...
        return None, "full: a case file changed while it was read"
    if isinstance(found, str):
        return None, f"full: {found}"
    if request.strict and found.problems:
        return None, "full: --strict, and there are warnings"
    if not found.changed:
        return found, "from the last build: nothing changed"
    return found, f"from the last build: only the text of {_count(found.changed, 'case')} changed"


def _count(number: int, what: str) -> str:
    return f"{number} {what}" if number == 1 else f"{number} {what}s"


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
    context: dict[str, str],
    cases: tuple[Case, ...],
    problems: tuple[Problem, ...],
    signatures: dict[str, Signature | None],
    chosen: tuple[Case, ...],
    shown_whole: tuple[Case, ...],
    remembered: dict[str, tuple[str, ...]],
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
    files = {
        name: (sig, by_name[name].face, tuple(own.get(name, ())), by_name[name].digest)
        for name, sig in signatures.items()
    }
    whole = frozenset(str(c.source) for c in shown_whole)
    return Note(
        context,
        files,
        tuple(str(c.source) for c in chosen),
        tuple(c.language for c in chosen),
        whole,
        len(chosen),
        len(cases) - len(chosen),
        _pickled(tuple(c for c in chosen if str(c.source) in whole)) if len(whole) <= KEEP_WHOLE else None,
        remembered,
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
    changed: int  # case files whose text changed (a file only touched is hashed, not counted)


def changes(note: Note, settings: Settings, cases_dir: Path, strict: bool) -> Changed | str:
    """The changed cases when only their text changed; else why the build must be done in full."""
    names = case_names(cases_dir)
    if len(names) != len(note.files) or not all(name in note.files for name in names):
        return "case files were added, removed or renamed"
    changed: dict[str, Signature | None] = {}
    for name in names:
        try:
            now = signature(os.stat(name))  # noqa: PTH116 - 10,000 files: strings are cheaper
        except OSError:
            return f"{name} could not be read"
        if now is None or now != note.files[name][0]:
            changed[name] = now
    files = dict(note.files)
    # A fresh clone with the cache restored (CI) gives every file a new mtime and inode: a file
    # whose text is as recorded is only hashed, not parsed, and the note takes its new signature.
    for name in list(changed):
        if _same_text(name, note.files[name][3]):
            files[name] = (changed.pop(name), *note.files[name][1:])
    if len(changed) > MOST:
        return f"more than {MOST} case files changed"
    loaded: dict[str, Case] = {}
    for name, now in changed.items():
        problems: list[Problem] = []
        case = load_case(Path(name), settings, problems)
        if case is None or any(p.is_error for p in problems) or (strict and problems):
            return f"{name} has problems"
        if case.face != note.files[name][1] or str(case.source) != name:
            return f"{name}: more than its text changed (a field other pages show)"
        loaded[name] = case
        files[name] = (now, note.files[name][1], tuple(problems), case.digest)
    position = {name: i for i, name in enumerate(note.order)}
    shown: list[tuple[Case, Case | None, Case | None]] = []
    for name, case in list(loaded.items()):  # neighbours join `loaded` as they are read
        if name not in position:
            continue  # a draft, or dated after today: on no page
        i = position[name]
        older = _neighbour(note, i, 1, loaded, settings)
        newer = _neighbour(note, i, -1, loaded, settings)
        shown.append((case, older, newer))
    every = tuple(p for entry in files.values() for p in entry[2])
    whole, blob = None, note.whole
    if any(name in note.shown_whole for name in changed):
        kept = _unpickled(note.whole)
        if kept is None:
            return "an edited case is shown whole (feed, digest, booklet) and the note does not keep those cases"
        whole = tuple(loaded.get(str(case.source), case) for case in kept)
        blob = _pickled(whole)
    fresh = dataclasses.replace(note, files=files, whole=blob)
    edited = sum(1 for name, case in loaded.items() if name in changed and case.digest != note.files[name][3])
    return Changed(shown, every, fresh, whole, edited)


def _same_text(name: str, digest: str) -> bool:
    """True when the file at `name` still holds the text whose digest the note recorded."""
    try:
        with open(name, "rb") as file:  # noqa: PTH123 - as os.stat above
            text = decoded(file.read(MAX_BYTES + 1))
    except (OSError, UnicodeDecodeError):
        return False
    return text_digest(Path(name), text) == digest


def _neighbour(note: Note, at: int, step: int, loaded: dict[str, Case], settings: Settings) -> Case | None:
    """The nearest published case before (step -1) or after (+1) the one at `at` in its language."""
    i = at + step
    while 0 <= i < len(note.order) and note.languages[i] != note.languages[at]:
        i += step
    if i < 0 or i >= len(note.order):
        return None
    name = note.order[i]
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
    for path, made_by in keys.items():
        tree.files[path] = _Kept(path)
        tree.keys[path] = made_by
    return tree


class _Kept:
    """A file to keep from the last build: asked to render, it says the build must be done in full."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self) -> bytes:
        raise Stale(self.path)
