"""Preflight of built leaflets, read back with pikepdf: what a print shop would send back.

Images below 300 dpi at their placed size, RGB images and RGB colours in a print file, text below
6 pt, and booklets whose page count is not a multiple of 4 (a folded booklet needs one)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from site_builder.problems import Problem
from site_builder.words import counted

# all.pdf, all.ru.pdf: a case's slug has no dot, so no leaflet is named like a booklet.
_BOOKLET = re.compile(r"all(\.[^.]+)?\.pdf")
MIN_DPI = 300
MIN_TEXT_PT = 6.0
Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
# Colour operators and how many operands mean RGB (three for sc/scn in an RGB space).
_RGB_OPERATORS = {"rg", "RG"}
_SPACE_OPERATORS = {"cs": False, "CS": True}
_COLOUR_OPERATORS = {"sc": False, "scn": False, "SC": True, "SCN": True}


def _times(m: Matrix, n: Matrix) -> Matrix:
    """m then n (PDF's row-vector order: a point is transformed by m first)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def _matrix(operands: Any) -> Matrix:
    a, b, c, d, e, f = (float(v) for v in operands)
    return (a, b, c, d, e, f)


def _is_rgb(space: Any, spaces: Any) -> bool:
    """True for DeviceRGB, CalRGB, a three-component ICC profile, or an indexed or named space over one."""
    import pikepdf

    if isinstance(space, pikepdf.Name) and spaces is not None and space in spaces:
        space = spaces[space]
    if isinstance(space, pikepdf.Name):
        return str(space) in ("/DeviceRGB", "/CalRGB", "/RGB")
    if isinstance(space, pikepdf.Array) and len(space) > 0:
        family = str(space[0])
        if family == "/ICCBased":
            return int(space[1].get("/N", 0)) == 3
        if family == "/CalRGB":
            return True
        if family == "/Indexed":
            return _is_rgb(space[1], spaces)
    return False


class _Reader:
    """Walks one PDF's pages and form XObjects, keeping the graphics state that sizes need."""

    def __init__(self, path: Path, print_shop: bool) -> None:
        self.path, self.print_shop = path, print_shop
        self.problems: list[Problem] = []
        self.smallest_text: tuple[float, int] | None = None
        self.rgb_colour_pages: set[int] = set()
        self.seen_images: set[tuple[int, int, int]] = set()

    def problem(self, page: int, message: str, expected: str) -> None:
        self.problems.append(Problem(self.path, None, f"page {page}", message, expected))

    def walk(self, holder: Any, page: int, ctm: Matrix, depth: int = 0) -> None:
        """Read a page's or a form's content stream with `ctm` as the transformation in force."""
        import pikepdf

        resources = holder.get("/Resources")
        spaces = resources.get("/ColorSpace") if resources is not None else None
        xobjects = resources.get("/XObject") if resources is not None else None
        stack: list[Matrix] = []
        text: Matrix = IDENTITY
        size = 0.0
        for instruction in pikepdf.parse_content_stream(holder):
            operands, op = instruction.operands, str(instruction.operator)
            if op == "q":
                stack.append(ctm)
            elif op == "Q":
                ctm = stack.pop() if stack else ctm
            elif op == "cm":
                ctm = _times(_matrix(operands), ctm)
            elif op == "BT":
                text = IDENTITY
            elif op == "Tm":
                text = _matrix(operands)
            elif op == "Tf":
                size = abs(float(operands[1]))
            elif op in ("Tj", "TJ", "'", '"'):
                self.text_shown(size, _times(text, ctm), page)
            elif op == "Do" and xobjects is not None and operands[0] in xobjects:
                self.placed(xobjects[operands[0]], page, ctm, depth)
            elif self.print_shop and (
                op in _RGB_OPERATORS
                or (op in _SPACE_OPERATORS and _is_rgb(operands[0], spaces))
                or (op in ("sc", "SC") and len(operands) == 3)
            ):
                self.rgb_colour_pages.add(page)

    def text_shown(self, size: float, matrix: Matrix, page: int) -> None:
        """Note the text's size on paper: its font size scaled by the text and page transformations."""
        shown = size * math.hypot(matrix[2], matrix[3])
        if shown > 0 and (self.smallest_text is None or shown < self.smallest_text[0]):
            self.smallest_text = (shown, page)

    def placed(self, xobject: Any, page: int, ctm: Matrix, depth: int) -> None:
        """An image's effective resolution where it is placed, or a form's own content."""
        subtype = str(xobject.get("/Subtype"))
        if subtype == "/Form" and depth < 16:
            inner = _matrix(xobject.get("/Matrix", list(IDENTITY)))
            self.walk(xobject, page, _times(inner, ctm), depth + 1)
            return
        if subtype != "/Image" or xobject.get("/ImageMask", False):
            return  # a stencil mask takes the colour it is painted with; checked as colour
        key = (page, *xobject.objgen)
        if key in self.seen_images:
            return
        self.seen_images.add(key)
        # An image fills the unit square: the page transformation's columns are its placed size in points.
        wide, high = math.hypot(ctm[0], ctm[1]), math.hypot(ctm[2], ctm[3])
        if wide <= 0 or high <= 0:
            return
        dpi = min(int(xobject.Width) / (wide / 72), int(xobject.Height) / (high / 72))
        if dpi < MIN_DPI:
            self.problem(
                page,
                f"an image of {int(xobject.Width)}x{int(xobject.Height)} pixels is placed at "
                f"{wide / 72 * 25.4:.0f}x{high / 72 * 25.4:.0f} mm, {dpi:.0f} dpi",
                f"print needs {MIN_DPI} dpi: use a larger image or show it smaller",
            )
        if self.print_shop and _is_rgb(xobject.get("/ColorSpace"), None):
            self.problem(
                page,
                "an RGB image in a print file",
                "convert it to CMYK (or greyscale) for the print shop's profile before adding it to the case",
            )


def check_pdf(path: Path, print_shop: bool) -> list[Problem]:
    """The problems of one leaflet or booklet."""
    import pikepdf

    reader = _Reader(path, print_shop)
    try:
        pdf = pikepdf.Pdf.open(path)
    except pikepdf.PdfError as exc:
        return [Problem(path, None, "PDF", f"cannot be read ({exc})", "build the leaflets again")]
    with pdf:
        for number, each in enumerate(pdf.pages, 1):
            reader.walk(each.obj, number, IDENTITY)
        pages = len(pdf.pages)
    if reader.smallest_text is not None and reader.smallest_text[0] < MIN_TEXT_PT - 0.05:
        shown, page = reader.smallest_text
        reader.problem(
            page,
            f"text set at {shown:.1f} pt",
            f"print needs {MIN_TEXT_PT:.0f} pt or more: make it larger in the theme (theme-overrides/leaflet/)",
        )
    for page in sorted(reader.rgb_colour_pages)[:1]:
        reader.problem(
            page,
            f"RGB colour in a print file ({counted(len(reader.rgb_colour_pages), 'page', 'pages')})",
            "give every colour of the leaflet theme as device-cmyk()",
        )
    if print_shop and _BOOKLET.fullmatch(path.name) and pages % 4:
        reader.problems.append(
            Problem(
                path,
                None,
                "booklet",
                f"{pages} pages, not a multiple of 4",
                "a folded booklet needs a multiple of 4: add blank pages before its back page",
            )
        )
    return reader.problems


def leaflet_files(folder: Path) -> Iterator[Path]:
    """The leaflets and booklets in a leaflets folder, in name order."""
    yield from sorted(folder.glob("*.pdf"))


def preflight(folder: Path, print_shop: bool) -> list[Problem]:
    """Every problem of every PDF in `folder` (OUT/leaflets)."""
    return [problem for path in leaflet_files(folder) for problem in check_pdf(path, print_shop)]
