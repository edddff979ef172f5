"""The Markdown engine: Python-Markdown with site.toml's extensions (or cmark-gfm), always sanitized."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest
from click.testing import Result
from markdown.treeprocessors import InlineProcessor

from site_builder.cases import markdown as engine
from site_builder.cases.embeds import is_elsewhere, loaded_urls
from site_builder.cases.markdown import render_sections, to_html
from site_builder.problems import ConfigError
from site_builder.settings.config import (
    DEFAULT_EXTENSIONS,
    MARKDOWN_EXTENSIONS,
    MarkdownExtension,
    Settings,
    load_settings,
)
from tests.conftest import ROOT, case_text

# Each entry tries one way past the sanitizer, many through one extension's own syntax.
HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src="x" onerror="alert(1)">',
    "<img src=https://evil.example/pixel.png>",
    '<img src="//evil.example/pixel.png" alt="p">',
    "![pixel](https://evil.example/pixel.png)",
    "![pixel][p]\n\n[p]: https://evil.example/pixel.png",
    '<p style="background:url(https://evil.example/x)">styled</p>',
    "<style>body{display:none}</style>",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="x"></object><embed src="x">',
    '<form action="https://evil.example"><input name="p"></form>',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<link rel="stylesheet" href="https://evil.example/x.css"><meta http-equiv="refresh" content="0;url=https://evil.example">',
    "<base href='https://evil.example/'>",
    "[x](javascript:alert(1))",
    "[x]( JaVaScRiPt:alert(1) )",
    '<a href="  jAvAsCrIpT:alert(1)">x</a>',
    "<a href='java&#x09;script:alert(1)'>x</a>",
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    '[x][evil]\n\n[evil]: javascript:alert(1) "title"',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    "Text[^1]\n\n[^1]: [click](javascript:alert(1)) <img src=x onerror=alert(1)>",
    "Text[^a]\n\n[^a]: <script>alert(1)</script>",
    'The HTML spec.\n\n*[HTML]: " onmouseover="alert(1)',
    '*[HTML]: <script>alert(1)</script>\n\nHTML here.\n\n*[spec]: x" style="color:red',
    "Term\n:   <img src=x onerror=alert(1)> [y](javascript:alert(1))",
    "Term <script>alert(1)</script>\n:   definition",
    'A paragraph.\n{: onclick="alert(1)" style="color:red" #search .x }',
    "# Heading {: onmouseover=alert(1) style=color:red }",
    "[link](https://example.com){: onclick=alert(1) }",
    "![p](x.png){: onerror=alert(1) src=https://evil.example/x.png }",
    "A {@onclick=alert(1)} {@style=color:red} paragraph",
    '<div markdown="1" onclick="alert(1)" style="color:red">\n*x* <script>alert(1)</script>\n</div>',
    '<div markdown="block">\n<iframe src="https://evil.example"></iframe>\n</div>',
    "```\n</code></pre><script>alert(1)</script>\n```",
    '```html onclick="alert(1)"\n<b>x</b>\n```',
    "~~~{.x onclick=alert(1)}\ncode\n~~~",
    "| a | b |\n|:--|--:|\n| <script>alert(1)</script> | [x](javascript:alert(1)) |",
    "~~<img src=x onerror=alert(1)>~~",
    'See https://example.com/"onmouseover="alert(1) and www.example.com/<script>',
    "javascript:alert(1) as a bare address",
    "<p id='search'>clobber</p><a name='x' id='fn-evil'>a</a>",
    "<sup id='fnref:1\" onclick=\"alert(1)'>1</sup>",
    "<!-- comment --><!--site-builder:section--><![CDATA[<script>alert(1)</script>]]>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<a href="https://example.com" target="_blank" rel="opener" ping="https://evil.example">x</a>',
]
ACTIVE_TAGS = {
    "script",
    "style",
    "iframe",
    "frame",
    "object",
    "embed",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "svg",
    "math",
    "link",
    "meta",
    "base",
    "noscript",
    "template",
    "audio",
    "video",
    "source",
}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")


def _bad_things(html: str) -> list[str]:
    """Everything in `html`, read as a browser would, that runs, styles, clobbers or loads from elsewhere."""
    found: list[str] = []
    reported = {url for url in loaded_urls(html) if is_elsewhere(url)}
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str):  # a comment or processing instruction
            found.append(f"comment {element!r}")
            continue
        if element.tag in ACTIVE_TAGS:
            found.append(f"<{element.tag}>")
        for name, value in element.attrib.items():
            if name.startswith("on") or name in ("style", "srcset", "ping", "formaction", "target", "name"):
                found.append(f"{element.tag}[{name}]")
            if name == "id" and not value.startswith(("fn:", "fnref:")):
                found.append(f"{element.tag}[id={value}]")
            if name in ("href", "src", "action", "data", "xlink:href"):
                plain = re.sub(r"[\x00-\x20]", "", value).lower()
                scheme = _SCHEME.match(plain)
                if scheme and scheme.group(1) not in ("http", "https", "mailto", "tel"):
                    found.append(f"{element.tag}[{name}={value}]")
                # A picture from another site is the case's error at its line (cases/embeds.py), so
                # the case is not published: what is left must be what that check reports.
                if name == "src" and (scheme or plain.startswith("//")) and value not in reported:
                    found.append(f"unreported remote {element.tag}[{name}={value}]")
    return found


ALONE = [(MarkdownExtension(name),) for name in MARKDOWN_EXTENSIONS]
CONFIGS = [(), *ALONE, tuple(MarkdownExtension(name) for name in MARKDOWN_EXTENSIONS), DEFAULT_EXTENSIONS]


@pytest.mark.parametrize("extensions", CONFIGS, ids=lambda c: "+".join(e.name for e in c) or "none")
def test_no_extension_smuggles_anything_past_the_sanitizer(extensions: tuple[MarkdownExtension, ...]) -> None:
    for source in HOSTILE:
        assert _bad_things(to_html(source, "python-markdown", extensions)) == [], source
    # Every payload in one body, split into sections as a case is.
    sections = render_sections(HOSTILE, "python-markdown", extensions)
    assert [bad for html in sections for bad in _bad_things(html)] == []


def test_commonmark_is_held_to_the_same_sanitizer() -> None:
    for source in HOSTILE:
        assert _bad_things(to_html(source, "commonmark")) == [], source
    assert [bad for html in render_sections(HOSTILE, "commonmark") for bad in _bad_things(html)] == []


def test_the_hostile_check_sees_what_it_looks_for() -> None:
    """_bad_things finds each kind of thing it reports (a check that cannot fail proves nothing)."""
    raw = (
        '<script>x</script><p onclick="x" style="color:red" id="search">a</p>'
        '<a href="javascript:alert(1)">j</a><!-- c -->'
    )
    assert len(_bad_things(raw)) == 6


def test_what_case_writers_use_survives() -> None:
    html = to_html(
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n- one\n- two\n\n**bold** ~~gone~~ [link](https://x.example/)\n\n"
        "```python\nprint('<b>')\n```\n\nTerm\n:   Meaning\n\nThe HTML spec.\n\n*[HTML]: Hyper Text Markup Language\n\n"
        "See https://example.com/page. And www.example.org, <b>raw bold</b>, <kbd>Ctrl</kbd>.\n\n"
        '![our van](van.jpg "The van")'
    )
    doc = lxml.html.fragment_fromstring(html, create_parent="div")
    assert [c.get("align") for c in doc.cssselect("th")] == ["left", "right"]
    assert [li.text for li in doc.cssselect("ul li")] == ["one", "two"]
    assert doc.cssselect("strong")[0].text == "bold" and doc.cssselect("del")[0].text == "gone"
    assert doc.cssselect("pre code")[0].text == "print('<b>')\n"
    assert doc.cssselect("dl dt")[0].text == "Term" and doc.cssselect("dl dd")[0].text_content().strip() == "Meaning"
    assert doc.cssselect("abbr")[0].get("title") == "Hyper Text Markup Language"
    links = {a.get("href"): a.text for a in doc.cssselect("a")}
    assert links["https://example.com/page"] == "https://example.com/page"  # the full stop is not part of it
    assert links["http://www.example.org"] == "www.example.org"
    assert links["https://x.example/"] == "link"
    assert all(a.get("rel") == "noopener noreferrer nofollow" for a in doc.cssselect("a"))
    assert doc.cssselect("b")[0].text == "raw bold" and doc.cssselect("kbd")[0].text == "Ctrl"
    assert doc.cssselect("img")[0].get("src") == "van.jpg" and doc.cssselect("img")[0].get("alt") == "our van"


def test_a_footnote_is_written_once_for_the_whole_body() -> None:
    """Footnotes (and abbreviations) serve every section: the body is rendered as one document."""
    problem, cause, thanks = render_sections(
        ["The van was late[^late].", "An HTML form lost it.", "Thanks.\n\n[^late]: Two hours.\n\n*[HTML]: Web pages"]
    )
    ref = lxml.html.fragment_fromstring(problem, create_parent="div").cssselect("sup a")[0]
    note = lxml.html.fragment_fromstring(thanks, create_parent="div").cssselect("div.footnote li")[0]
    assert ref.get("href") == f"#{note.get('id')}" and note.text_content().strip().startswith("Two hours.")
    assert '<abbr title="Web pages">HTML</abbr>' in cause


def test_a_section_that_leaves_code_open_is_rendered_on_its_own() -> None:
    sections = render_sections(["```\nunclosed", "Cause *here*.", "Fix."])
    assert len(sections) == 3 and "<em>here</em>" in sections[1]


def test_attr_list_is_off_unless_asked_for() -> None:
    assert "{: .note }" in to_html("A paragraph.\n{: .note }")
    with_it = to_html("A paragraph.\n{: .note title=x }", extensions=(MarkdownExtension("attr_list"),))
    assert "{:" not in with_it and "A paragraph." in with_it


def test_the_shortcuts_change_nothing(tmp_path: Path) -> None:
    """Plain paragraphs made at once and text without inline syntax left alone: the output is the
    same with the shortcuts as without, over every sample here and the benchmark's corpus."""
    from bench.corpus import write_corpus

    assert hasattr(InlineProcessor, "_InlineProcessor__handleInline")  # else the inline shortcut is never used
    samples = [*HOSTILE, *(p.read_text(encoding="utf-8") for p in sorted((ROOT / "cases").rglob("*.md")))]
    samples += [
        "Plain line\nsecond line\n\nTerm\n:   def\n\nTitle\n=====\n\nText\n---\n\n- a\n- b\nlazy line",
        "Row | two\n--- | ---\nx | y\n\nAbc\n    code?\n\n* item\n\n    Para in item\n\nAfter",
        "Para [ref] and [^n].\n\n[ref]: https://x.example\n[^n]: Note\n    more\n\nЁлка и *ёж*\n\n> quote\nlazy",
    ]
    corpus = write_corpus(40, tmp_path)
    samples += [p.read_text(encoding="utf-8").split("\n---\n", 1)[1] for p in sorted(corpus.glob("*.md"))]
    tried = 0
    for extensions in [DEFAULT_EXTENSIONS, *ALONE, tuple(MarkdownExtension(n) for n in MARKDOWN_EXTENSIONS)]:
        quick, slow = engine._markdown(extensions), engine._markdown(extensions, quick=False)
        assert (
            "quick_paragraph" in quick.parser.blockprocessors and "quick_paragraph" not in slow.parser.blockprocessors
        )
        for text in samples:
            assert quick.reset().convert(text) == slow.reset().convert(text), (extensions, text)
            tried += 1
    assert tried > 1000


# ---- site.toml ---------------------------------------------------------------------------------


def _settings(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_extensions_are_read_the_way_mkdocs_writes_them(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        'markdown_extensions = ["markdown.extensions.tables", "abbr", { footnotes = { BACKLINK_TEXT = "^" } }]\n',
    )
    assert settings.markdown_extensions == (
        MarkdownExtension("tables"),
        MarkdownExtension("abbr"),
        MarkdownExtension("footnotes", (("BACKLINK_TEXT", "^"),)),
    )
    html = render_sections(["A[^1].", "Thanks.\n\n[^1]: n"], settings.markdown_engine, settings.markdown_extensions)
    assert "footnote-backref" in html[1] and ">^</a>" in html[1]
    assert Settings().markdown_engine == "python-markdown" and Settings().markdown_extensions == DEFAULT_EXTENSIONS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'markdown_extensions = ["tabels"]',
            "markdown_extensions: 'tabels' is not an extension site-builder offers (did you mean 'tables'?)",
        ),
        (
            'markdown_extensions = ["pymdownx.tilde"]',
            "markdown_extensions: 'pymdownx.tilde' is not an extension site-builder offers (known: ",
        ),
        (
            'markdown_extensions = ["codehilite"]',
            "markdown_extensions: 'codehilite' is not offered: its colours are classes",
        ),
        (
            'markdown_extensions = ["meta"]',
            "markdown_extensions: 'meta' is not offered: front matter is read by site-builder",
        ),
        (
            'markdown_extensions = "tables"',
            "markdown_extensions: got 'tables', expected a list of names and one-key tables",
        ),
        (
            "markdown_extensions = [{ tables = 1 }]",
            "markdown_extensions: got {'tables': 1}, expected a name or { name = { option = value } }",
        ),
        (
            "markdown_extensions = [{ tables = {}, abbr = {} }]",
            "markdown_extensions: got {'tables': {}, 'abbr': {}}, expected a name or { name = { option = value } }",
        ),
        ('markdown_extensions = ["abbr", "abbr"]', "markdown_extensions: 'abbr' is listed twice"),
        (
            "markdown_extensions = [{ footnotes = { PLACE_MARKER = [1] } }]",
            "markdown_extensions: footnotes.PLACE_MARKER: expected a string, number or true/false",
        ),
        (
            'markdown_extensions = [{ footnotes = { BACKLINK = "^" } }]',
            "markdown_extensions: footnotes: unknown option 'BACKLINK' (known: BACKLINK_TEXT, BACKLINK_TITLE,",
        ),
        (
            "markdown_extensions = [{ strikethrough = { x = 1 } }]",
            "markdown_extensions: strikethrough: options {'x': 1} are not accepted: strikethrough takes no options",
        ),
        ('markdown_engine = "cmark"', "markdown_engine: 'cmark' is not one of python-markdown, commonmark"),
        (
            'markdown_engine = "commonmark"\nmarkdown_extensions = ["tables"]',
            'markdown_extensions: only for markdown_engine = "python-markdown"',
        ),
    ],
)
def test_a_wrong_extension_is_a_plain_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _settings(tmp_path, text + "\n")
    assert str(info.value).startswith(f"{tmp_path / 'site.toml'}: {message}"), str(info.value)
    assert "\n" not in str(info.value)


def test_a_wrong_extension_stops_the_build_with_exit_code_2(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case("room.md", case_text())
    (project / "site.toml").write_text('markdown_extensions = ["tables", "footnote"]\n', encoding="utf-8")
    result = cli("build", "--only", "site", "--no-search")
    assert result.exit_code == 2
    assert (
        "site.toml: markdown_extensions: 'footnote' is not an extension site-builder offers (did you mean 'footnotes'?)"
        in result.output
    )
    assert "Traceback" not in result.output and not (project / "dist/site").exists()


def _problem_html(project: Path) -> str:
    page = lxml.html.fromstring((project / "dist/site/cases/room/index.html").read_bytes())
    section: str = lxml.html.tostring(page.cssselect(".section-problem")[0], encoding="unicode")
    return section


def test_changing_the_engine_or_extensions_renders_every_case_again(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    """The case cache and the site's key hold the engine and its extensions: a change is a full
    build with every body rendered again, not the cached bodies of the last settings."""
    write_case("room.md", case_text(word="~~not~~").replace("400 miles.", "400 miles, see https://example.com/map."))
    build = ("build", "--only", "site", "--no-search", "--now", "2026-12-01")
    assert cli(*build).exit_code == 0
    assert "<del>not</del>" in _problem_html(project) and 'href="https://example.com/map"' in _problem_html(project)
    (project / "site.toml").write_text('markdown_extensions = ["tables"]\n', encoding="utf-8")
    result = cli(*build, "-v")
    assert result.exit_code == 0, result.output
    assert "~~not~~" in _problem_html(project) and "href" not in _problem_html(project)
    (project / "site.toml").write_text('markdown_engine = "commonmark"\n', encoding="utf-8")
    assert cli(*build).exit_code == 0
    assert "<del>not</del>" in _problem_html(project) and 'href="https://example.com/map"' in _problem_html(project)
    (project / "site.toml").unlink()
    assert cli(*build).exit_code == 0
    assert "<del>not</del>" in _problem_html(project)


def test_every_allowed_extension_builds_a_site(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case("room.md", case_text())
    names = ", ".join(f'"{name}"' for name in MARKDOWN_EXTENSIONS)
    (project / "site.toml").write_text(f"markdown_extensions = [{names}]\n", encoding="utf-8")
    result = cli("build", "--only", "site", "--no-search", "--now", "2026-12-01")
    assert result.exit_code == 0, result.output
    assert "400\u00a0miles" in _problem_html(project)  # a number kept with its unit (cases/typography.py)


def test_every_combination_of_two_is_sanitized() -> None:
    pairs = list(itertools.combinations(MARKDOWN_EXTENSIONS, 2))
    for pair in pairs:
        extensions = tuple(MarkdownExtension(name) for name in pair)
        bad = [b for html in render_sections(HOSTILE, "python-markdown", extensions) for b in _bad_things(html)]
        assert bad == [], pair
