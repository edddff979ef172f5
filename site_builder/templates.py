"""The Jinja environment: the user's override folder first, then the built-in theme."""

from __future__ import annotations

from pathlib import Path

import jinja2

from site_builder.config import Settings

_PACKAGE = Path(__file__).resolve().parent


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


def environment(settings: Settings, part: str) -> jinja2.Environment:
    """A strict, autoescaping Jinja environment for one part of the theme."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in theme_folders(settings, part)]),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


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
