"""The booklet joined from layouts made once and cached, with pikepdf: page numbers stamped, page
labels, bookmarks, one structure tree, a font subset tag per font program, padding to a multiple of
4 pages, and the 2-up saddle-stitch imposition.

Laying out one 100-case document per edit takes a minute; joining cached parts takes a fraction of a
second, so an edit of the newest case rebuilds its leaflet and the booklet in about the time of its
own layout. What a single layout would give for free (continuous numbers, one tree) is made here."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pikepdf

from site_builder.leaflets.pdf import carry_metadata, share_profile

# The footer's text in the palette layout (numbers.html): every sign a page number needs, none at an edge.
PALETTE = "0 /123456789"
_STAMP = pikepdf.Name("/SbPageNumber")
# Kept from the palette's page: the graphics state and the text, not its tags or crop marks.
_KEPT = {"q", "Q", "cm", "gs", "rg", "RG", "g", "G", "k", "K", "cs", "CS", "sc", "scn", "BT", "ET", "Tm", "Tf", "TJ"}


@dataclass(frozen=True, slots=True)
class Part:
    """One laid-out piece of the booklet: its PDF (open: it was opened to count its pages), its
    bookmark title (none for the cover, notes and closing pages) and its language."""

    pdf: pikepdf.Pdf
    language: str
    bookmark: str | None = None


def opened(data: bytes) -> pikepdf.Pdf:
    """A PDF read from bytes (its objects are read when used)."""
    return pikepdf.open(io.BytesIO(data))


def page_count(data: bytes) -> int:
    """How many pages a PDF has."""
    with opened(data) as pdf:
        return len(pdf.pages)


class Palette:
    """The footer of numbers.html, read once: the font, glyph codes and widths, where the text ends."""

    def __init__(self, data: bytes) -> None:
        self.pdf = pikepdf.open(io.BytesIO(data))
        page = self.pdf.pages[0]
        self.box = page.mediabox
        self.resources = page.obj.Resources
        ops = [
            (list(i.operands), str(i.operator))
            for i in pikepdf.parse_content_stream(page)
            if isinstance(i, pikepdf.ContentStreamInstruction)
        ]
        self.ops = [(operands, op) for operands, op in ops if op in _KEPT]
        shows = [i for i, (_, op) in enumerate(self.ops) if op == "TJ"]
        if len(shows) != 1:
            raise ValueError(f"the page-number palette has {len(shows)} runs of text, not one")
        self.show = shows[0]
        self.matrix = max(i for i, (_, op) in enumerate(self.ops[: self.show]) if op == "Tm")
        font_name, size = next(o for o, op in reversed(self.ops[: self.show]) if op == "Tf")
        self.size = float(size)
        font = self.resources.Font[str(font_name)]
        codes = b"".join(bytes(x) for x in self.ops[self.show][0][0] if isinstance(x, pikepdf.String))
        glyphs = [codes[i : i + 2] for i in range(0, len(codes), 2)]
        if len(glyphs) != len(PALETTE):
            raise ValueError("the page-number palette's glyphs do not match its text")
        self.codes = dict(zip(PALETTE, glyphs, strict=True))
        self.widths = _widths(font)
        kerning = sum(float(x) for x in self.ops[self.show][0][0] if not isinstance(x, pikepdf.String))
        x0 = float(self.ops[self.matrix][0][4])
        self.right = x0 + self.width(PALETTE) - kerning / 1000 * self.size

    def width(self, label: str) -> float:
        """The advance of `label` in text space."""
        return sum(self.widths.get(int.from_bytes(self.codes[c], "big"), 1000.0) for c in label) / 1000 * self.size

    def content(self, label: str) -> bytes:
        """The palette page's drawing of `label`, right-aligned where the palette's text ended."""
        ops: list[tuple[list[Any], str]] = [(list(operands), op) for operands, op in self.ops]
        matrix = ops[self.matrix][0]
        matrix[4] = Decimal(f"{self.right - self.width(label):.4f}")
        # A string per glyph, as WeasyPrint writes them: poppler reads a space inside one string as none.
        glyphs: list[Any] = []
        for c in label:
            glyphs += [pikepdf.String(self.codes[c]), 0]
        ops[self.show] = ([pikepdf.Array(glyphs[:-1])], "TJ")
        return pikepdf.unparse_content_stream([(operands, pikepdf.Operator(op)) for operands, op in ops])


def _widths(font: Any) -> dict[int, float]:
    """Glyph widths of a Type0 font's descendant (its /W array)."""
    widths: dict[int, float] = {}
    descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
    w = list(descendant.get("/W", []))
    i = 0
    while i < len(w):
        first = int(w[i])
        if isinstance(w[i + 1], pikepdf.Array):
            for n, value in enumerate(w[i + 1]):
                widths[first + n] = float(value)
            i += 2
        else:
            for cid in range(first, int(w[i + 1]) + 1):
                widths[cid] = float(w[i + 2])
            i += 3
    return widths


def _stamp(pdf: pikepdf.Pdf, palette: Palette, numbered: Sequence[int], total: int) -> None:
    """Draw "n / total" on each page index in `numbered`, as a pagination artifact (not read aloud)."""
    if not palette.resources.is_indirect:
        palette.resources = palette.pdf.make_indirect(palette.resources)
    shared = pdf.copy_foreign(palette.resources)
    box = [float(v) for v in palette.box]
    for index in numbered:
        form = pikepdf.Stream(pdf, palette.content(f"{index + 1} / {total}"))
        form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
        form.BBox, form.Resources = pikepdf.Array(box), shared
        page = pdf.pages[index]
        # The pages of a layout share one resource dictionary: each numbered page gets its own.
        resources = pikepdf.Dictionary(dict(page.obj.get("/Resources", pikepdf.Dictionary()).items()))
        xobjects = pikepdf.Dictionary(dict(resources.get("/XObject", pikepdf.Dictionary()).items()))
        xobjects[_STAMP] = form
        resources.XObject = xobjects
        page.obj.Resources = resources
        # The layout's own content is closed in q/Q, so the stamp starts from the default state.
        page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
        page.contents_add(
            pikepdf.Stream(pdf, b"Q\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC q /SbPageNumber Do Q EMC\n")
        )


def number(data: bytes, palette: Palette) -> bytes:
    """A leaflet of two pages or more with "1 / 2" on each page; one page is left as it is ("1 / 1" says nothing)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        total = len(pdf.pages)
        if total < 2:
            return data
        _stamp(pdf, palette, range(total), total)
        if "/OutputIntents" in pdf.Root:  # a print file: the stamp's colours use the leaflet's profile
            share_profile(pdf, pdf.Root.OutputIntents[0].DestOutputProfile)
        pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array([0, pikepdf.Dictionary(S=pikepdf.Name.D)]))
        return _saved(pdf, pdf.pdf_version)


def _saved(pdf: pikepdf.Pdf, version: str) -> bytes:
    out = io.BytesIO()
    # The file identifier comes from the content, so the same input gives the same bytes.
    # Streams are copied as they are (compressed); compressing again took a third of the join.
    pdf.save(out, deterministic_id=True, compress_streams=False, min_version=version)
    return out.getvalue()


def _tag(program: bytes) -> str:
    """A subset tag from the font program's bytes: six capitals (ISO 32000-1, 9.6.4)."""
    digest = int.from_bytes(hashlib.sha256(program).digest()[:8], "big")
    letters = []
    for _ in range(6):
        digest, r = divmod(digest, 26)
        letters.append(chr(65 + r))
    return "".join(letters)


def _fonts(resources: Any, seen: set[tuple[int, int]]) -> Iterator[Any]:
    """Every font used by `resources` and the forms in it."""
    if not isinstance(resources, pikepdf.Dictionary):
        return
    for font in resources.get("/Font", pikepdf.Dictionary()).values():
        if font.objgen not in seen:
            seen.add(font.objgen)
            yield font
    for xobject in resources.get("/XObject", pikepdf.Dictionary()).values():
        if xobject.objgen not in seen and xobject.get("/Subtype") == pikepdf.Name.Form:
            seen.add(xobject.objgen)
            yield from _fonts(xobject.get("/Resources"), seen)


def retag_fonts(pdf: pikepdf.Pdf) -> int:
    """Give each distinct font program its own subset tag, made from its bytes: WeasyPrint's tags
    repeat from one layout to the next, so a booklet held ten programs under one name. Done at
    layout time, so a join renames nothing. Returns how many names changed."""
    seen: set[tuple[int, int]] = set()
    renamed = 0
    for page in pdf.pages:
        for font in _fonts(page.obj.get("/Resources"), seen):
            for dictionary in [font, *font.get("/DescendantFonts", [])]:
                descriptor = dictionary.get("/FontDescriptor")
                program = None
                if descriptor is not None:
                    program = next(
                        (descriptor[k] for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in descriptor), None
                    )
                if program is None:
                    program = _program(font)
                if program is None:
                    continue
                tag = _tag(program.read_raw_bytes())
                for holder, field in ((dictionary, "/BaseFont"), (descriptor, "/FontName")):
                    if holder is not None and field in holder:
                        name = str(holder[field])[1:]
                        if len(name) > 7 and name[6] == "+":
                            holder[field] = pikepdf.Name("/" + tag + name[6:])
                            renamed += 1
    return renamed


def _program(font: Any) -> Any:
    for descendant in font.get("/DescendantFonts", []):
        descriptor = descendant.get("/FontDescriptor")
        for k in ("/FontFile2", "/FontFile3", "/FontFile"):
            if descriptor is not None and k in descriptor:
                return descriptor[k]
    return None


def _numbers(tree: Any) -> Iterator[tuple[int, Any]]:
    """The entries of a number tree, flattened."""
    nums: Any = tree.get("/Nums", [])
    for i in range(0, len(nums), 2):
        yield int(nums[i]), nums[i + 1]
    for kid in tree.get("/Kids", []):
        yield from _numbers(kid)


def _copied(target: pikepdf.Pdf, source: pikepdf.Pdf, value: Any) -> Any:
    """`value` from `source` in `target`, in one call to qpdf (a walk in Python took 0.3 s for 100
    parts); objects already copied (the pages) are reused."""
    if not isinstance(value, pikepdf.Object):
        return value
    return target.copy_foreign(value if value.is_indirect else source.make_indirect(value))


class _Tree:
    """The booklet's structure tree, growing as parts are added."""

    def __init__(self, pdf: pikepdf.Pdf, language: str) -> None:
        self.pdf = pdf
        self.document = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.StructElem, S=pikepdf.Name.Document, K=pikepdf.Array(), Lang=pikepdf.String(language)
            )
        )
        self.root = pdf.make_indirect(
            pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot, K=pikepdf.Array([self.document]))
        )
        self.nums: list[Any] = []
        self.next = 0
        self.roles = pikepdf.Dictionary()

    def add(self, source: pikepdf.Pdf, pages: Sequence[pikepdf.Page], language: str) -> None:
        """A part's elements under the Document, in its language; its parent tree keys shifted past the others'."""
        root = source.Root.get("/StructTreeRoot")
        if root is None:
            return
        offset = self.next
        for k in root.get("/K", []) if isinstance(root.get("/K"), pikepdf.Array) else [root.K]:
            element = _copied(self.pdf, source, k if k.is_indirect else source.make_indirect(k))
            if element.get("/S") == pikepdf.Name.Document:
                element.S = pikepdf.Name.Part  # one Document per file; each case is a part of it
            element.P = self.document
            element.Lang = pikepdf.String(language)
            self.document.K.append(element)
        entries = list(_numbers(root.get("/ParentTree", pikepdf.Dictionary())))
        values = _copied(self.pdf, source, pikepdf.Array([value for _, value in entries]))
        for (n, _), value in zip(entries, values, strict=True):
            self.nums += [n + offset, value]
        most = max((n for n, _ in entries), default=-1)
        for page in pages:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annotation in page.obj.get("/Annots", []):
                if "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + offset
        self.next = offset + most + 1
        for name, role in root.get("/RoleMap", pikepdf.Dictionary()).items():
            self.roles[name] = role
        if "/Namespaces" in root and "/Namespaces" not in self.root:
            self.root.Namespaces = _copied(self.pdf, source, root.Namespaces)

    def finish(self) -> None:
        """The tree in the catalog, the file marked as tagged."""
        self.root.ParentTree = self.pdf.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(self.nums)))
        self.root.ParentTreeNextKey = self.next
        if len(self.roles):
            self.root.RoleMap = self.roles
        self.pdf.Root.StructTreeRoot = self.root
        self.pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=True)


def assemble(parts: Sequence[Part], palette: Palette, title: str, author: str, created: str, language: str) -> bytes:
    """The booklet: the parts in order, numbered from the second page to the one before last (the
    covers carry none), with page labels, a bookmark per case, one structure tree and font tags of their own."""
    booklet = pikepdf.Pdf.new()
    tree = _Tree(booklet, language)
    sources = []  # open until saved: their objects are copied lazily
    marks: list[tuple[str, int]] = []
    version = "1.4"  # tagged PDF, /Lang, transparency
    for part in parts:
        source = part.pdf
        sources.append(source)
        version = max(version, source.pdf_version)
        first = len(booklet.pages)
        booklet.pages.extend(source.pages)
        tree.add(source, booklet.pages[first:], part.language)
        if part.bookmark:
            marks.append((part.bookmark, first))
    total = len(booklet.pages)
    _stamp(booklet, palette, range(1, total - 1), total)
    booklet.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array([0, pikepdf.Dictionary(S=pikepdf.Name.D)]))
    with booklet.open_outline() as outline:
        outline.root.extend(pikepdf.OutlineItem(text, page) for text, page in marks)
    booklet.Root.PageMode = pikepdf.Name.UseOutlines
    tree.finish()
    stamp = "D:" + created.replace("-", "").replace(":", "").replace("T", "").rstrip("Z") + "Z"
    booklet.docinfo["/Title"] = title
    booklet.docinfo["/Author"] = author
    booklet.docinfo["/CreationDate"] = stamp
    booklet.docinfo["/ModDate"] = stamp
    booklet.Root.Lang = pikepdf.String(language)
    booklet.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
    # PDF/X-4 or PDF/UA-1 like its parts: their XMP (and a print file's output intent), with a
    # document ID from the parts' own identifiers, so the same parts give the same bytes.
    seed = b"".join(bytes(part.pdf.trailer.ID[0]) for part in parts if "/ID" in part.pdf.trailer)
    carry_metadata(booklet, parts[0].pdf, title, seed + title.encode())
    data = _saved(booklet, version)
    for source in sources:
        source.close()
    return data


def _kids(element: Any) -> list[Any]:
    kids = element.get("/K")
    listed = list(kids) if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
    return [k for k in listed if isinstance(k, pikepdf.Dictionary) and "/S" in k]


def finish_layout(data: bytes) -> bytes:
    """A layout as the booklet needs it, made once, where it is laid out: every structure element
    in the tree, and each font subset with a tag of its own."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        attach_orphans(pdf)
        retag_fonts(pdf)
        return _saved(pdf, pdf.pdf_version)


def attach_orphans(pdf: pikepdf.Pdf) -> int:
    """Attach elements no root reaches; returns how many. WeasyPrint 70 makes the footer's element
    a child of the Document without listing it among the Document's kids: its text was marked, in
    the parent tree, and reachable from no root (a screen reader never met it)."""
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return 0
    reachable: set[tuple[int, int]] = set()

    def reach(element: Any) -> None:
        stack = [element]
        while stack:
            item = stack.pop()
            if item.objgen not in reachable:
                reachable.add(item.objgen)
                stack += _kids(item)

    for element in _kids(root):
        reach(element)
    attached = 0
    for _, value in _numbers(root.get("/ParentTree", pikepdf.Dictionary())):
        for element in value if isinstance(value, pikepdf.Array) else [value]:
            item = element
            while isinstance(item, pikepdf.Dictionary) and item.objgen not in reachable and "/P" in item:
                parent = item.P
                if parent.objgen in reachable:
                    if not isinstance(parent.get("/K"), pikepdf.Array):
                        parent.K = pikepdf.Array([] if parent.get("/K") is None else [parent.K])
                    parent.K.append(item)
                    reach(item)
                    attached += 1
                    break
                item = parent
    return attached


def padding(pages: int) -> int:
    """Notes pages that make `pages` (cover, cases and the closing page) a multiple of 4."""
    return -pages % 4


def saddle_order(pages: int) -> list[tuple[int, int]]:
    """The 1-based page pairs of each sheet side, left then right: 16/1, 2/15, 14/3, ... for 16 pages."""
    sides = []
    for i in range(pages // 4):
        sides += [(pages - 2 * i, 1 + 2 * i), (2 + 2 * i, pages - 1 - 2 * i)]
    return sides


def impose(data: bytes) -> bytes:
    """Two booklet pages side by side on landscape sheets, in saddle-stitch order (fold, staple, read)."""
    with pikepdf.open(io.BytesIO(data)) as source:
        pages = len(source.pages)
        if pages % 4:
            raise ValueError(f"a booklet of {pages} pages cannot be folded: not a multiple of 4")
        box = source.pages[0].mediabox
        width, height = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
        sheets = pikepdf.Pdf.new()
        for left, right in saddle_order(pages):
            sheet = sheets.add_blank_page(page_size=(2 * width, height))
            for slot, n in enumerate((left, right)):
                sheet.add_overlay(source.pages[n - 1], pikepdf.Rectangle(slot * width, 0, (slot + 1) * width, height))
        for key in ("/Title", "/Author", "/CreationDate", "/ModDate"):
            if key in source.docinfo:
                sheets.docinfo[key] = source.docinfo[key]
        return _saved(sheets, source.pdf_version)
