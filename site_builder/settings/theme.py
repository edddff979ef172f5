"""The Jinja environment: the user's override folder first, then the built-in theme."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path

import jinja2
import jinja2.bccache
import jinja2.meta

from site_builder.build.sealed import read_sealed, write_sealed
from site_builder.problems import ThemeError
from site_builder.settings.config import Settings
from site_builder.settings.contact import ways_to_complain

_PACKAGE = Path(__file__).resolve().parent.parent  # site_builder/


def theme_error(exc: jinja2.TemplateError, fallback: str) -> ThemeError:
    """A template failure as a ThemeError naming the template file and line."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return ThemeError(f"{exc.filename}:{exc.lineno}: {exc.message}")
    where = None
    tb = exc.__traceback__
    while tb is not None:  # Jinja puts template lines into the traceback
        filename = tb.tb_frame.f_code.co_filename
        if not filename.endswith(".py") and not filename.startswith("<"):
            where = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return ThemeError(f"{where or fallback}: {exc.message}")


def theme_root() -> Path:
    """The built-in theme: inside the installed package, or beside it in a checkout."""
    for candidate in (_PACKAGE / "theme", _PACKAGE.parent / "theme"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the built-in theme folder is missing from this installation")


def theme_folders(settings: Settings, part: str) -> list[Path]:
    """Where to look for `part` (site, email, leaflet) files, most specific first."""
    folders = [settings.theme_override / part, theme_root() / part]
    return [f for f in folders if f.is_dir()]


def _bytecode_folder(settings: Settings) -> Path:
    folder = settings.cache_dir / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class SealedBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's compiled templates in files, sealed: a damaged file is compiled again, since
    `marshal` given bytes it did not write may crash the interpreter rather than raise."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Fill `bucket` from its file when the file is whole (Jinja then checks it against the source)."""
        data = read_sealed(Path(self._get_cache_filename(bucket)))
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Store `bucket`'s code, sealed, atomically."""
        write_sealed(Path(self._get_cache_filename(bucket)), bucket.bytecode_to_string())


def environment(settings: Settings, part: str) -> jinja2.Environment:
    """A strict, autoescaping Jinja environment for one part of the theme."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in theme_folders(settings, part)]),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one environment per build: no need to stat three templates for every page
        # Compiled templates kept between builds (Jinja checks each against its source): parsing
        # them again costs a small rebuild 50 ms. Not the email's: `send` writes nothing else.
        bytecode_cache=SealedBytecodeCache(str(_bytecode_folder(settings))) if part != "email" else None,
    )
    # Every part's invitation to complain (its _invite template) lists the same ways, in the same order.
    env.globals["ways_to_complain"] = ways_to_complain
    return env


def theme_fingerprint(settings: Settings, part: str) -> str:
    """A digest of every template and static file of a theme part, overrides included."""
    digest = hashlib.blake2b(digest_size=20)
    for folder in theme_folders(settings, part):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def static_files(settings: Settings, part: str) -> dict[str, Path]:
    """Static files of a theme part by relative name; an override replaces the built-in file."""
    files: dict[str, Path] = {}
    for folder in reversed(theme_folders(settings, part)):
        static = folder / "static"
        if static.is_dir():
            for path in sorted(static.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    files[path.relative_to(static).as_posix()] = path
    return files


class TemplateDigests:
    """A template's digest, with those of the templates it extends, includes and imports: what a
    page made from it depends on in the theme. A page is made again when one of these changes,
    not when any other file of the theme does (a new stats page leaves 10,000 case pages alone)."""

    def __init__(self, env: jinja2.Environment, whole_theme: Callable[[], str]) -> None:
        self.env, self.whole_theme = env, functools.cache(whole_theme)
        self.known: dict[str, str] = {}
        self.parsed: dict[str, tuple[str, list[str | None]] | None] = {}  # base.html is used by them all: parsed once

    def __call__(self, name: str) -> str:
        """The digest of template `name` and everything it uses."""
        if name not in self.known:
            self.known[name] = self._digest(name, frozenset())
        return self.known[name]

    def _digest(self, name: str, seen: frozenset[str]) -> str:
        digest = hashlib.blake2b(name.encode() + b"\0", digest_size=20)
        parsed = self._parse(name)
        if parsed is None:
            # Missing or broken: rendering will say so; until it is mended, any theme change counts.
            digest.update(self.whole_theme().encode())
            return digest.hexdigest()
        source, used = parsed
        digest.update(source.encode())
        for other in used:
            if other is None:  # a template chosen at run time: it could be any of them
                digest.update(self.whole_theme().encode())
            elif other not in seen:
                digest.update(self._digest(other, seen | {name}).encode())
        return digest.hexdigest()

    def _parse(self, name: str) -> tuple[str, list[str | None]] | None:
        """A template's source and the templates it names (None: one chosen at run time); None if unreadable."""
        if name not in self.parsed:
            assert self.env.loader is not None
            try:
                source = self.env.loader.get_source(self.env, name)[0]
                used = jinja2.meta.find_referenced_templates(self.env.parse(source))
                self.parsed[name] = (source, sorted(used, key=lambda other: other or ""))
            except jinja2.TemplateError:
                self.parsed[name] = None
        return self.parsed[name]
