"""HTML -> PDF with WeasyPrint, and PDFs joined with pikepdf: the only code that touches either.

Nothing here knows about cases: workers that lay out leaflets need only this module."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from typing import Any

from site_builder import runtime

_FONTS: dict[int, Any] = {}


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


def pdf_from_html(job: tuple[str, float]) -> bytes:
    """Lay out the HTML at its paper size's one body size and return PDF bytes."""
    weasyprint = runtime.import_weasyprint()
    from weasyprint.urls import URLFetcher

    # A layout leaves cyclic garbage (boxes point to their parents): collect it at Python's usual
    # pace, not at the lazier one a build sets for its own long-lived objects (100 MB more per worker).
    runtime.collect_at_pythons_pace()
    html, base = job
    # Only local files (the theme's fonts) and data: URLs (the QR code): a leaflet makes no requests.
    fetcher = URLFetcher(allowed_protocols={"file", "data"}, timeout=5)
    # One size for every leaflet of a paper size, never shrunk to fit: a booklet whose body text
    # wandered between 8.4 and 10 pt looked careless, and a long case cost up to four layouts.
    styled = html.replace("</head>", f"<style>html {{ font-size: {base:.2f}pt; }}</style></head>", 1)
    document = weasyprint.HTML(string=styled, url_fetcher=fetcher).render(font_config=font_configuration())
    return bytes(document.write_pdf(pdf_tags=True))


def merge(pdfs: Iterable[bytes], title: str, author: str, created: str, language: str) -> bytes:
    """Concatenate PDFs into one booklet with its own metadata (qpdf, through pikepdf: 100
    leaflets in 0.1 s where pypdf took 1.5 s, and a recent case's edit re-makes the booklet)."""
    import pikepdf

    booklet = pikepdf.Pdf.new()
    for data in pdfs:
        booklet.pages.extend(pikepdf.Pdf.open(io.BytesIO(data)).pages)
    stamp = "D:" + created.replace("-", "").replace(":", "").replace("T", "").rstrip("Z") + "Z"
    booklet.docinfo["/Title"] = title
    booklet.docinfo["/Author"] = author
    booklet.docinfo["/CreationDate"] = stamp
    booklet.docinfo["/ModDate"] = stamp
    booklet.Root.Lang = pikepdf.String(language)
    out = io.BytesIO()
    # The file identifier comes from the content, so the same input gives the same bytes.
    booklet.save(out, deterministic_id=True, compress_streams=True)
    return out.getvalue()
