"""The feeds of published cases: Atom (feedgen) and JSON Feed 1.1, with absolute URLs from base_url."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from site_builder.cases.model import Case
from site_builder.settings.config import Settings
from site_builder.website.links import Links, icon

FEED_SIZE = 50
JSON_FEED = "https://jsonfeed.org/version/1.1"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True, slots=True)
class Channel:
    """What one feed is of: the page it follows (a site path: a language's home, a tag's list), its
    title and language, and each case's HTML body (None: summaries only, as a tag's feed has).
    `changes`: the title and description of the language's page of changes, for an entry of its own
    (a language's feed has one; a tag's does not)."""

    page: str
    title: str
    language: str
    content: Callable[[Case], str] | None = None
    changes: tuple[str, str] | None = None


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _updated(cases: tuple[Case, ...]) -> dt.datetime:
    # The newest case date, not the clock: the same cases give the same feed.
    return _midnight(cases[0].date) if cases else _midnight(dt.date(2000, 1, 1))


def _newest_change(cases: tuple[Case, ...], channel: Channel) -> Case | None:
    """The case whose change dates the changes page's entry, if the channel has one. The feed's own
    cases date it: a build that makes the feed again from them alone (an edit of one) gives the same
    entry, and the page's newest change is among them whenever it is news."""
    if channel.changes is None:
        return None
    return next((case for case in cases[:FEED_SIZE] if case.has_change), None)


def render_feed(cases: tuple[Case, ...], settings: Settings, channel: Channel) -> bytes:
    """Atom XML of the newest `cases` of a channel; each entry says its own language (xml:lang),
    since a list may show a story in another language than the feed's."""
    import lxml.etree
    from feedgen.feed import FeedGenerator  # with lxml and dateutil, 17 ms: only when the feed changed

    links = Links(settings)
    company = settings.company_in(channel.language)
    fg = FeedGenerator()
    fg.id(links.absolute(channel.page))
    fg.title(channel.title)
    fg.subtitle(settings.description_in(channel.language))
    fg.author({"name": company.name, "email": company.email or None})
    fg.link(href=links.absolute(channel.page), rel="alternate")
    fg.link(href=links.absolute(f"{channel.page}feed.xml"), rel="self")
    fg.language(channel.language)
    fg.updated(_updated(cases))
    newest = cases[:FEED_SIZE]
    languages: dict[str, str] = {}
    changed = _newest_change(cases, channel)
    if changed is not None and channel.changes is not None:
        entry = fg.add_entry()
        url = links.absolute(f"{channel.page}changes/")
        entry.id(url)
        entry.title(channel.changes[0])
        entry.link(href=url, rel="alternate")
        entry.published(_midnight(changed.date))
        entry.updated(_midnight(changed.date))
        entry.summary(channel.changes[1])
        languages[url] = channel.language
    for case in reversed(newest):  # feedgen lists the last added first
        entry = fg.add_entry()
        url = links.absolute(links.case(case))
        languages[url] = case.language
        entry.id(url)
        entry.title(case.title)
        entry.link(href=url, rel="alternate")
        entry.published(_midnight(case.date))
        entry.updated(_midnight(case.date))
        entry.summary(case.summary)
        if channel.content is not None:
            entry.content(channel.content(case), type="html")
        for tag in case.tags:
            entry.category(term=tag)
    root = lxml.etree.fromstring(fg.atom_str())
    for element in root.iterfind("{http://www.w3.org/2005/Atom}entry"):
        element.set(_XML_LANG, languages[element.findtext("{http://www.w3.org/2005/Atom}id") or ""])
    lxml.etree.indent(root)
    return bytes(lxml.etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def render_json_feed(cases: tuple[Case, ...], settings: Settings, channel: Channel) -> bytes:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) of the newest `cases` of a channel."""
    links = Links(settings)
    company = settings.company_in(channel.language)
    items = []
    for case in cases[:FEED_SIZE]:
        url = links.absolute(links.case(case))
        item: dict[str, Any] = {"id": url, "url": url, "title": case.title, "summary": case.summary}
        if channel.content is not None:
            item["content_html"] = channel.content(case)
        else:
            item["content_text"] = case.summary  # an item needs a content: the summary is it
        item["date_published"] = _midnight(case.date).isoformat()
        item["date_modified"] = _midnight(case.date).isoformat()
        if case.tags:
            item["tags"] = list(case.tags)
        item["language"] = case.language
        items.append(item)
    changed = _newest_change(cases, channel)
    if changed is not None and channel.changes is not None:
        url = links.absolute(f"{channel.page}changes/")
        when = _midnight(changed.date).isoformat()
        items.append(
            {
                "id": url,
                "url": url,
                "title": channel.changes[0],
                "content_text": channel.changes[1],
                "date_published": when,
                "date_modified": when,
                "language": channel.language,
            }
        )
    feed = {
        "version": JSON_FEED,
        "title": channel.title,
        "home_page_url": links.absolute(channel.page),
        "feed_url": links.absolute(f"{channel.page}feed.json"),
        "description": settings.description_in(channel.language),
        "favicon": links.absolute(icon(settings)[0]),
        "authors": [{"name": company.name, "url": company.website or links.absolute(links.home(channel.language))}],
        "language": channel.language,
        "items": items,
    }
    return (json.dumps(feed, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
