"""Social cards: the PNG a shared link shows, read back as pixels, fonts and meta, and how often one is drawn."""

from __future__ import annotations

import io
import shutil
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import frontmatter
import lxml.html
import pypdf
import pytest
from click.testing import CliRunner, Result
from fontTools.ttLib import TTFont
from PIL import Image, ImageStat

from site_builder.cli import main
from site_builder.settings.config import Settings
from site_builder.settings.theme import TemplateDigests, environment, theme_fingerprint, theme_root
from site_builder.website import cards as cards_module
from site_builder.website.cards import COLORS, HEIGHT, WIDTH, Face
from tests.conftest import ROOT, SAMPLE_CASES, case_text, share_cards

BASE = "https://fixed.example.org/proof/"
FONTS = theme_root() / "leaflet/fonts"
RUSSIAN, DANISH = "Свадьба: номер нашёлся", "Æbleskiver og ø-færgen"
LONG = ("The courier left the parcel in the rain, and the replacement went to the wrong town twice " * 3)[:200]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, drawn_cards: Path) -> Path:
    """The sample cases built once for this module, site only."""
    root = tmp_path_factory.mktemp("cards")
    share_cards(root, drawn_cards)
    shutil.copytree(SAMPLE_CASES, root / "cases")
    shutil.copy(ROOT / "site.toml", root / "site.toml")
    args = [
        "build",
        "--only",
        "site",
        "--no-search",
        "--cases",
        str(root / "cases"),
        "--config",
        str(root / "site.toml"),
    ]
    result = CliRunner().invoke(main, [*args, "--out", str(root / "dist"), "--base-url", BASE])
    assert result.exit_code == 0, result.output
    return root / "dist/site"


def pages(site: Path) -> list[Path]:
    """Every HTML page of the built site."""
    return sorted(site.rglob("*.html"))


def meta(page: Path) -> dict[str, str]:
    """A page's <meta> by property or name."""
    doc = lxml.html.fromstring(page.read_bytes())
    return {m.get("property") or m.get("name") or "": m.get("content") or "" for m in doc.iter("meta")}


def chunks(png: bytes) -> list[str]:
    """The chunk types of a PNG file, in order."""
    found, at = [], 8
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at : at + 8])
        found.append(kind.decode("ascii"))
        at += 12 + length
    return found


def renderer() -> cards_module.Cards:
    """The built-in theme's card renderer."""
    settings = Settings()
    env = environment(settings, "site")
    return cards_module.Cards(settings, env, TemplateDigests(env, lambda: theme_fingerprint(settings, "site")))


def face(title: str, language: str = "en", badge: str = "Resolved in 2 days") -> Face:
    """A case's card face."""
    return Face(language, title, "Hotels", badge, "", "Northwind Services", "proof.example.com")


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """#rrggbb as a tuple."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def near(pixel: object, colour: str, tolerance: int = 12) -> bool:
    """True when `pixel` (an RGB tuple) is within `tolerance` of `colour` in every channel."""
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, hex_rgb(colour), strict=True))


def pixels(image: Image.Image) -> list[tuple[int, ...]]:
    """An RGB image's pixels, row by row."""
    data = image.convert("RGB").tobytes()
    return [tuple(data[i : i + 3]) for i in range(0, len(data), 3)]


# -- Meta and files -------------------------------------------------------------------------------


def test_every_page_but_the_404s_names_its_card_and_the_card_is_there(site: Path) -> None:
    for page in pages(site):
        found = meta(page)
        if page.name == "404.html":
            assert found["twitter:card"] == "summary" and "og:image" not in found, page
            continue
        url = found["og:image"]
        assert url.startswith(BASE) and url.endswith("card.png"), (page, url)
        assert found["twitter:card"] == "summary_large_image" and found["twitter:image"] == url, page
        assert found["og:image:type"] == "image/png", page
        card = site / url.removeprefix(BASE)
        assert card.is_file(), (page, url)
        with Image.open(card) as image:
            assert image.format == "PNG"
            assert image.size == (int(found["og:image:width"]), int(found["og:image:height"])) == (WIDTH, HEIGHT)
        assert found["og:image:alt"] and found["og:image:alt"] == found["twitter:image:alt"], page


def test_the_link_check_follows_the_cards(project: Path, write_case: Callable[..., Path]) -> None:
    (project / "site.toml").write_text('base_url = "https://x.example/proof/"\n', encoding="utf-8")
    write_case("a.md", case_text(title="Case A"))
    assert CliRunner().invoke(main, ["build", "--only", "site", "--no-search"]).exit_code == 0
    result = CliRunner().invoke(main, ["check", "--links"])
    assert result.exit_code == 0 and "All links in" in result.output, result.output
    (project / "dist/site/stats/card.png").unlink()
    result = CliRunner().invoke(main, ["check", "--links"])
    assert result.exit_code != 0
    assert "stats/index.html: https://x.example/proof/stats/card.png: no such page or file" in result.output


@pytest.mark.parametrize("how", ["cards = false", "--no-cards"])
def test_a_site_can_go_without_cards(project: Path, write_case: Callable[..., Path], how: str) -> None:
    settings = 'base_url = "https://x.example/proof/"\n' + (how + "\n" if "=" in how else "")
    (project / "site.toml").write_text(settings, encoding="utf-8")
    write_case("a.md", case_text(title="Case A"))
    flags = [how] if how.startswith("--") else []
    result = CliRunner().invoke(main, ["build", "--only", "site", "--no-search", *flags])
    assert result.exit_code == 0, result.output
    site = project / "dist/site"
    assert not list(site.rglob("*.png"))
    for page in pages(site):
        said = meta(page)
        assert "og:image" not in said and said.get("twitter:card") in (None, "summary"), page
    assert CliRunner().invoke(main, ["check", "--links"]).exit_code == 0


def test_a_case_page_points_at_its_own_card(site: Path) -> None:
    case = meta(site / "cases/cleaning-missed-office/index.html")
    assert case["og:image"] == f"{BASE}cases/cleaning-missed-office/card.png"
    assert case["og:url"] == f"{BASE}cases/cleaning-missed-office/"
    russian = next(site.glob("ru/cases/svadba-*/index.html"))
    assert meta(russian)["og:image"] == f"{BASE}{russian.parent.relative_to(site).as_posix()}/card.png"


def test_later_pages_of_a_list_share_its_first_pages_card(project: Path, write_case: Callable[..., Path]) -> None:
    (project / "site.toml").write_text('per_page = 1\nbase_url = "https://x.example/"\n', encoding="utf-8")
    write_case("a.md", case_text(title="Case A"))
    write_case("b.md", case_text(title="Case B", date="2026-03-06"))
    result = CliRunner().invoke(main, ["build", "--only", "site", "--no-search"])
    assert result.exit_code == 0, result.output
    site = project / "dist/site"
    later = sorted(site.glob("**/page/2/index.html"))
    assert len(later) == 4  # the home page, two tags, one industry
    for page in later:
        first = page.parent.parent.parent.relative_to(site).as_posix()
        assert meta(page)["og:image"] == "https://x.example/" + ("" if first == "." else first + "/") + "card.png"
        assert not (page.parent / "card.png").exists()


def test_the_card_text_alternative_is_in_the_page_language_and_names_no_customer(site: Path) -> None:
    russian = meta(next(site.glob("ru/cases/svadba-*/index.html")))["og:image:alt"]
    danish = meta(next(site.glob("da/cases/bryllup-*/index.html")))["og:image:alt"]
    english = meta(site / "cases/cleaning-missed-office/index.html")["og:image:alt"]
    assert russian.startswith("Карточка с надписью «") and "Решено за" in russian
    assert danish.startswith("Kort med teksten »") and "Løst på" in danish
    assert english.startswith("Card reading “") and "Resolved in" in english and "Northwind" in english
    hidden = [
        str(post["customer"])
        for path in SAMPLE_CASES.rglob("*.md")
        if (post := frontmatter.load(path)).get("customer") and post.get("consent") is not True
    ]
    assert hidden, "the sample should hold a customer who did not consent"
    alts = " ".join(meta(page).get("og:image:alt", "") for page in pages(site))
    assert [name for name in hidden if name in alts] == []


def test_cards_are_pictures_in_the_theme_colours_with_nothing_but_pixels(site: Path) -> None:
    cards = sorted(site.rglob("card.png"))
    assert len(cards) >= 20
    for card in cards:
        data = card.read_bytes()
        assert set(chunks(data)) <= {"IHDR", "PLTE", "IDAT", "IEND"}, card  # no text, time or profile
        with Image.open(io.BytesIO(data)) as opened:
            image = opened.convert("RGB")
        assert max(ImageStat.Stat(image).stddev) > 20, f"{card} is nearly blank"
        for y in (0, HEIGHT // 2, HEIGHT - 1):  # the brand's stripe, from edge to edge
            assert near(image.getpixel((10, y)), COLORS["accent"]), (card, y)
        assert near(image.getpixel((WIDTH // 2, 8)), COLORS["bg"]), card  # a light ground
        # Dark text on it: the title's strokes, in the theme's text colour.
        title = pixels(image.crop((100, 100, WIDTH - 80, 380)))
        assert any(near(pixel, COLORS["fg"], 30) for pixel in title), card


# -- Fonts and fit --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "language", "badge"), [(RUSSIAN, "ru", "Решено за 2 дня"), (DANISH, "da", "Løst på 3 dage")]
)
def test_the_bundled_fonts_draw_every_letter_of_a_russian_and_a_danish_card(
    title: str, language: str, badge: str
) -> None:
    html = renderer().html(face(title, language, badge))
    assert "PTSerif-Bold.ttf" in html  # the title's face
    cmap = TTFont(FONTS / "PTSerif-Bold.ttf").getBestCmap()
    assert [c for c in title if ord(c) not in cmap] == []
    cmap = TTFont(FONTS / "PTSans-Bold.ttf").getBestCmap()
    assert [c for c in badge if ord(c) not in cmap] == []
    # And the layout used them: only the faces the card's @font-face rules load from those files are
    # embedded (named after their families), neither its DejaVu fallback nor a font of the system.
    reader = pypdf.PdfReader(io.BytesIO(cards_module.pdf_from_card(html)))
    embedded = {
        str(font["/BaseFont"]).split("+")[-1]
        for page in reader.pages
        for font in cast(Any, page)["/Resources"]["/Font"].values()
    }
    assert embedded == {"Card-Serif-Bold", "Card-Sans-Bold", "Card-Sans"}, embedded


@pytest.mark.parametrize("title", [LONG, "Ø" * 200, "Свадьба " * 25])
def test_a_200_character_title_stays_on_the_card(title: str) -> None:
    """One page (a title too tall pushes the footer onto a second), and nothing in the right margin."""
    html = renderer().html(face(title[:200]))
    assert len(pypdf.PdfReader(io.BytesIO(cards_module.pdf_from_card(html))).pages) == 1
    with Image.open(io.BytesIO(cards_module.png_from_html(html))) as opened:
        image = opened.convert("RGB")
    margin = pixels(image.crop((WIDTH - 70, 0, WIDTH, HEIGHT)))
    assert all(near(pixel, COLORS["bg"], 4) for pixel in margin), "the title ran into the right margin"


# -- Drawn once -----------------------------------------------------------------------------------


def test_a_card_is_drawn_only_when_what_it_shows_or_how_it_is_drawn_changed(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    real = cards_module.png_from_html

    def counting(html: str) -> bytes:
        drawn.append(lxml.html.fromstring(html).findtext(".//title") or "")
        return real(html)

    monkeypatch.setattr(cards_module, "png_from_html", counting)
    (project / ".site-builder/cache/cards").unlink()  # this project's own cache, not the session's

    def build(out: str = "dist") -> Result:
        # One job: the cards are drawn in this process, where they are counted.
        result = CliRunner().invoke(main, ["build", "--only", "site", "--no-search", "--jobs", "1", "--out", out])
        assert result.exit_code == 0, result.output
        return result

    write_case("a.md", case_text(title="Case A"))
    write_case("b.md", case_text(title="Case B"))
    build()
    cards = sorted(p.relative_to(project / "dist/site").as_posix() for p in (project / "dist/site").rglob("card.png"))
    # Two cases, the home page, the tags, industries, stats and changes pages, two tags and one industry.
    assert len(cards) == len(drawn) == 10, (cards, drawn)
    assert "Case A" in drawn and "Case B" in drawn
    drawn.clear()
    build()
    assert drawn == []
    path = project / "cases/a.md"
    path.write_text(path.read_text(encoding="utf-8").replace("simply", "clearly"), encoding="utf-8")  # its text
    build()
    assert drawn == []
    path.write_text(path.read_text(encoding="utf-8").replace("Case A", "Case A, renamed"), encoding="utf-8")
    build()
    assert drawn == ["Case A, renamed"]
    drawn.clear()
    build("elsewhere")  # a fresh output folder: every card from the cache
    assert drawn == []
    overrides = project / "theme-overrides/site"
    overrides.mkdir(parents=True)
    base = (theme_root() / "site/base.html").read_text(encoding="utf-8")
    (overrides / "base.html").write_text(base.replace("<body>", "<body class='x'>"), encoding="utf-8")
    build()
    assert drawn == [], "a page's template is not the card's"
    card = (theme_root() / "site/card.html").read_text(encoding="utf-8")
    (overrides / "card.html").write_text(card.replace("padding: 10px 28px", "padding: 12px 28px"), encoding="utf-8")
    build()
    assert len(drawn) == 10
    drawn.clear()
    fonts = project / "theme-overrides/leaflet/fonts"
    fonts.mkdir(parents=True)
    shutil.copy(FONTS / "PTSans-Bold.ttf", fonts / "PTSans-Regular.ttf")
    build()
    assert len(drawn) == 10


def test_a_mistake_in_the_card_template_names_its_line(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("a.md", case_text(title="Case A"))
    overrides = project / "theme-overrides/site"
    overrides.mkdir(parents=True)
    card = (theme_root() / "site/card.html").read_text(encoding="utf-8")
    (overrides / "card.html").write_text(
        card.replace('font("PTSans-Bold.ttf")', 'font("Missing.ttf")'), encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["build", "--only", "site", "--no-search", "--jobs", "1"])
    assert result.exit_code != 0
    assert "card.html:" in result.output and "Missing.ttf" in result.output, result.output
    assert "Traceback" not in result.output
