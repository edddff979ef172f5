"""A page's structured data (schema.org as JSON-LD): what search engines read of who published it,
where it sits in the site and when it was written. Pure: dicts for the theme's `tojson`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from site_builder.settings.config import Settings
from site_builder.website.links import Links, icon

Data = dict[str, Any]
CONTEXT = "https://schema.org"


def publisher(settings: Settings, language: str) -> Data:
    """The company as the Organization that publishes every page, with its web address and logo."""
    links = Links(settings)
    company = settings.company_in(language)
    return {
        "@type": "Organization",
        "name": company.name,
        "url": company.website or links.absolute(links.home(language)),
        "logo": {"@type": "ImageObject", "url": links.absolute(icon(settings)[0])},
    }


def breadcrumbs(trail: Sequence[tuple[str, str]]) -> Data:
    """A BreadcrumbList of (name, absolute URL), from the home page to the page itself."""
    return {
        "@context": CONTEXT,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": number, "name": name, "item": url}
            for number, (name, url) in enumerate(trail, start=1)
        ],
    }


def collection(name: str, description: str, url: str, language: str, settings: Settings) -> Data:
    """A list of cases (the home page, a tag's, an industry's) as a CollectionPage."""
    return {
        "@context": CONTEXT,
        "@type": "CollectionPage",
        "name": name,
        "description": description,
        "url": url,
        "inLanguage": language,
        "publisher": publisher(settings, language),
    }
