"""How full each page of a laid-out leaflet is, read from WeasyPrint's boxes (for tests and tuning)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _leaves(box: Any) -> Iterator[Any]:
    children = getattr(box, "children", None)
    if not children:
        yield box
        return
    for child in children:
        # Page-margin boxes (the running header, the footer) are the page's own, not its content.
        if type(child).__name__ != "MarginBox":
            yield from _leaves(child)


def page_fill(page: Any) -> float:
    """The share of a page's content area (0 to 1) above the bottom of its lowest laid-out content."""
    root = page._page_box  # WeasyPrint's laid-out box tree: no public accessor exists
    top = root.content_box_y()
    height = root.height
    bottom = top
    for box in _leaves(root):
        if getattr(box, "height", None) is None or getattr(box, "position_y", None) is None:
            continue
        bottom = max(bottom, box.position_y + box.margin_height() - (box.margin_bottom or 0))
    return max(0.0, min(1.0, (bottom - top) / height)) if height else 0.0


def document_fill(document: Any) -> list[float]:
    """Each page's fill, in order."""
    return [page_fill(page) for page in document.pages]
