"""Files a case links to by name: published beside its page only when they are pictures or PDFs by
their first bytes, under a name that says so and that no page of the build takes. Anything else
served from the site's own address (SVG, HTML, or HTML named photo.png) could run scripts there."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from site_builder.cases.embeds import line_of
from site_builder.problems import Problem

HEAD = 32  # bytes read of each linked file: enough for every signature below
_SUFFIXES = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".gif": "gif",
    ".webp": "webp",
    ".avif": "avif",
    ".pdf": "pdf",
}
_NAMES = {
    "png": "a PNG picture",
    "jpeg": "a JPEG picture",
    "gif": "a GIF picture",
    "webp": "a WebP picture",
    "avif": "an AVIF picture",
    "pdf": "a PDF",
}
_BEST_SUFFIX = {"png": ".png", "jpeg": ".jpg", "gif": ".gif", "webp": ".webp", "avif": ".avif", "pdf": ".pdf"}
# Files a browser runs scripts in when they come from the site itself.
_SCRIPTED = {
    ".svg": "SVG",
    ".svgz": "SVG",
    ".html": "HTML",
    ".htm": "HTML",
    ".xhtml": "HTML",
    ".xht": "HTML",
    ".shtml": "HTML",
    ".mht": "HTML",
    ".mhtml": "HTML",
    ".xml": "XML",
    ".xsl": "XML",
    ".js": "JavaScript",
    ".mjs": "JavaScript",
}
# Names the build gives files of its own in a case's folder of the site.
TAKEN = frozenset({"index.html"})
ALLOWED = "PNG, JPEG, GIF, WebP and AVIF pictures and PDFs"


def kind(head: bytes) -> str | None:
    """What the first bytes of a file say it is: png, jpeg, gif, webp, avif, pdf, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        # An ISO media file: AVIF by its major brand, or by a compatible brand in what was read.
        end = min(int.from_bytes(head[:4], "big"), len(head))
        brands = [head[8:12], *(head[i : i + 4] for i in range(16, end - 3, 4))]
        if b"avif" in brands or b"avis" in brands:
            return "avif"
        return None
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None


def _looks_like(head: bytes) -> str:
    """What a refused file's first bytes look like, for the message."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<svg", b"<?xml")):
        return "they look like SVG or XML"
    if text.startswith(b"<"):
        return "they look like HTML"
    found = kind(head)
    if found:
        return f"it is {_NAMES[found]}"
    return "they are not those of any picture or PDF"


def _problem(path: Path, line: int | None, message: str, expected: str) -> Problem:
    return Problem(path, line, "body", message, expected)


def linked_files(
    path: Path, links: Sequence[str], lines: Sequence[str], body_line: int
) -> tuple[tuple[tuple[str, Path], ...], list[Problem], set[str]]:
    """The files to publish beside the case's page (name, source), an error for each linked file
    refused, and the links answered (refused, or unreadable), which need no other warning."""
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    answered: set[str] = set()
    if not links:
        return (), problems, answered  # most cases: no file system calls at all
    folder = path.parent.resolve()
    for target in dict.fromkeys(links):
        source = path.parent / target
        try:
            info = os.stat(source)  # noqa: PTH116 - one call, and its errno tells a loop from a gap
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG):
                continue  # not there: the review warns
            answered.add(target)
            why = "it is a symbolic link that loops" if exc.errno == errno.ELOOP else (exc.strerror or str(exc)).lower()
            problems.append(_problem(path, _line(lines, body_line, target), f"links to {target}, which cannot be "
                                     f"read: {why}", "fix the link or the file"))  # fmt: skip
            continue
        if not stat.S_ISREG(info.st_mode):
            continue  # a folder or a device: not a file to publish; the review says it is not there
        answered.add(target)
        refusal = _refusal(source, target, folder)
        if refusal:
            problems.append(_problem(path, _line(lines, body_line, target), *refusal))
        else:
            found[PurePosixPath(target).as_posix()] = source.resolve()
    return tuple(sorted(found.items())), problems, answered


def _refusal(source: Path, target: str, folder: Path) -> tuple[str, str] | None:
    """Why a linked regular file is not published (message, what to do), or None to publish it."""
    name = PurePosixPath(target)
    beside = "put it in the case's folder (or a folder in it) and link it by name"
    if ".." in name.parts or not source.resolve().is_relative_to(folder):
        return f"links to {target}, which is outside the case's folder, so it is not published", beside
    if name.parts[0].lower() in TAKEN:
        return (f"links to {target}, which would take the place of the case's own page",
                "rename the file and the link")  # fmt: skip
    suffix = name.suffix.lower()
    if suffix in _SCRIPTED:
        what = _SCRIPTED[suffix]
        return (f"links to {target}: {what} files can run scripts on the site, so they are not published",
                "export it as PNG, or link it by its https:// address on another site")  # fmt: skip
    expected = _SUFFIXES.get(suffix)
    if expected is None:
        return (f"links to {target}, which is not a picture or a PDF, so it is not published",
                f"only {ALLOWED} are published beside a case; link other files by their https:// address")  # fmt: skip
    try:
        with source.open("rb") as file:
            head = file.read(HEAD)
    except OSError as exc:
        return f"links to {target}, which cannot be read: {(exc.strerror or str(exc)).lower()}", "fix the file"
    actual = kind(head)
    if actual == expected:
        return None
    if actual is not None:
        return (f"links to {target}, which is not {_NAMES[expected]}: {_looks_like(head)}",
                f"rename it to {name.stem}{_BEST_SUFFIX[actual]}, and the link")  # fmt: skip
    return (f"links to {target}, which is not {_NAMES[expected]} by its first bytes: {_looks_like(head)}",
            f"save it again as {_NAMES[expected]}")  # fmt: skip


def _line(lines: Sequence[str], body_line: int, target: str) -> int | None:
    """The line of the body that links to `target`, as written or as a URL would spell it."""
    return line_of(lines, body_line, len(lines), (target, quote(target), target.replace(" ", "%20")))
