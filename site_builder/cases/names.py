"""URL names: how a tag or industry becomes one, the names the build keeps for itself, and two
different tags (or industries) that would share one page."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from slugify import slugify

from site_builder.cases.model import Case
from site_builder.problems import Problem

# The booklet is OUT/leaflets/all.pdf beside each case's <slug>.pdf: a case whose slug is `all`
# would overwrite it (or be overwritten). The name stays, since sites link to it; the slug goes. The
# other languages' booklets are all.<language>.pdf: a slug holds no dot, so none can take those.
BOOKLET = "all"
RESERVED = {BOOKLET: f"the booklet's name (leaflets/{BOOKLET}.pdf)"}
OWN_SLUG = "set 'slug:' to another name, or rename the file"
# Where each kind of name becomes a page of the site.
FOLDERS = {"tags": "tags", "industry": "industries"}


def booklet_file(language: str, site_language: str) -> str:
    """The file of a language's booklet, as the leaflets write it and the site links it: all.pdf for
    the site's language, all.<language>.pdf for any other (a slug holds no dot: no case can take it)."""
    return f"{BOOKLET}.pdf" if language == site_language else f"{BOOKLET}.{language}.pdf"


def url_name(text: str) -> str:
    """URL name of a tag or industry (transliterated, lowercase, hyphens)."""
    return str(slugify(text))


def reserved(slug: str) -> str | None:
    """What the build makes under `slug` itself, or None when a case may take it."""
    return RESERVED.get(slug)


def collisions(cases: Iterable[Case]) -> list[Problem]:
    """An error for each spelling of a tag or industry whose page another spelling already has, in
    the order the cases were read. Spellings that differ only in capitals are one name and share the
    page as before (Billing and billing)."""
    uses = [(field, name, c.source) for c in cases for field, name in _url_names(c)]
    first: dict[tuple[str, str], tuple[str, Path]] = {}  # (field, URL name) -> first spelling, its file
    told: set[tuple[str, str]] = set()
    found: list[Problem] = []
    for field, name, path in uses:
        url = url_name(name)
        seen = first.setdefault((field, url), (name, path))
        if seen[0].casefold() == name.casefold() or (field, name.casefold()) in told:
            continue
        told.add((field, name.casefold()))
        other, where = seen
        line = _field_line(where, field)
        at = f"{where}:{line}" if line else f"{where}"
        kind = "tag" if field == "tags" else "industry"
        found.append(
            Problem(
                path,
                _field_line(path, field),
                field,
                f"{kind} {name!r} has the same page ({FOLDERS[field]}/{url}/) as {other!r} in {at}",
                f"spell the two the same way if they are one {kind}, or rename one so each has its own page",
            )
        )
    return found


def _url_names(case: Case) -> list[tuple[str, str]]:
    return [("tags", tag) for tag in case.tags] + ([("industry", case.industry)] if case.industry else [])


def _field_line(path: Path, field: str) -> int | None:
    """The line of a field of a case that loaded (read again: only to report a problem)."""
    from site_builder.cases.frontmatter import parse  # YAML: only when there is something to report

    try:
        parsed = parse(path, path.read_bytes().decode("utf-8").removeprefix("\ufeff"))
    except (OSError, UnicodeDecodeError):
        return None
    return None if isinstance(parsed, Problem) else parsed.lines.get(field)
