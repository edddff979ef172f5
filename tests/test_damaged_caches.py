"""A damaged cache is a cache miss: whatever byte of whatever file under .site-builder/cache/ is
flipped or cut off, the next build succeeds and its output equals a clean build's byte for byte.

The writer's manifests are damaged in a test of their own (they name the output folder they
describe); its spare folders are outputs, not caches: `test_commit.py` covers them.
"""

from __future__ import annotations

import marshal
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest

from site_builder.build.sealed import unseal
from site_builder.settings.theme import SealedBytecodeCache
from tests.conftest import ROOT, SAMPLE_CASES
from tests.test_incremental import _without_index

# Site, digest and leaflets; a period holding two of the sample cases, so the feed, the digest and
# the booklet show cases whole and the note keeps them. One job: the layouts are few, and forking
# workers that import WeasyPrint costs more than it saves here.
BUILD = ("build", "--now", "2026-11-20", "--since", "2026-10-01", "--until", "2026-11-20", "--jobs", "1")
EDITED = "cases/ru/taksi-otchet-posle-nizkoy-otsenki.md"  # in the period: shown whole
EDIT = "\nOne more line.\n"  # the text alone changed: the shortcut's kind of edit

Damage = Callable[[bytes], bytes]


def _flip(at: Callable[[int], int]) -> Damage:
    def damage(data: bytes) -> bytes:
        i = at(len(data))
        return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]

    return damage


DAMAGES: dict[str, Damage] = {
    "start": _flip(lambda n: 0),
    "middle": _flip(lambda n: n // 2),
    "end": _flip(lambda n: n - 1),
    "truncated": lambda data: data[: len(data) // 2],
}


def kind(name: str) -> str:
    """Which cache a file under .site-builder/cache/ belongs to (its path relative to that folder)."""
    if name == "cases.pickle":
        return "cases"
    if name == "cases.journal":
        return "journal"
    if name.startswith("shortcut-") and name.endswith(".pickle"):
        return "note"
    if name.startswith("templates/"):
        return "templates"
    if name in ("leaflets/.pruned", "cards/.pruned"):
        return "stamp"  # empty: only its mtime is read
    if name.startswith("leaflets/"):
        return "leaflets"
    if name.startswith("cards/"):
        return "cards"  # the social cards (website/cards.py)
    if name.startswith("sent/"):
        return "sent"  # the digests sent as last read from the ledger; this project has none (test_archive.py)
    if name == "build.lock":
        return "lock"  # who holds the build lock, for a message: any bytes are fine
    if name.startswith("spare/") or (name.startswith("manifest-") and name.endswith(".json")):
        return "writer"
    raise AssertionError(f"a cache file this test does not know: {name}")


def site_builder(project: Path) -> None:
    """Build in `project` in a process of its own (a crash in marshal or pikepdf must not take the
    tests with it); the build must succeed without a traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "site_builder", *BUILD],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output, output


def new_project(folder: Path, cases: Path = SAMPLE_CASES) -> Path:
    """A project in `folder` holding a copy of `cases` and the repository's site.toml."""
    shutil.copytree(cases, folder / "cases")
    shutil.copy(ROOT / "site.toml", folder / "site.toml")
    return folder


def append(path: Path, text: str) -> None:
    """Add `text` to the end of a case file (its last section)."""
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project built, then built in full again with one case edited: every kind of
    cache file is there, the journal (holding the edited case) too."""
    project = new_project(tmp_path_factory.mktemp("warm"))
    site_builder(project)
    append(project / EDITED, EDIT)
    for note in project.glob(".site-builder/cache/shortcut-*.pickle"):
        note.unlink()  # a full build, which keeps the edited case in the journal
    site_builder(project)
    assert (project / ".site-builder/cache/cases.journal").is_file()
    return project


@pytest.fixture(scope="module")
def cache_files(warm: Path) -> dict[str, list[str]]:
    """Every file under the warm project's cache folder by kind, the writer's left out."""
    cache = warm / ".site-builder/cache"
    found: dict[str, list[str]] = {}
    for path in sorted(cache.rglob("*")):
        if path.is_file():
            name = path.relative_to(cache).as_posix()
            found.setdefault(kind(name), []).append(name)
    found.pop("writer")
    found.pop("lock")
    return found


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A clean build's output (Pagefind's files left out) of the sample cases with the edit."""
    project = new_project(tmp_path_factory.mktemp("clean"))
    append(project / EDITED, EDIT)
    site_builder(project)
    return _without_index(project / "dist")


def damaged_project(folder: Path, warm: Path, cases: Path) -> Path:
    """A project holding `cases` and the warm project's caches (not the writer's, which name the
    warm project's output folder, nor the note, which names it too)."""
    project = new_project(folder, cases)
    cache = project / ".site-builder/cache"
    shutil.copytree(warm / ".site-builder/cache", cache)
    shutil.rmtree(cache / "spare")
    for path in [*cache.glob("manifest-*.json"), *cache.glob("shortcut-*.pickle")]:
        path.unlink()
    return project


def damage(project: Path, names: list[str], how: str) -> None:
    """Damage each of `names` under the project's cache folder."""
    for name in names:
        path = project / ".site-builder/cache" / name
        path.write_bytes(DAMAGES[how](path.read_bytes()))


def test_every_kind_of_cache_file_is_known(warm: Path, cache_files: dict[str, list[str]]) -> None:
    """The tests below damage every kind (a new kind of cache file fails `kind` until it is added)."""
    assert sorted(cache_files) == ["cards", "cases", "journal", "leaflets", "note", "stamp", "templates"]
    # Prune's once-a-day stamp: empty, only its mtime is read, so there is no byte to damage.
    assert cache_files["stamp"] == ["cards/.pruned", "leaflets/.pruned"]
    assert (warm / ".site-builder/cache/leaflets/.pruned").stat().st_size == 0


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("what", ["cases", "journal", "templates", "leaflets", "cards"])
def test_a_damaged_cache_file_is_made_again(
    tmp_path: Path, warm: Path, cache_files: dict[str, list[str]], clean: dict[str, bytes], what: str, how: str
) -> None:
    project = damaged_project(tmp_path, warm, warm / "cases")
    names = cache_files[what]
    if what in ("leaflets", "cards"):
        # Each leaflet (card) damaged one way, a quarter of them each time: every file and every way
        # covered over the four runs, without laying out every leaflet four times.
        names = names[list(DAMAGES).index(how) :: len(DAMAGES)]
    damage(project, names, how)
    site_builder(project)  # no note for this output folder: a full build, which reads every cache
    assert _without_index(project / "dist") == clean


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_note_is_made_again(tmp_path: Path, warm: Path, clean: dict[str, bytes], how: str) -> None:
    project = damaged_project(tmp_path, warm, SAMPLE_CASES)
    site_builder(project)  # leaves the note of this project's output folder
    [note] = project.glob(".site-builder/cache/shortcut-*.pickle")
    damage(project, [note.name], how)
    # Only the text of a case shown whole changed: a build that trusts the note takes its
    # neighbours, the published order and the cases shown whole from it.
    append(project / EDITED, EDIT)
    site_builder(project)
    assert _without_index(project / "dist") == clean


def test_a_damaged_compiled_template_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "theme").mkdir()
    (tmp_path / "theme/page.html").write_text("{% for i in items %}<{{ i }}>{% endfor %}", encoding="utf-8")
    folder = tmp_path / "compiled"
    folder.mkdir()
    loads: list[object] = []
    real = marshal.load

    def counting(file: object) -> object:
        loads.append(file)
        return real(file)  # type: ignore[arg-type]

    monkeypatch.setattr(marshal, "load", counting)

    def render() -> str:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(tmp_path / "theme")), bytecode_cache=SealedBytecodeCache(str(folder))
        )
        return env.get_template("page.html").render(items=[1, 2])

    assert render() == "<1><2>"
    [stored] = folder.iterdir()
    whole = stored.read_bytes()
    assert unseal(whole) is not None
    assert render() == "<1><2>" and len(loads) == 1, "a whole file is used"
    for how, damaged in DAMAGES.items():
        stored.write_bytes(damaged(whole))
        loads.clear()
        assert render() == "<1><2>", how
        assert loads == [], f"{how}: marshal was handed damaged bytes"
        assert unseal(stored.read_bytes()) is not None, f"{how}: compiled and stored again"


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_manifest_is_a_miss(tmp_path: Path, warm: Path, clean: dict[str, bytes], how: str) -> None:
    project = damaged_project(tmp_path, warm, SAMPLE_CASES)
    site_builder(project)  # the manifests of this project's output folders, and its note
    manifests = sorted(p.name for p in (project / ".site-builder/cache").glob("manifest-*.json"))
    assert len(manifests) == 6  # live and spare, for the site, the digest and the leaflets
    damage(project, manifests, how)
    append(project / EDITED, EDIT)
    site_builder(project)
    assert _without_index(project / "dist") == clean
