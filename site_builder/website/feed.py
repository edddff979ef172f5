"""The Atom feed of published cases (feedgen), with absolute URLs from base_url."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from site_builder.cases.model import Case
from site_builder.settings.config import Settings
from site_builder.website.links import Links

FEED_SIZE = 50


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def render_feed(
    cases: tuple[Case, ...],
    settings: Settings,
    content: Callable[[Case], str],
    home: str = "",
    language: str = "",
    changes: tuple[str, str] | None = None,
) -> bytes:
    """Atom XML of the newest cases of one language's part of the site (`home`, "" for the site's
    language); `content` gives a case's HTML body for its entry. `changes` (the page's title and
    description): an entry for the page of changes too, updated when the newest change was published."""
    from feedgen.feed import FeedGenerator  # with lxml and dateutil, 17 ms: only when the feed changed

    language = language or settings.language
    links = Links(settings)
    company = settings.company_in(language)
    fg = FeedGenerator()
    fg.id(links.absolute(home))
    fg.title(settings.title_in(language))
    fg.subtitle(settings.description_in(language))
    fg.author({"name": company.name, "email": company.email or None})
    fg.link(href=links.absolute(home), rel="alternate")
    fg.link(href=links.absolute(f"{home}feed.xml"), rel="self")
    fg.language(language)
    # The newest case date, not the clock: the same cases give the same feed.
    fg.updated(_midnight(cases[0].date) if cases else _midnight(dt.date(2000, 1, 1)))
    # The feed's own cases date the entry: a build that makes the feed again from them alone (an edit
    # of one) gives the same entry, and the page's newest change is among them whenever it is news.
    changed = next((case for case in cases[:FEED_SIZE] if case.has_change), None)
    if changes is not None and changed is not None:
        entry = fg.add_entry()
        url = links.absolute(f"{home}changes/")
        entry.id(url)
        entry.title(changes[0])
        entry.link(href=url, rel="alternate")
        entry.published(_midnight(changed.date))
        entry.updated(_midnight(changed.date))
        entry.summary(changes[1])
    for case in reversed(cases[:FEED_SIZE]):  # feedgen lists the last added first
        entry = fg.add_entry()
        url = links.absolute(links.case(case))
        entry.id(url)
        entry.title(case.title)
        entry.link(href=url, rel="alternate")
        entry.published(_midnight(case.date))
        entry.updated(_midnight(case.date))
        entry.summary(case.summary)
        entry.content(content(case), type="html")
        for tag in case.tags:
            entry.category(term=tag)
    return bytes(fg.atom_str(pretty=True))
