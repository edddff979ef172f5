"""HTML -> PDF with WeasyPrint, and PDFs joined with pikepdf: the only code that touches either.

Nothing here knows about cases: workers that lay out leaflets need only this module."""

from __future__ import annotations

import hashlib
import html
import io
import os
import re
import uuid
from typing import Any

from site_builder import runtime

_FONTS: dict[int, Any] = {}
MM = 72 / 25.4


def font_configuration() -> Any:
    """One WeasyPrint font configuration per process: a new one for every leaflet loads the
    @font-face fonts into fontconfig again and never frees them (+0.5 MB a leaflet, 1 GB a
    worker at 10,000 cases)."""
    pid = os.getpid()
    if pid not in _FONTS:
        from multiprocessing.util import Finalize

        runtime.import_weasyprint()
        from weasyprint.text.fonts import FontConfiguration

        # A forked worker makes its own and keeps its parent's referenced: dropping it would run its
        # __del__, which deletes the parent's font folder. A worker leaves with os._exit, so its
        # own folder is removed by a multiprocessing finalizer (which runs at that exit).
        _FONTS[pid] = fonts = FontConfiguration()
        Finalize(fonts, fonts.__del__, exitpriority=0)
    return _FONTS[pid]


def pdf_from_html(job: tuple[str, float, bool]) -> bytes:
    """Lay out the HTML at its paper size's one body size and return PDF bytes: PDF/X-4 for a print
    shop, PDF/UA-1 for a screen."""
    weasyprint = runtime.import_weasyprint()
    from weasyprint.urls import URLFetcher

    # A layout leaves cyclic garbage (boxes point to their parents): collect it at Python's usual
    # pace, not at the lazier one a build sets for its own long-lived objects (100 MB more per worker).
    runtime.collect_at_pythons_pace()
    from site_builder.leaflets.booklet import finish_layout

    html, base, print_shop = job
    # A print shop wants PDF/X-4 (CMYK, an output intent); a reader's screen wants PDF/UA-1 (tags,
    # language, the title shown). WeasyPrint reads the variant when it lays out and when it writes.
    variant = "pdf/x-4" if print_shop else "pdf/ua-1"
    # Only local files (the theme's fonts) and data: URLs (the QR code): a leaflet makes no requests.
    fetcher = URLFetcher(allowed_protocols={"file", "data"}, timeout=5)
    # One size for every leaflet of a paper size, never shrunk to fit: a booklet whose body text
    # wandered between 8.4 and 10 pt looked careless, and a long case cost up to four layouts.
    styled = html.replace("</head>", f"<style>html {{ font-size: {base:.2f}pt; }}</style></head>", 1)
    document = weasyprint.HTML(string=styled, url_fetcher=fetcher).render(
        font_config=font_configuration(), pdf_variant=variant
    )
    data = finish_layout(bytes(document.write_pdf(pdf_tags=True, pdf_variant=variant)))
    return for_print(data) if print_shop else data


_DOCUMENT_ID = re.compile(rb"xmp\.did:[0-9a-f-]{36}")
_FILE_ID = re.compile(rb"/ID\s*\[[^\]]*\]")


def _fixed_document_id(data: bytes) -> bytes:
    """WeasyPrint writes a random XMP DocumentID into PDF/X-4 files, and a file identifier made from
    it: both made from the file's content instead, the same input gives the same bytes. (pikepdf
    reads the file again and writes new offsets, so lengths may change.)"""
    blank = _FILE_ID.sub(b"", _DOCUMENT_ID.sub(b"xmp.did:" + b"0" * 36, data))
    made = uuid.UUID(bytes=hashlib.blake2b(blank, digest_size=16).digest())
    return _FILE_ID.sub(f"/ID [<{made.hex}> <{made.hex}>]".encode(), _DOCUMENT_ID.sub(f"xmp.did:{made}".encode(), data))


MARK_GAP = 4 * MM  # from the trim edge to a crop mark: past the 3 mm bleed, so no mark is printed on the page
MARK_LENGTH = 6 * MM


def for_print(data: bytes) -> bytes:
    """A PDF/X-4 file as a print shop wants it: crop marks in registration colour outside the bleed
    (the media box grows around the bleed box to hold them; WeasyPrint's `marks: crop` draws them
    in RGB black, inside the bleed), no link annotations (paper has no links, and PDF/X checkers
    flag annotations on the page), and no random IDs."""
    import pikepdf

    pdf = pikepdf.Pdf.open(io.BytesIO(_fixed_document_id(data)))
    # Registration colour: every separation at 100 %, so the marks show on every plate.
    registration = pikepdf.Array(
        [
            pikepdf.Name.Separation,
            pikepdf.Name.All,
            pikepdf.Name.DeviceCMYK,
            pdf.make_indirect(pikepdf.Dictionary(FunctionType=2, Domain=[0, 1], C0=[0, 0, 0, 0], C1=[1, 1, 1, 1], N=1)),
        ]
    )
    out = MARK_GAP + MARK_LENGTH
    for page in pdf.pages:
        x0, y0, x1, y1 = (float(v) for v in page.obj.TrimBox)
        page.obj.MediaBox = pikepdf.Array([x0 - out, y0 - out, x1 + out, y1 + out])
        resources = page.obj.Resources  # WeasyPrint's pages share one
        if pikepdf.Name.ColorSpace not in resources:
            resources.ColorSpace = pikepdf.Dictionary()
        resources.ColorSpace.SBRegistration = registration
        lines = []
        for x in (x0, x1):
            for y, sign in ((y0, -1), (y1, 1)):
                lines.append(f"{x:.3f} {y + sign * MARK_GAP:.3f} m {x:.3f} {y + sign * out:.3f} l S")
        for y in (y0, y1):
            for x, sign in ((x0, -1), (x1, 1)):
                lines.append(f"{x + sign * MARK_GAP:.3f} {y:.3f} m {x + sign * out:.3f} {y:.3f} l S")
        # The page's own drawing leaves its transformation in place: it is wrapped in q/Q first.
        page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
        marks = "\n".join(["Q", "/Artifact BMC q /SBRegistration CS 1 SCN 0.25 w 0 J", *lines, "Q EMC", ""])
        page.contents_add(pdf.make_stream(marks.encode()))
        if pikepdf.Name.Annots in page.obj:
            del page.obj.Annots
    out_file = io.BytesIO()
    pdf.save(out_file, deterministic_id=True, compress_streams=True)
    return out_file.getvalue()


def carry_metadata(booklet: Any, first: Any, title: str, seed: bytes) -> None:
    """A booklet stays what its parts are (PDF/X-4 or PDF/UA-1): the XMP of its first part (every
    part has the same kind), with the booklet's own title and a document ID made from `seed`; and,
    for a print file, the output intent with one copy of its profile."""
    import pikepdf

    if "/OutputIntents" in first.Root:
        _output_intent(booklet, first)
    if "/Metadata" not in first.Root:
        return
    xmp = first.Root.Metadata.read_bytes()
    escaped = html.escape(title, quote=False).encode()
    xmp = re.sub(
        rb'(<dc:title><rdf:Alt><rdf:li xml:lang="x-default">).*?(</rdf:li>)',
        rb"\g<1>" + escaped.replace(b"\\", b"\\\\") + rb"\g<2>",
        xmp,
        count=1,
        flags=re.S,
    )
    made = uuid.UUID(bytes=hashlib.blake2b(seed, digest_size=16).digest())
    xmp = _DOCUMENT_ID.sub(f"xmp.did:{made}".encode(), xmp)
    booklet.Root.Metadata = pikepdf.Stream(booklet, xmp, Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)


def share_profile(pdf: Any, profile: Any) -> None:
    """Every `/device-cmyk` colour space of the pages (and of their form XObjects, such as stamped
    page numbers) pointed at one copy of the profile: each part brought its own 140 kB copy."""
    import pikepdf

    one = pikepdf.Array([pikepdf.Name.ICCBased, profile])
    seen: set[tuple[int, int]] = set()
    todo = [page.obj.Resources for page in pdf.pages]
    while todo:
        resources = todo.pop()
        if resources.is_indirect:
            if resources.objgen in seen:
                continue
            seen.add(resources.objgen)
        spaces = resources.get("/ColorSpace")
        if spaces is not None and "/device-cmyk" in spaces:
            spaces["/device-cmyk"] = one
        for xobject in resources.get("/XObject", {}).values():
            if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
                todo.append(xobject.Resources)


def _output_intent(booklet: Any, first: Any) -> None:
    """The print parts' output intent, with one copy of the 140 kB profile for every page."""
    import pikepdf

    intent = first.Root.OutputIntents[0]
    profile = booklet.copy_foreign(intent.DestOutputProfile)
    copied = pikepdf.Dictionary({key: value for key, value in intent.items() if key != "/DestOutputProfile"})
    copied.DestOutputProfile = profile
    booklet.Root.OutputIntents = pikepdf.Array([copied])
    share_profile(booklet, profile)
    booklet.docinfo["/Trapped"] = pikepdf.Name("/False")
