"""site.toml -> a frozen, typed Settings object; every problem is reported at once."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import string
import tomllib
import zoneinfo
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar, get_origin, get_type_hints
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError

from site_builder.problems import ConfigError

SECTION_KEYS = ("problem", "cause", "fix", "thanks")
# Sections a case may have besides the four: "What we changed", after Fix, gathered on one page.
OPTIONAL_SECTION_KEYS = ("changed",)


def _doc(text: str, default: Any = MISSING, factory: Any = MISSING) -> Any:
    """A dataclass field with a docstring kept beside its default."""
    if factory is not MISSING:
        return field(default_factory=factory, metadata={"doc": text})
    return field(default=default, metadata={"doc": text})


@dataclass(frozen=True, slots=True)
class Company:
    """Who publishes the cases; shown in footers, emails and leaflets."""

    name: str = _doc("Company name shown in the footer, the digest and leaflets.", "Example Ltd")
    email: str = _doc("Where customers can write to.", "hello@example.com")
    phone: str = _doc("Phone number printed on leaflets.", "")
    website: str = _doc("Company home page.", "")
    address: str = _doc("Postal address printed on leaflets.", "")
    logo: str = _doc(
        "An SVG or PNG file in the project (relative to site.toml): the site's icon and the publisher's logo "
        "in its structured data; empty: the theme's icon.",
        "",
    )
    complain_url: str = _doc(
        "Where a customer tells you something went wrong: your form (https://...) or a mailto: address; "
        "the first way in the invitation to complain on every page, digest and leaflet.",
        "",
    )


MARKDOWN_ENGINES = ("python-markdown", "commonmark")
# Python-Markdown's built-in extensions whose output the sanitizer keeps and the theme shows, and
# site-builder's own two (GitHub's ~~strikethrough~~ and bare web addresses made into links).
MARKDOWN_EXTENSIONS = (
    "abbr",
    "attr_list",
    "def_list",
    "fenced_code",
    "footnotes",
    "legacy_attrs",
    "legacy_em",
    "md_in_html",
    "nl2br",
    "sane_lists",
    "smarty",
    "tables",
    "autolink",
    "strikethrough",
)
# Built-in ones a case writer may know from MkDocs, and why a case cannot use them.
REFUSED_EXTENSIONS = {
    "admonition": "its boxes are classes the sanitizer removes and the theme does not style",
    "codehilite": "its colours are classes the sanitizer removes and the theme does not style",
    "extra": "list the parts you want instead: abbr, attr_list, def_list, fenced_code, footnotes, md_in_html, tables",
    "meta": "front matter is read by site-builder; meta would swallow a first line like 'Note: ...'",
    "toc": "its heading ids could clash with the page's own, so the sanitizer removes them",
    "wikilinks": "its [[links]] point at pages site-builder does not make",
}


@dataclass(frozen=True, slots=True)
class MarkdownExtension:
    """One Python-Markdown extension a case body is rendered with, and its options."""

    name: str
    options: tuple[tuple[str, str | int | float | bool], ...] = ()


DEFAULT_EXTENSIONS = tuple(
    MarkdownExtension(name)
    for name in ("tables", "fenced_code", "sane_lists", "footnotes", "abbr", "def_list", "strikethrough", "autolink")
)

SECURITY = ("starttls", "ssl", "none")
PAPER_SIZES = ("A4", "A5", "A6", "Letter")


@dataclass(frozen=True, slots=True)
class Smtp:
    """How to reach the mail server; the password comes only from the environment."""

    host: str = _doc("SMTP server name.", "localhost")
    port: int = _doc("SMTP port; 0 picks 587 (starttls), 465 (ssl) or 25 (none).", 0)
    security: str = _doc("starttls, ssl or none.", "starttls")
    username: str = _doc("Login name; empty for no login.", "")
    password_env: str = _doc("Environment variable holding the password.", "SITE_BUILDER_SMTP_PASSWORD")
    timeout: float = _doc("Seconds to wait for the server before a try counts as failed.", 30.0)

    @property
    def effective_port(self) -> int:
        """The port to use: the configured one, or the usual one for the security mode."""
        return self.port or {"starttls": 587, "ssl": 465, "none": 25}[self.security]


@dataclass(frozen=True, slots=True)
class Mailbox:
    """The IMAP mailbox unsubscribe requests and bounces arrive in (`site-builder mailbox`); the
    password comes only from the environment."""

    host: str = _doc("IMAP server name; empty: `mailbox` is not set up.", "")
    port: int = _doc("IMAP port; 0 picks 993 (ssl) or 143 (starttls, none).", 0)
    security: str = _doc("ssl, starttls or none.", "ssl")
    username: str = _doc("Login name.", "")
    password_env: str = _doc("Environment variable holding the password.", "SITE_BUILDER_MAILBOX_PASSWORD")
    folder: str = _doc("Folder to read.", "INBOX")
    done_folder: str = _doc(
        "Folder handled messages are moved to (made when missing); / separates levels.", "site-builder/handled"
    )
    timeout: float = _doc("Seconds to wait for each answer of the server.", 30.0)

    @property
    def effective_port(self) -> int:
        """The port to use: the configured one, or the usual one for the security mode."""
        return self.port or (993 if self.security == "ssl" else 143)


@dataclass(frozen=True, slots=True)
class Digest:
    """The email digest: who it is from, how many cases, where the send ledger lives."""

    sender: str = _doc("From address; default: the company's name and email.", "")
    reply_to: str = _doc("Reply-To address; default: the company's email.", "")
    days: int = _doc("Period of the first digest, in days back from --until.", 30)
    max_cases: int = _doc("Most cases in one digest; the rest are linked.", 20)
    ledger: str = _doc("SQLite file recording every message sent (relative to site.toml).", ".site-builder/sent.sqlite")
    unsubscribe_mailto: str = _doc("Address for unsubscribe requests; default: the company's email.", "")
    unsubscribe_url: str = _doc(
        "https URL for one-click unsubscribe (RFC 8058); {token} is replaced by the reader's token.", ""
    )
    unsubscribe_secret_env: str = _doc(
        "Environment variable holding the secret that signs unsubscribe tokens (keep it the same for ever).",
        "SITE_BUILDER_UNSUBSCRIBE_SECRET",
    )
    untranslated: str = _doc(
        "A case with no translation in a reader's language: show (the original, marked with its language) or hide.",
        "show",
    )
    retries: int = _doc("Tries per message when the server fails temporarily.", 4)
    backoff: float = _doc("Seconds before the first retry; doubles each time.", 1.0)
    dkim_key: str = _doc(
        "Private key (PEM, RSA or Ed25519) to DKIM-sign every message with (relative to site.toml); empty: no signing.",
        "",
    )
    dkim_selector: str = _doc("DKIM selector: the public key is the TXT record SELECTOR._domainkey.DOMAIN.", "")
    dkim_domain: str = _doc("DKIM signing domain (d=); default: the sender's domain.", "")


@dataclass(frozen=True, slots=True)
class Leaflet:
    """Printable leaflets."""

    size: str = _doc("Paper size: A4, A5, A6 or Letter.", "A5")
    print_marks: bool = _doc("Add 3 mm bleed and crop marks for a print shop.", False)
    print: bool = _doc(
        "Print-shop files: PDF/X-4, CMYK with the theme's output intent, 3 mm bleed and crop marks (not PDF/UA).",
        False,
    )


@dataclass(frozen=True, slots=True)
class LanguageText:
    """What the site says in one language: `[languages.ru]` in site.toml. Empty text means the
    site's own (from the top of site.toml)."""

    title: str = _doc("Site title in this language.", "")
    description: str = _doc("The site's one sentence in this language.", "")
    company: dict[str, str] = _doc(
        "The company's text in this language: [languages.ru.company] address = '...'", factory=dict
    )
    industries: dict[str, str] = _doc(
        "Industry names in this language: [languages.ru.industries] 'online retail' = 'интернет-магазин'",
        factory=dict,
    )
    tags: dict[str, str] = _doc("Tag names in this language: [languages.ru.tags] refund = 'возврат'", factory=dict)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a build needs to know besides the cases themselves."""

    title: str = _doc("Site title.", "Complaints we fixed")
    description: str = _doc(
        "One sentence for search engines and the feed.",
        "Real complaints from our customers, what caused them and how we fixed them.",
    )
    base_url: str = _doc(
        "Absolute URL the site is published at; feeds, sitemaps and emails use it.",
        "http://localhost:8000/",
    )
    language: str = _doc("Default language of cases and of the site's own pages.", "en")
    languages: tuple[str, ...] = _doc("Languages a case may be written in.", ("en", "ru", "da"))
    theme_dir: str = _doc(
        "Folder whose files override the built-in theme's (relative to site.toml).",
        "theme-overrides",
    )
    per_page: int = _doc("Cases per index page before it is split into pages.", 20)
    timezone: str = _doc(
        "Time zone of received/resolved times written without an offset (like Europe/Copenhagen).", "UTC"
    )
    title_pattern: str = _doc(
        "How each page's title is written: {page} (the page's own name; the site title on the home page), "
        "{site} (the site title), {company} (the company's name).",
        "{page} · {company}",
    )
    search: bool = _doc("Build the search index (Pagefind) and show the search box.", True)
    cards: bool = _doc(
        "Draw a social card (a 1200x630 PNG) for every page, the picture a shared link shows; false: none "
        "(a first build of a large site is much faster: about 40 ms of CPU a card).",
        True,
    )
    untranslated: str = _doc(
        "A case with no translation in a language: show (in that language's lists, marked) or hide.", "show"
    )
    markdown_engine: str = _doc(
        "python-markdown (extensions below), or commonmark (cmark-gfm: GitHub's dialect, faster, no extensions).",
        "python-markdown",
    )
    markdown_extensions: tuple[MarkdownExtension, ...] = _doc(
        'Python-Markdown extensions, MkDocs style: ["tables", { footnotes = { BACKLINK_TEXT = "^" } }].',
        DEFAULT_EXTENSIONS,
    )
    company: Company = _doc("The company publishing the cases.", factory=Company)
    smtp: Smtp = _doc("Mail server for `send`.", factory=Smtp)
    mailbox: Mailbox = _doc("Mailbox `mailbox` reads unsubscribe requests and bounces from.", factory=Mailbox)
    digest: Digest = _doc("The email digest.", factory=Digest)
    leaflet: Leaflet = _doc("Printable leaflets.", factory=Leaflet)
    sections: dict[str, dict[str, tuple[str, ...]]] = _doc(
        "Extra heading aliases: [sections.de] problem = ['Problem'], ...", factory=dict
    )
    strings: dict[str, dict[str, str]] = _doc(
        "UI text overrides or new languages: [strings.de] a_customer = 'ein Kunde'", factory=dict
    )
    texts: dict[str, LanguageText] = field(
        default_factory=dict, metadata={"doc": "Per-language text, from [languages.xx] tables (not a setting)."}
    )
    root: Path = field(default=Path(), metadata={"doc": "Folder of site.toml (not a setting)."})

    @property
    def fallbacks(self) -> tuple[str, ...]:
        """The languages in the order a story without a reader's language is shown in: the site's
        first, then site.toml's order."""
        return (self.language, *(lang for lang in self.languages if lang != self.language))

    def text(self, language: str) -> LanguageText:
        """What the site says in `language` ([languages.xx]); empty text means the site's own."""
        return self.texts.get(language) or LanguageText()

    def title_in(self, language: str) -> str:
        """The site title in `language`."""
        return self.text(language).title or self.title

    def description_in(self, language: str) -> str:
        """The site's description in `language`."""
        return self.text(language).description or self.description

    def company_in(self, language: str) -> Company:
        """The company with its text in `language` where site.toml gives one."""
        return replace(self.company, **self.text(language).company) if language in self.texts else self.company

    def canonical(self, kind: str, name: str) -> str:
        """An industry or tag by the name it has in site.toml's tables, whatever language it was written in."""
        for text in self.texts.values():
            for canonical, shown in getattr(text, kind).items():
                if name in (canonical, shown):
                    return str(canonical)
        return name

    def names_of(self, kind: str, name: str) -> frozenset[str]:
        """Every name an industry or tag has in site.toml's tables (the name itself included)."""
        canonical = self.canonical(kind, name)
        shown = (names[canonical] for text in self.texts.values() if canonical in (names := getattr(text, kind)))
        return frozenset({name, canonical, *shown})

    def shown(self, kind: str, name: str, language: str) -> str:
        """An industry's or tag's name as a reader of `language` sees it."""
        names: dict[str, str] = getattr(self.text(language), kind)
        canonical = self.canonical(kind, name)
        return names.get(canonical, canonical)

    def page_title(self, page: str, language: str) -> str:
        """A page's title in `language` from its own name, as title_pattern writes it."""
        site, company = self.title_in(language), self.company_in(language).name
        return self.title_pattern.format(page=page, site=site, company=company)

    @property
    def logo_path(self) -> Path | None:
        """The company's logo, resolved against site.toml's folder; None when there is none."""
        return self.root / self.company.logo if self.company.logo else None

    @property
    def ledger_path(self) -> Path:
        """The send ledger, resolved against site.toml's folder."""
        return self.root / self.digest.ledger

    @property
    def dkim_key_path(self) -> Path | None:
        """The DKIM private key, resolved against site.toml's folder; None when messages are not signed."""
        return self.root / self.digest.dkim_key if self.digest.dkim_key else None

    @property
    def zone(self) -> dt.tzinfo:
        """The time zone of times written without an offset."""
        return zone_named(self.timezone)

    @property
    def cache_dir(self) -> Path:
        """Where rendered leaflets are kept between builds (safe to delete)."""
        return self.root / ".site-builder" / "cache"

    @property
    def theme_override(self) -> Path:
        """The user's override folder, resolved against site.toml's folder."""
        return self.root / self.theme_dir

    def with_base_url(self, base_url: str) -> Settings:
        """A copy with another base URL (from --base-url), checked like the file's."""
        problems: list[str] = []
        url = _check_base_url(base_url, "--base-url", problems)
        if problems:
            raise ConfigError("\n".join(problems))
        return replace(self, base_url=url)


T = TypeVar("T")


def _check_base_url(value: str, where: str, problems: list[str]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(f"{where}: {value!r} is not an absolute http(s) URL (like https://example.com/)")
    return value if value.endswith("/") else value + "/"


def _check_complain_url(value: str, where: str, problems: list[str]) -> None:
    """complain_url becomes a link on every page, email and leaflet: a web form or a mailbox, nothing
    a browser would run (javascript:, data:) and nothing relative to a page that moves."""
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    web = scheme in ("http", "https") and bool(parts.netloc)
    mail = scheme == "mailto" and "@" in parts.path
    if value and (not (web or mail) or any(c.isspace() or not c.isprintable() for c in value)):
        problems.append(
            f"{where}: {value!r} is not a web or email address; write the full address of your complaint "
            "form (like https://example.com/complaints) or mailto:care@example.com"
        )


def zone_named(name: str) -> dt.tzinfo:
    """A time zone by its IANA name; UTC needs no time zone database."""
    if name.upper() == "UTC":
        return dt.UTC
    return zoneinfo.ZoneInfo(name)


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is tuple:
        return "a list of strings"
    if origin is dict:
        return "a table"
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}
    return names.get(tp, str(tp))


def _matches(value: Any, tp: Any) -> bool:
    origin = get_origin(tp)
    if origin is tuple:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, tp)


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(sorted(known))


def _load_table(cls: type[T], data: dict[str, Any], where: str, problems: list[str]) -> T:
    hints = get_type_hints(cls)
    known = [f.name for f in fields(cls) if f.name not in ("root", "texts")]  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            problems.append(f"{where}{key}: unknown setting ({_hint(key, known)})")
            continue
        tp = hints[key]
        if isinstance(tp, type) and hasattr(tp, "__dataclass_fields__"):
            if isinstance(value, dict):
                values[key] = _load_table(tp, value, f"{where}{key}.", problems)
            else:
                problems.append(f"{where}{key}: expected a table [{key}]")
        elif not _matches(value, tp):
            problems.append(f"{where}{key}: got {value!r}, expected {_type_name(tp)}")
        else:
            values[key] = tuple(value) if get_origin(tp) is tuple else float(value) if tp is float else value
    return cls(**values)


# A DNS name of letters, digits and hyphens (RFC 6376 selectors and domains, in ASCII).
_DNS_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")


def _check_dkim(digest: Digest, problems: list[str]) -> None:
    """The DKIM settings go together: a key needs a selector; a selector or domain without a key signs nothing."""
    if not digest.dkim_key:
        for name in ("dkim_selector", "dkim_domain"):
            if getattr(digest, name):
                problems.append(f"digest.{name}: set, but dkim_key is not, so nothing is signed; set both or neither")
        return
    if not digest.dkim_selector:
        problems.append(
            "digest.dkim_selector: needed with dkim_key: the name of the key's TXT record, SELECTOR._domainkey.DOMAIN"
        )
    elif not _DNS_NAME.fullmatch(digest.dkim_selector):
        problems.append(f"digest.dkim_selector: {digest.dkim_selector!r} is not a DNS name (letters, digits, - and .)")
    if digest.dkim_domain and not _DNS_NAME.fullmatch(dns_name(digest.dkim_domain)):
        problems.append(f"digest.dkim_domain: {digest.dkim_domain!r} is not a domain name (like example.com)")


def dns_name(domain: str) -> str:
    """A domain as DNS has it: ASCII, IDNA-encoded when written in another script; "" when it cannot be."""
    domain = domain.rstrip(".")
    if domain.isascii():
        return domain.lower()
    import idna  # only for a domain in another script: its tables take a while to load

    try:
        return str(idna.encode(domain, uts46=True).decode("ascii"))
    except idna.IDNAError:
        return ""


TITLE_PLACEHOLDERS = ("page", "site", "company")


def _check_title_pattern(pattern: str, problems: list[str]) -> None:
    """title_pattern names only the placeholders there are, and the page's own name."""
    allowed = ", ".join(f"{{{name}}}" for name in TITLE_PLACEHOLDERS)
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        problems.append(f"title_pattern: {pattern!r} is not valid: {exc} (write {{{{ and }}}} for a brace)")
        return
    for _, name, spec, conversion in parsed:
        if name is not None and (name not in TITLE_PLACEHOLDERS or spec or conversion):
            problems.append(f"title_pattern: {{{name}}} is not a placeholder of a title (use {allowed})")
            return
    if "page" not in (name for _, name, _, _ in parsed):
        problems.append(f"title_pattern: {pattern!r} leaves out {{page}}: every page would have the same title")


def _check_logo(logo: str, root: Path, problems: list[str]) -> None:
    """The logo is an SVG or PNG file inside the project (the site copies it; nothing else is read)."""
    where = f"company.logo: {logo!r}"
    if Path(logo).suffix.lower() not in (".svg", ".png"):
        problems.append(f"{where} is not an .svg or .png file; give the path of an SVG or PNG logo")
        return
    path = (root / logo).resolve()
    if not path.is_relative_to(root.resolve()):
        problems.append(f"{where} is outside the project folder ({root.resolve()}); copy the file into it")
    elif not path.is_file():
        problems.append(f"{where} not found (looked for {path}); the path is relative to site.toml")


def _check_sections(raw: dict[str, Any], problems: list[str]) -> dict[str, dict[str, tuple[str, ...]]]:
    result: dict[str, dict[str, tuple[str, ...]]] = {}
    for lang, table in raw.items():
        if not isinstance(table, dict):
            problems.append(f"sections.{lang}: expected a table of heading aliases")
            continue
        result[lang] = {}
        for key, names in table.items():
            if key not in SECTION_KEYS + OPTIONAL_SECTION_KEYS:
                known = list(SECTION_KEYS + OPTIONAL_SECTION_KEYS)
                problems.append(f"sections.{lang}.{key}: unknown section ({_hint(key, known)})")
            elif not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
                problems.append(f"sections.{lang}.{key}: expected a list of headings")
            else:
                result[lang][key] = tuple(names)
    return result


def _check_markdown(engine: str, raw: Any, problems: list[str]) -> tuple[MarkdownExtension, ...]:
    """markdown_extensions as MkDocs writes them: each item a name, or a one-key table of the name
    and its options; every problem is said with what is expected."""
    if engine not in MARKDOWN_ENGINES:
        problems.append(f"markdown_engine: {engine!r} is not one of {', '.join(MARKDOWN_ENGINES)}")
    if raw is None:
        return DEFAULT_EXTENSIONS
    if engine == "commonmark":
        problems.append(
            'markdown_extensions: only for markdown_engine = "python-markdown" '
            "(commonmark has GitHub's tables, strikethrough and links built in); remove one of the two"
        )
        return DEFAULT_EXTENSIONS
    form = 'a list of names and one-key tables, like ["tables", { footnotes = { BACKLINK_TEXT = "^" } }]'
    if not isinstance(raw, list):
        problems.append(f"markdown_extensions: got {raw!r}, expected {form}")
        return DEFAULT_EXTENSIONS
    found: list[MarkdownExtension] = []
    for item in raw:
        name, options = (item, {}) if isinstance(item, str) else _one_key(item)
        if name is None or not isinstance(options, dict):
            problems.append(f"markdown_extensions: got {item!r}, expected a name or {{ name = {{ option = value }} }}")
            continue
        name = name.removeprefix("markdown.extensions.")
        if name in REFUSED_EXTENSIONS:
            problems.append(f"markdown_extensions: {name!r} is not offered: {REFUSED_EXTENSIONS[name]}")
            continue
        if name not in MARKDOWN_EXTENSIONS:
            hint = _hint(name, list(MARKDOWN_EXTENSIONS))
            problems.append(f"markdown_extensions: {name!r} is not an extension site-builder offers ({hint})")
            continue
        if any(e.name == name for e in found):
            problems.append(f"markdown_extensions: {name!r} is listed twice; list it once, with all its options")
            continue
        bad = [k for k, v in options.items() if not isinstance(v, str | int | float | bool)]
        if bad:
            problems.append(f"markdown_extensions: {name}.{bad[0]}: expected a string, number or true/false")
            continue
        found.append(MarkdownExtension(name, tuple(sorted(options.items()))))
    if any(e.options for e in found):
        from site_builder.cases.markdown import check_extensions  # Python-Markdown: only when options are set

        problems += [f"markdown_extensions: {p}" for p in check_extensions(tuple(found))]
    return tuple(found)


def _one_key(item: Any) -> tuple[str | None, Any]:
    if isinstance(item, dict) and len(item) == 1:
        ((name, options),) = item.items()
        return name, options
    return None, None


def load_settings(path: Path | None) -> Settings:
    """Read site.toml (defaults when there is none) and check every field."""
    if path is None or not path.exists():
        if path is not None and path.name != "site.toml":
            raise ConfigError(f"{path}: settings file not found")
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 at byte {exc.start}") from exc
    problems: list[str] = []
    data, texts = _language_tables(data, problems)
    raw_extensions = data.pop("markdown_extensions", None)  # a list of names and tables: read below
    settings = _load_table(Settings, data, "", problems)
    extensions = _check_markdown(settings.markdown_engine, raw_extensions, problems)
    base_url = _check_base_url(settings.base_url, "base_url", problems)
    for lang in (settings.language, *settings.languages):
        try:
            Locale.parse(lang)
        except (ValueError, UnknownLocaleError):
            problems.append(f"languages: {lang!r} is not a language code Babel knows (like en, ru, da)")
    if settings.language not in settings.languages:
        problems.append(f"language: {settings.language!r} is not among languages {list(settings.languages)}")
    try:
        zone_named(settings.timezone)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        problems.append(f"timezone: {settings.timezone!r} is not a time zone name (like UTC or Europe/Copenhagen)")
    if settings.per_page < 1:
        problems.append("per_page: must be at least 1")
    if settings.leaflet.size not in PAPER_SIZES:
        problems.append(f"leaflet.size: {settings.leaflet.size!r} is not one of {', '.join(PAPER_SIZES)}")
    if settings.smtp.security not in SECURITY:
        problems.append(f"smtp.security: {settings.smtp.security!r} is not one of {', '.join(SECURITY)}")
    if settings.mailbox.security not in SECURITY:
        problems.append(f"mailbox.security: {settings.mailbox.security!r} is not one of {', '.join(SECURITY)}")
    folders = (settings.mailbox.folder.strip(" /"), settings.mailbox.done_folder.strip(" /"))
    if not all(folders):
        problems.append("mailbox: folder and done_folder must name a folder")
    elif folders[0].casefold() == folders[1].casefold():
        problems.append(f"mailbox.done_folder: {folders[1]!r} is the folder read; name another one")
    if settings.mailbox.timeout <= 0:
        problems.append("mailbox.timeout: must be more than 0 seconds")
    if settings.digest.max_cases < 1 or settings.digest.days < 1 or settings.digest.retries < 1:
        problems.append("digest: days, max_cases and retries must be at least 1")
    if settings.untranslated not in ("show", "hide"):
        problems.append(f"untranslated: {settings.untranslated!r} is not one of show, hide")
    if settings.digest.untranslated not in ("show", "hide"):
        problems.append(f"digest.untranslated: {settings.digest.untranslated!r} is not one of show, hide")
    url = settings.digest.unsubscribe_url
    if url and "{email}" in url:
        problems.append(
            f"digest.unsubscribe_url: {url!r} puts the reader's address in the link; write {{token}} instead "
            "(site-builder unsubscribe TOKEN tells whose it is)"
        )
    elif url and (not url.startswith("https://") or "{token}" not in url):
        problems.append(f"digest.unsubscribe_url: {url!r} must be an https URL containing {{token}}")
    _check_dkim(settings.digest, problems)
    _check_title_pattern(settings.title_pattern, problems)
    if settings.company.logo:
        _check_logo(settings.company.logo, path.parent, problems)
    _check_complain_url(settings.company.complain_url, "company.complain_url", problems)
    for lang, text in texts.items():
        if isinstance(own := text.company.get("complain_url"), str):
            _check_complain_url(own, f"languages.{lang}.company.complain_url", problems)
    sections = _check_sections(settings.sections, problems)
    strings = {}
    for lang, table in settings.strings.items():
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            problems.append(f"strings.{lang}: expected a table of text")
        else:
            strings[lang] = dict(table)
    from site_builder.settings.i18n import check_strings  # i18n reads Settings: imported here, not at the top

    problems += check_strings(strings)
    if problems:
        raise ConfigError("\n".join(f"{path}: {p}" for p in problems))
    return replace(
        settings,
        base_url=base_url,
        sections=sections,
        strings=strings,
        markdown_extensions=extensions,
        texts=texts,
        root=path.parent,
    )


def _language_tables(data: dict[str, Any], problems: list[str]) -> tuple[dict[str, Any], dict[str, LanguageText]]:
    """`languages` as a list of codes, or as a table per language with its site text (as in Hugo)."""
    raw = data.get("languages")
    if not isinstance(raw, dict):
        return data, {}
    texts: dict[str, LanguageText] = {}
    company = [f.name for f in fields(Company)]
    for lang, table in raw.items():
        where = f"languages.{lang}"
        if not isinstance(table, dict):
            problems.append(f"{where}: expected a table like [{where}] title = '...'")
            continue
        text = _load_table(LanguageText, table, f"{where}.", problems)
        for kind in ("company", "industries", "tags"):
            for name, value in getattr(text, kind).items():
                if not isinstance(value, str):
                    problems.append(f"{where}.{kind}.{name}: got {value!r}, expected text in quotes")
                elif kind == "company" and name not in company:
                    problems.append(f"{where}.company.{name}: unknown setting ({_hint(name, company)})")
                elif kind == "company" and name == "logo":
                    problems.append(
                        f"{where}.company.logo: the logo is the site's, one for every language; set it in [company]"
                    )
        texts[lang] = text
    return {**data, "languages": list(raw)}, texts
