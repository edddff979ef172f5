"""The configured Markdown renderer; everything it returns is sanitized HTML.

Python-Markdown with the extensions of site.toml by default, cmark-gfm (GitHub's dialect) when
`markdown_engine = "commonmark"`. Whatever either makes, extensions included, passes the same
nh3 allow-list: nothing that runs, embeds or styles survives it (a picture from another site is
the case's error, cases/embeds.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import nh3

from site_builder.settings.config import DEFAULT_EXTENSIONS, MarkdownExtension

if TYPE_CHECKING:
    from markdown import Markdown

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
    "div",
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
    "li": {"id"},
    "sup": {"id"},
}
# The footnotes extension's marks, so that a footnote's number and its way back can be styled.
_CLASSES = {"a": {"footnote-ref", "footnote-backref"}, "div": {"footnote"}}
_SCHEMES = {"http", "https", "mailto", "tel"}
# Footnotes link to ids like fn:1 and fnref:1; any other id (from attr_list, or raw HTML) could
# clash with the page's own, which the search box and its script rely on.
_FOOTNOTE_ID = re.compile(r"fn(?:ref)?\d*[:._-][^\s\"'<>`]{1,100}")


def _filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "id":
        return value if _FOOTNOTE_ID.fullmatch(value) else None
    return value


def _cleaner(attribute_filter: Callable[[str, str, str], str | None]) -> nh3.Cleaner:
    """The sanitizer of case text: the allow-lists, with `attribute_filter` on every attribute."""
    return nh3.Cleaner(
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=attribute_filter,
        allowed_classes=_CLASSES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


# Built once: nh3.clean() would convert the allow-lists again for every section.
_CLEANER = _cleaner(_filter)


def elsewhere(safe_html: str, base: str) -> str:
    """A section's safe HTML shown on another page: its relative links and pictures lead where they
    lead from the case's page (`base`, that page's path from the other page, ending in /), and it
    has no ids (two cases' footnotes would share them; its footnote marks lead to the case's page)."""

    def rebase(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "id":
            return None
        if attribute in ("href", "src") and not _LEADS_OUT.match(value):
            return base + value
        return value

    return str(_cleaner(rebase).clean(safe_html))


# A link that leads the same way from any page: to another site, or from the site's root.
_LEADS_OUT = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|/)")
_TAG = re.compile(r"<[^>]+>")
# A sentence ends at . ! ? or … followed by a capital, so "kl. 7" or "e.g. this" stay whole.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"'«“„(]?[A-ZÀ-ÖØ-ÞА-ЯЁ])")
# Between sections when a body is rendered as one document (footnotes, abbreviations and link
# references written once apply to all of it, and one call costs less than four): an HTML comment
# both engines pass through as a block of its own.
_BREAK = "<!--site-builder:section-->"

# cmark-gfm: GitHub's dialect; raw HTML passes so that simple formatting survives, nh3 makes it safe.
_CMARK_EXTENSIONS = ["table", "autolink", "strikethrough", "tagfilter"]
# A bare web address, as GitHub links it: up to a space or <, without the punctuation that ends a sentence.
_BARE_URL = r"(?<![\w/@.:=\"'])((?:https?://|www\.)[^\s<>\x02\x03]*[^\s<>\x02\x03.,:;!?\"'*_~)\]])"
# Characters without which no inline pattern of the allowed extensions can match; text without
# any of them (most of a case's sentences) skips all the patterns. None: an extension whose
# patterns start anywhere (smarty's quotes, nl2br's newlines), which gets no shortcut.
_TRIGGERS = {
    "core": r"[`\\\[<&*_\x02\x03]| \n",
    "footnotes": r"\[",
    "strikethrough": "~",
    "autolink": r"https?://|www\.",
    "legacy_em": "_",
    "smarty": None,
    "nl2br": None,
}

# Lines that each start with a letter and hold no table pipe: see _QuickParagraph.
_PLAIN = re.compile(r"[^\W\d_][^\n|]*(?:\n[^\W\d_][^\n|]*)*\n?\Z")

Renderer = Callable[[str], str]
_RENDERERS: dict[tuple[str, tuple[MarkdownExtension, ...]], Renderer] = {}


def to_html(
    text: str, engine: str = "python-markdown", extensions: tuple[MarkdownExtension, ...] = DEFAULT_EXTENSIONS
) -> str:
    """Markdown (and simple HTML) to safe HTML: no scripts, handlers, frames, styles, javascript: links."""
    return _CLEANER.clean(_renderer(engine, extensions)(text))


def render_sections(
    texts: Sequence[str],
    engine: str = "python-markdown",
    extensions: tuple[MarkdownExtension, ...] = DEFAULT_EXTENSIONS,
) -> list[str]:
    """Each section of one body as safe HTML, rendered as one document so that what is defined once
    (footnotes, abbreviations, link references) serves every section."""
    render = _renderer(engine, extensions)
    parts = render(f"\n\n{_BREAK}\n\n".join(texts)).split(_BREAK) if _BREAK not in "".join(texts) else []
    if len(parts) != len(texts):
        # The break was swallowed (inside a code block a section leaves open, say): one by one.
        parts = [render(text) for text in texts]
    return [_CLEANER.clean(part) for part in parts]


def _renderer(engine: str, extensions: tuple[MarkdownExtension, ...]) -> Renderer:
    """One renderer per configuration and process, made when first used."""
    found = _RENDERERS.get((engine, extensions))
    if found is None:
        found = _cmark() if engine == "commonmark" else _python_markdown(_markdown(extensions))
        _RENDERERS[(engine, extensions)] = found
    return found


def _cmark() -> Renderer:
    from cmarkgfm.cmark import Options, markdown_to_html_with_extensions

    def render(text: str) -> str:
        made: str = markdown_to_html_with_extensions(
            text, options=Options.CMARK_OPT_UNSAFE, extensions=_CMARK_EXTENSIONS
        )
        return made

    return render


def _python_markdown(md: Markdown) -> Renderer:
    def render(text: str) -> str:
        return md.reset().convert(text)

    return render


def _markdown(extensions: tuple[MarkdownExtension, ...], quick: bool = True) -> Markdown:
    """A Python-Markdown instance with `extensions`, reused for every document (reset between them);
    `quick`: with the two shortcuts below, which change the time it takes and nothing else."""
    import xml.etree.ElementTree as etree

    import markdown
    from markdown.blockprocessors import BlockProcessor
    from markdown.preprocessors import HtmlBlockPreprocessor, Preprocessor

    class _QuickHtmlBlock(Preprocessor):
        """Python-Markdown's raw-HTML block finder, asked only about a document that holds a '<'."""

        def __init__(self, md: Markdown, full: Preprocessor) -> None:
            super().__init__(md)
            self.full = full

        def run(self, lines: list[str]) -> list[str]:
            return self.full.run(lines) if any("<" in line for line in lines) else lines

    class _QuickParagraph(BlockProcessor):
        """A block of lines that each start with a letter, without a |, can only be a paragraph for
        every block processor of the allowed extensions (a heading, list, quote, table, rule,
        definition, reference, abbreviation or footnote starts its line with something else, and
        code is indented): made one at once, as ParagraphProcessor would make it, outside lists."""

        def test(self, parent: Any, block: str) -> bool:
            return not self.parser.state and _PLAIN.match(block) is not None

        def run(self, parent: Any, blocks: list[str]) -> None:
            etree.SubElement(parent, "p").text = blocks.pop(0)

    made: list[Any] = []
    for extension in extensions:
        options = dict(extension.options)
        if extension.name == "tables":
            # The sanitizer removes style attributes; align is what keeps a column's alignment.
            options.setdefault("use_align_attribute", True)
        if extension.name in _OWN:
            if options:
                raise ValueError(f"{extension.name} takes no options")
            made.append(_OWN[extension.name]())
        else:
            made.append(_builtin(extension.name, options))
    md = markdown.Markdown(extensions=made, output_format="html")
    if not quick:
        return md
    # Most blocks of a case are plain paragraphs, which every block processor is asked about in turn.
    md.parser.blockprocessors.register(_QuickParagraph(md.parser), "quick_paragraph", 200)
    raw_html = md.preprocessors["html_block"] if "html_block" in md.preprocessors else None  # noqa: SIM401 - a Registry has no get
    if type(raw_html) is HtmlBlockPreprocessor:  # md_in_html brings its own: left as it is
        # It reads every document with Python's HTML parser; without a '<' there is no HTML to find.
        md.preprocessors.register(_QuickHtmlBlock(md, raw_html), "html_block", 20)
    triggers = [_TRIGGERS.get(e.name, "") for e in extensions]
    if None not in triggers:
        pattern = re.compile("|".join([_TRIGGERS["core"] or "", *(t for t in triggers if t)]))
        md.treeprocessors.register(_quick_inline(md, pattern), "inline", 20)
    return md


def _builtin(name: str, options: dict[str, Any]) -> Any:
    from importlib import import_module

    module = import_module(f"markdown.extensions.{name}")
    return module.makeExtension(**options)


def _quick_inline(md: Markdown, triggers: re.Pattern[str]) -> Any:
    """Python-Markdown's inline processor, which tries every inline pattern on every run of text in
    turn (a third of the time of a case), made to leave alone text that none of them can match."""
    from markdown.treeprocessors import InlineProcessor

    class QuickInline(InlineProcessor):
        # The private method every run of text goes through (name-mangled, so overridden by its
        # mangled name). Were it renamed in a later Python-Markdown, this would only be unused:
        # tests compare the output with and without it.
        def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
            if patternIndex == 0 and not triggers.search(data):
                return data
            handle: Callable[[str, int], str] = super()._InlineProcessor__handleInline  # type: ignore[misc]
            return handle(data, patternIndex)

    return QuickInline(md)


def _strikethrough() -> Any:
    from markdown.extensions import Extension

    class Strikethrough(Extension):
        """GitHub's ~~strikethrough~~ as <del>, through Python-Markdown's own emphasis parser."""

        def extendMarkdown(self, md: Markdown) -> None:
            assert md.delimiters is not None
            md.delimiters.add("~", "del", double=True)

    return Strikethrough()


def _autolink() -> Any:
    import xml.etree.ElementTree as etree

    from markdown import util
    from markdown.extensions import Extension
    from markdown.inlinepatterns import InlineProcessor

    class BareUrl(InlineProcessor):
        def handleMatch(self, m: re.Match[str], data: str) -> tuple[Any, int, int]:  # type: ignore[override]
            url = m.group(1)
            link = etree.Element("a", href=url if "://" in url else f"http://{url}")
            link.text = util.AtomicString(url)
            return link, m.start(0), m.end(0)

    class Autolink(Extension):
        """Bare web addresses (https://..., www....) made into links, as GitHub and cmark-gfm do."""

        def extendMarkdown(self, md: Markdown) -> None:
            # After links, code and raw HTML (90) have taken their text, so an address in them stays as it is.
            md.inlinePatterns.register(BareUrl(_BARE_URL, md), "bare_url", 85)

    return Autolink()


_OWN: dict[str, Callable[[], Any]] = {"strikethrough": _strikethrough, "autolink": _autolink}


def check_extensions(extensions: tuple[MarkdownExtension, ...]) -> list[str]:
    """What is wrong with the extensions' options, one line each (Python-Markdown is asked)."""
    import markdown

    problems = []
    for extension in extensions:
        if not extension.options:
            continue
        try:
            md = _markdown((extension,))
            md.convert("# A\n\nText[^1] and *HTML*.\n\n[^1]: A note.\n\n*[HTML]: Hyper Text\n")
        except KeyError as exc:
            known = ", ".join(_option_names(markdown, extension.name)) or "none"
            problems.append(f"{extension.name}: unknown option {exc.args[0]!r} (known: {known})")
        except Exception as exc:
            problems.append(f"{extension.name}: options {dict(extension.options)} are not accepted: {exc}")
    return problems


def _option_names(markdown: Any, name: str) -> list[str]:
    if name in _OWN:
        return []
    return sorted(_builtin(name, {}).getConfigs())


def to_text(safe_html: str) -> str:
    """Plain text of sanitized HTML, whitespace folded, entities decoded."""
    return " ".join(html.unescape(_TAG.sub(" ", safe_html)).split())


def first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of plain text, cut at a word boundary when it is very long."""
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
