"""Where each page lives, as a path in the output folder and as an absolute URL."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from urllib.parse import urljoin

from site_builder.cases.model import Case
from site_builder.cases.names import url_name
from site_builder.settings.config import Settings


@functools.lru_cache(maxsize=4096)
def tag_slug(tag: str) -> str:
    """URL name of a tag or industry (transliterated, lowercase, hyphens), as `check` finds it."""
    return url_name(tag)


@dataclass(frozen=True, slots=True)
class Links:
    """Site paths (relative to the site root, no leading slash) and absolute URLs. The site's
    language lives at the root and every other one under /<language>/; `language` is the part of
    the site a page belongs to, where its lists, tags and industries link."""

    settings: Settings
    language: str = ""  # "" is the site's language

    def within(self, language: str) -> Links:
        """The links of a page in `language`'s part of the site."""
        return Links(self.settings, language)

    def home(self, language: str | None = None) -> str:
        """Where a language's part of the site starts ("" for the site's language, "ru/" for Russian)."""
        language = self.language if language is None else language
        return "" if language in ("", self.settings.language) else f"{language}/"

    def case(self, case: Case) -> str:
        """Path of a case page, in its language's part of the site."""
        return f"{self.home(case.language)}cases/{case.slug}/"

    def tag(self, tag: str, page: int = 1) -> str:
        """Path of page `page` of a tag's cases (one page per tag, whatever language names it)."""
        name = tag_slug(self.settings.canonical("tags", tag))
        return f"{self.home()}tags/{name}/" + (f"page/{page}/" if page > 1 else "")

    def industry(self, industry: str, page: int = 1) -> str:
        """Path of page `page` of an industry's cases."""
        name = tag_slug(self.settings.canonical("industries", industry))
        return f"{self.home()}industries/{name}/" + (f"page/{page}/" if page > 1 else "")

    def digest(self, until: dt.date, language: str | None = None) -> str:
        """Path of the web copy of the digest that ends on `until`, in a language's part of the site."""
        return f"{self.home(language)}digests/{until.isoformat()}/"

    def digests(self, language: str | None = None) -> str:
        """Path of the page listing the digests sent, in a language's part of the site."""
        return f"{self.home(language)}digests/"

    def changes(self, page: int = 1) -> str:
        """Path of page `page` of What changed because you told us."""
        return f"{self.home()}changes/" + (f"page/{page}/" if page > 1 else "")

    def index(self, page: int) -> str:
        """Path of page `page` (1-based) of the case index."""
        return self.home() + ("" if page == 1 else f"page/{page}/")

    def absolute(self, path: str) -> str:
        """The public URL of a site path, from base_url."""
        if path.startswith(("/", ".")) or ":" in path:
            return urljoin(self.settings.base_url, path)
        return self.settings.base_url + path  # base_url ends with '/'; urljoin is 30x slower for the same result


def file_for(path: str) -> str:
    """The file that serves a directory-style path ('' -> index.html)."""
    return path + "index.html" if path == "" or path.endswith("/") else path


def root_for(path: str) -> str:
    """Relative prefix from a page at `path` back to the site root."""
    return "../" * path.count("/")


def icon(settings: Settings) -> tuple[str, str]:
    """The site's icon as a site path and its media type: the company's logo when site.toml names
    one, else the theme's favicon."""
    logo = settings.company.logo
    if not logo:
        return "static/favicon.svg", "image/svg+xml"
    suffix = logo.rsplit(".", 1)[-1].lower()
    return f"static/company-logo.{suffix}", "image/svg+xml" if suffix == "svg" else "image/png"
