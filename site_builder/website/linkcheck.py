"""Check a built site: every internal link, anchor and image resolves to something that exists."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

_PICTURES = ("og:image", "twitter:image")
_LINKING = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src", "iframe": "src"}


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """A link on `page` whose `target` does not resolve, and why."""

    page: str
    target: str
    reason: str

    def __str__(self) -> str:
        return f"{self.page}: {self.target}: {self.reason}"


class _Page(HTMLParser):
    """Collects a page's ids and the URLs it points to."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if values.get(name):
                self.ids.add(str(values[name]))
        attribute = _LINKING.get(tag)
        if attribute and values.get(attribute) and values.get("rel") not in ("canonical", "alternate"):
            self.links.append(str(values[attribute]))
        # The picture a shared link shows: absolute, so checked when it is on the site's own host.
        if tag == "meta" and (values.get("property") or values.get("name")) in _PICTURES and values.get("content"):
            self.links.append(str(values["content"]))


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def check_site(site: Path, base_url: str) -> list[BrokenLink]:
    """Every broken internal link in the site folder; links to other hosts are not followed."""
    base = urlsplit(base_url)
    pages = {p.relative_to(site).as_posix(): _parse(p) for p in sorted(site.rglob("*.html"))}
    broken: list[BrokenLink] = []
    for name, page in pages.items():
        if name.startswith("pagefind/"):
            continue
        here = urljoin(base_url, name)
        for link in page.links:
            url = urlsplit(urljoin(here, link))
            if url.scheme not in ("http", "https") or url.netloc != base.netloc:
                continue  # another site, mailto:, tel:, data:
            if not url.path.startswith(base.path):
                broken.append(BrokenLink(name, link, "points outside the site"))
                continue
            relative = unquote(url.path[len(base.path) :])
            target = site / relative
            if target.is_dir() or relative == "" or relative.endswith("/"):
                target, relative = target / "index.html", (relative + "/index.html").lstrip("/").replace("//", "/")
            if not target.is_file():
                broken.append(BrokenLink(name, link, "no such page or file"))
            elif url.fragment and target.suffix == ".html":
                anchors = pages[relative].ids if relative in pages else _parse(target).ids
                if unquote(url.fragment) not in anchors:
                    broken.append(BrokenLink(name, link, f"no anchor #{url.fragment} on that page"))
    return broken
