"""Social cards: the 1200x630 PNG a shared link shows (og:image), one per page a reader may share.

A card is drawn from the theme's card.html with the theme's bundled fonts: WeasyPrint lays it out
on one page, PDFium draws that page as pixels, Pillow writes a PNG with nothing but its pixels.
Each card is keyed by what it shows (its face) and how it is drawn (template, fonts, colours,
library versions), and kept in .site-builder/cache/cards/: an unchanged card is never drawn again,
even into a fresh output folder. WeasyPrint and PDFium are imported only when a card is drawn.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import jinja2

from site_builder import __version__
from site_builder.build.artifacts import Artifact
from site_builder.build.cache import Cache
from site_builder.build.keys import file_key, key
from site_builder.settings.config import Settings
from site_builder.settings.i18n import Translator
from site_builder.settings.theme import TemplateDigests, static_files, theme_error, theme_folders
from site_builder.website.links import Links

WIDTH, HEIGHT = 1200, 630  # what Facebook, LinkedIn, Slack and X show large without cropping
FILE = "card.png"  # beside the page it stands for
TEMPLATE = "card.html"
FONT_FILES = (".ttf", ".otf", ".woff")

# The built-in theme's light colours; a theme's style.css that sets these variables in its first
# :root block colours its cards too.
COLORS = {
    "bg": "#fbfaf7",
    "fg": "#1d1f23",
    "muted": "#555b66",
    "line": "#dcd8cf",
    "accent": "#0b5f4a",
    "accent_soft": "#e3f1ec",
    "badge_fg": "#084536",
}
# How the code below draws a card, in the key of each: changed with it, so no cache keeps a card drawn
# the old way. 2: 64 colours.
DRAWN = 2
_VARIABLE = re.compile(r"--([a-z-]+)\s*:\s*(#[0-9a-fA-F]{3,8})\s*;")


@dataclass(frozen=True, slots=True)
class Face:
    """What one card shows, all in one language: its key is made of this and nothing else of the page."""

    language: str
    title: str
    kicker: str  # the line above the title: a case's industry, the site's title, or nothing
    badge: str  # a case's "Resolved in 2 days", else ""
    lead: str  # a line under the title: the home page's description, else ""
    company: str
    site: str  # the site's title


@dataclass(frozen=True, slots=True)
class Shared:
    """What a page's meta says of its card."""

    url: str
    alt: str
    width: int = WIDTH
    height: int = HEIGHT
    type: str = "image/png"


def card_path(page: str) -> str:
    """The card of the page at site path `page` (a folder path such as 'cases/x/' or '')."""
    return f"{page}{FILE}"


def alt_text(face: Face, t: Translator) -> str:
    """The card's text alternative in its language: what it reads and who published it."""
    said = t("card_alt", title=face.title, company=face.company)
    return f"{said}. {face.badge}" if face.badge else said


def colors(settings: Settings) -> dict[str, str]:
    """The card's colours: the built-in ones, replaced by those the theme's style.css sets."""
    found = dict(COLORS)
    style = static_files(settings, "site").get("style.css")
    if style is None:
        return found
    light = style.read_text(encoding="utf-8", errors="replace").split("@media", 1)[0]
    for name, value in _VARIABLE.findall(light):
        wanted = name.replace("-", "_")
        if wanted in found:
            found[wanted] = value
    return found


def fonts(settings: Settings) -> dict[str, Path]:
    """The theme's bundled fonts by file name (theme/leaflet/fonts, an override's first)."""
    found: dict[str, Path] = {}
    for folder in reversed(theme_folders(settings, "leaflet")):
        if (folder / "fonts").is_dir():
            found.update({p.name: p for p in sorted((folder / "fonts").iterdir()) if p.suffix in FONT_FILES})
    return found


def drawing(settings: Settings) -> str:
    """A digest of what every card is drawn with besides its template: the fonts, the colours and
    the versions of the libraries that draw it."""
    return key(
        __version__,
        DRAWN,
        version("weasyprint"),
        version("pypdfium2"),
        version("pillow"),
        sorted((name, file_key(path)) for name, path in fonts(settings).items()),
        sorted(colors(settings).items()),
    )


class Cards:
    """Makes the card artifacts of one build and what each page's meta says of its card."""

    def __init__(self, settings: Settings, env: jinja2.Environment, templates: TemplateDigests) -> None:
        self.settings, self.env, self.templates = settings, env, templates
        self.links = Links(settings)
        self.cache = Cache(settings.cache_dir / "cards")

    def shared(self, page: str, face: Face, t: Translator) -> Shared | None:
        """The card of the page at `page`, for its meta; None with `cards = false`."""
        if not self.settings.cards:
            return None
        return Shared(self.links.absolute(card_path(page)), alt_text(face, t))

    @functools.cached_property
    def _drawing(self) -> tuple[str, dict[str, str], dict[str, str]]:
        """The digest of how every card is drawn, the font URLs and the colours (once a build)."""
        found = fonts(self.settings)
        made_of = key(drawing(self.settings), self.templates(TEMPLATE))
        return made_of, {name: path.resolve().as_uri() for name, path in found.items()}, colors(self.settings)

    def artifacts(self, page: str, face: Face) -> list[Artifact]:
        """The card of the page at `page`: from the cache, or drawn (in the writer's workers); none
        with `cards = false`."""
        if not self.settings.cards:
            return []
        made_of = key(self._drawing[0], face)
        return [Artifact(card_path(page), functools.partial(self._made, face, made_of), made_of)]

    def html(self, face: Face) -> str:
        """The card's HTML, for WeasyPrint."""
        _, urls, palette = self._drawing
        try:
            return self.env.get_template(TEMPLATE).render(
                face=face,
                width=WIDTH,
                height=HEIGHT,
                colors=palette,
                font=functools.partial(_font_url, urls),
            )
        except jinja2.TemplateError as exc:
            raise theme_error(exc, TEMPLATE) from None  # may run in a worker: the message, not the frames

    def _made(self, face: Face, made_of: str) -> bytes:
        cached = self.cache.get(made_of)
        if cached is not None:
            return cached
        data = png_from_html(self.html(face))
        self.cache.put(made_of, data)
        return data


def _font_url(urls: dict[str, str], name: str) -> str:
    """A bundled font's file: URL; a name the theme lacks is the template's error, with its line."""
    if name not in urls:
        raise jinja2.TemplateRuntimeError(f"no font {name!r} in the theme's fonts folder ({', '.join(sorted(urls))})")
    return urls[name]


def pdf_from_card(html: str) -> bytes:
    """The card laid out as a PDF: one page when it fits. Only local files (the fonts) are read."""
    from site_builder import runtime
    from site_builder.leaflets.pdf import font_configuration

    weasyprint = runtime.import_weasyprint()  # first: it spares the import the library search
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"file"}, timeout=5)
    document = weasyprint.HTML(string=html, url_fetcher=fetcher).render(font_config=font_configuration())
    return bytes(document.write_pdf())


def png_from_html(html: str) -> bytes:
    """The card's first page as a WIDTH x HEIGHT PNG holding only pixels (no text chunks, no dates)."""
    import pypdfium2
    from PIL import Image

    pdf = pypdfium2.PdfDocument(pdf_from_card(html))
    try:
        page = pdf[0]
        bitmap = page.render(scale=WIDTH / page.get_width())
        image: Image.Image = bitmap.to_pil().convert("RGB")
    finally:
        pdf.close()
    if image.size != (WIDTH, HEIGHT):  # a rounding pixel: the meta promises this size exactly
        image = image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    # 64 colours are plenty for text in a few flat colours and its anti-aliasing, and make the file
    # a third of the RGB one (24 kB where 80 kB: 10,000 cards are in the site and in the cache);
    # fast octree costs 10-20 ms, median cut 5 times as much.
    image = image.quantize(64, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    image.save(out, "PNG")  # no pnginfo: IHDR, PLTE, IDAT and IEND, nothing else
    return out.getvalue()
