"""The one configured Markdown renderer; everything it returns is sanitized HTML."""

from __future__ import annotations

import html
import re

import nh3
from cmarkgfm.cmark import Options, markdown_to_html_with_extensions

# GitHub's dialect, which most people who write Markdown already know; bare links become links.
_EXTENSIONS = ["table", "autolink", "strikethrough", "tagfilter"]
# Raw HTML passes cmark so that simple formatting survives; nh3 below is what makes it safe.
_OPTIONS = Options.CMARK_OPT_UNSAFE

# Simple formatting a case author may write as HTML; nothing that runs or embeds.
_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
_SCHEMES = {"http", "https", "mailto", "tel"}
# Built once: nh3.clean() would convert the allow-lists again for every section.
_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    attributes=_ATTRIBUTES,
    url_schemes=_SCHEMES,
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)
_TAG = re.compile(r"<[^>]+>")
# A sentence ends at . ! ? or … followed by a capital, so "kl. 7" or "e.g. this" stay whole.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"'«“„(]?[A-ZÀ-ÖØ-ÞА-ЯЁ])")


def to_html(text: str) -> str:
    """Markdown (and simple HTML) to safe HTML: no scripts, handlers, frames, javascript: links."""
    return _CLEANER.clean(markdown_to_html_with_extensions(text, options=_OPTIONS, extensions=_EXTENSIONS))


def to_text(safe_html: str) -> str:
    """Plain text of sanitized HTML, whitespace folded, entities decoded."""
    return " ".join(html.unescape(_TAG.sub(" ", safe_html)).split())


def first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of plain text, cut at a word boundary when it is very long."""
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
