"""Cases of a period -> a digest email: HTML for mail clients, plain text, and the MIME message.

Pure but for the unsubscribe secret, which comes from the environment (digest/unsubscribe.py).
"""

from __future__ import annotations

import datetime as dt
import email.policy
import functools
import hashlib
import re
from dataclasses import dataclass
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime, formataddr, parseaddr
from html import escape

import css_inline
import jinja2

from site_builder import __version__
from site_builder.build.artifacts import Artifact
from site_builder.build.keys import key
from site_builder.cases.model import Case
from site_builder.cases.translations import for_reader
from site_builder.digest.headers import MailboxHeader
from site_builder.digest.period import Period
from site_builder.digest.unsubscribe import one_click, preview_address, unsubscribe_links
from site_builder.settings.config import Settings
from site_builder.settings.i18n import Translator, language_name, translator
from site_builder.settings.theme import environment, theme_fingerprint
from site_builder.website.links import Links

# Gmail clips messages over 102 KB; stay clear of it.
MAX_BYTES = 100 * 1024


class ListUnsubscribeHeader(UnstructuredHeader, BaseHeader):
    """List-Unsubscribe, folded only after the commas between its <links>, never as encoded words.

    email's folder turns an unstructured value with a word longer than the line into RFC 2047
    encoded words (=?utf-8?q?...?=), which no mail client reads as links; a mailto link with a
    20-odd-character address already is such a word. RFC 2369 lets a list of links break after
    each comma; a single link is never broken (the hard limit, 998 bytes, is far off).
    """

    def fold(self, *, policy: Policy) -> str:
        """`Name: <a>, <b>` on one line when it fits, else one link a line after each comma."""
        value = str(self)
        if not value.isascii() or not value.isprintable():
            return super().fold(policy=policy)  # only links built from a bad setting
        links = [link.strip() for link in re.split(r"(?<=>)\s*,", value)]
        width = policy.max_line_length or 998
        lines = [f"{self.name}: {links[0]}"]
        for link in links[1:]:
            if len(lines[-1]) + 2 + len(link) + 1 <= width:
                lines[-1] += f", {link}"
            else:
                lines[-1] += ","
                lines.append(f" {link}")
        return policy.linesep.join(lines) + policy.linesep


def _registry() -> HeaderRegistry:
    registry = HeaderRegistry()
    registry.map_to_type("list-unsubscribe", ListUnsubscribeHeader)
    for name in ("to", "from", "reply-to"):
        registry.map_to_type(name, MailboxHeader)
    return registry


# email.policy.default, but List-Unsubscribe is folded as links and a long display name keeps its
# quotes (compose, wire and the .eml files).
POLICY = email.policy.default.clone(header_factory=_registry())


@dataclass(frozen=True, slots=True)
class Digest:
    """One rendered digest: what it says, and which cases it shows."""

    subject: str
    html: str
    text: str
    language: str
    cases: tuple[Case, ...]
    hidden: int


def sender(settings: Settings) -> str:
    """The From address: digest.sender, else the company's name and email."""
    return settings.digest.sender or formataddr((settings.company.name, settings.company.email))


class DigestRenderer:
    """Renders digests with one template environment and one CSS inliner."""

    def __init__(self, settings: Settings, parts: frozenset[str] | None = None) -> None:
        self.settings = settings
        # Languages the site has a part in (its own, and each with published cases): a reader of
        # another language finds the web copy in the site's language.
        self.parts = parts
        self.links = Links(settings)
        self.env: jinja2.Environment = environment(settings, "email")
        self.inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
        self._cache: dict[tuple[object, ...], Digest] = {}
        # Read once: every copy this renderer makes says the same of how its link unsubscribes.
        self.one_click = one_click(settings)

    def _part(self, language: str) -> str:
        """The part of the site a reader of `language` finds this digest's web copy in."""
        return language if self.parts is None or language in self.parts else self.settings.language

    def render(
        self,
        cases: tuple[Case, ...],
        period: Period,
        language: str,
        name: str | None = None,
        unsubscribe: str | None = None,
    ) -> Digest:
        """A digest of `cases` in `language`, cut to fit under MAX_BYTES; `name` and the reader's
        unsubscribe link (`UnsubscribeLinks.body`) personalise it."""
        template = self.template(cases, period, language, name is not None, unsubscribe is not None)
        return _personal(template, name, unsubscribe)

    def template(self, cases: tuple[Case, ...], period: Period, language: str, named: bool, linked: bool) -> Digest:
        """The digest with stand-ins where a person's name and unsubscribe link go (see personal_text)."""
        # Rendered once per language and set of cases; each person's copy only swaps the stand-ins
        # (escaped for HTML). Sending thousands stays fast.
        key = (tuple(c.slug for c in cases), period, language, named, linked)
        template = self._cache.get(key)
        if template is None:
            template = self._fit(cases, period, language, _NAME if named else None, _LINK if linked else None)
            self._cache[key] = template
        return template

    def _fit(
        self, cases: tuple[Case, ...], period: Period, language: str, name: str | None, unsubscribe: str | None
    ) -> Digest:
        t = translator(language, self.settings)
        shown = cases[: self.settings.digest.max_cases]
        while True:
            digest = self._render(cases, shown, period, t, name, unsubscribe)
            # Room for a long name and link: the stand-ins are shorter than what replaces them.
            if len(digest.html.encode("utf-8")) <= MAX_BYTES - 1024 or len(shown) <= 1:
                return digest
            shown = shown[: max(1, len(shown) * 3 // 4)]

    def _render(
        self,
        cases: tuple[Case, ...],
        shown: tuple[Case, ...],
        period: Period,
        t: Translator,
        name: str | None,
        unsubscribe: str | None,
    ) -> Digest:
        subject = t("digest_subject", date=t.date(period.until))
        context = {
            "settings": self.settings,
            "company": self.settings.company_in(t.language),
            "t": t,
            "tr": lambda lang: translator(lang, self.settings),
            "lang": t.language,
            "subject": subject,
            "greeting": t("dear", name=name) if name else t("hello"),
            "cases": shown,
            "preheader": next((c.summary for c in shown if c.language == t.language), t("digest_intro")),
            "language_name": lambda other: language_name(other, t.language),
            "hidden": len(cases) - len(shown),
            "period": t("digest_period", since=t.date(period.since), until=t.date(period.until)),
            "case_url": lambda case: self.links.absolute(self.links.case(case)),
            "site_url": self.links.absolute(""),
            # The web copy of this digest in the reader's language (the site's digest pages).
            "web_copy": self.links.absolute(self.links.digest(period.until, self._part(t.language))),
            "unsubscribe": unsubscribe,
            "unsubscribe_by_email": not self.one_click,
        }
        html = self.inliner.inline(self.env.get_template("digest.html").render(context))
        text = self.env.get_template("digest.txt").render(context)
        return Digest(subject, html, text, t.language, shown, len(cases) - len(shown))


# Stand-ins that survive autoescaping and CSS inlining unchanged, and appear nowhere else.
_NAME = "SBNAME9f2c41"
_LINK = "https://sb-unsubscribe-9f2c41.invalid/"


STAND_INS = (_NAME, _LINK)


def personal_html(html: str, name: str | None, unsubscribe: str | None) -> str:
    """A template's HTML with one person's name and unsubscribe link in place of the stand-ins."""
    if name is not None:
        html = html.replace(_NAME, escape(name))
    if unsubscribe is not None:
        html = html.replace(_LINK, escape(unsubscribe))
    return html


def personal_text(text: str, name: str | None, unsubscribe: str | None) -> str:
    """A template's plain text (or one line of it) with one person's name and unsubscribe link put in."""
    if name is not None:
        text = text.replace(_NAME, name)
    if unsubscribe is not None:
        text = text.replace(_LINK, unsubscribe)
    return text


def _personal(digest: Digest, name: str | None, unsubscribe: str | None) -> Digest:
    """A copy of a rendered digest with one person's name and unsubscribe link put in."""
    html, text = personal_html(digest.html, name, unsubscribe), personal_text(digest.text, name, unsubscribe)
    return Digest(digest.subject, html, text, digest.language, digest.cases, digest.hidden)


def compose(
    digest: Digest,
    settings: Settings,
    *,
    to: Address | None,
    message_id: str,
    date: dt.datetime,
) -> EmailMessage:
    """The complete multipart/alternative message: plain text first, then HTML."""
    personal = recipient_headers(settings, to=to, message_id=message_id, date=date)
    message = EmailMessage(policy=POLICY)
    message["Subject"] = digest.subject
    message["From"] = sender(settings)
    if to is not None:
        message["To"] = to  # the Address itself: its string would be parsed again, losing a double space
    message["Reply-To"] = settings.digest.reply_to or settings.company.email or parseaddr(sender(settings))[1]
    message["Date"] = personal["Date"]
    message["Message-ID"] = personal["Message-ID"]
    message["List-Id"] = f"{settings.title} <digest.{_domain(settings)}>"
    if "List-Unsubscribe" in personal:
        message["List-Unsubscribe"] = personal["List-Unsubscribe"]
    # RFC 8058: one-click is a POST to the https link; a mailto link cannot take it.
    if unsubscribe_links(settings, to.addr_spec if to else None).https:
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(digest.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    # base64 for the HTML: encoded in C, many times faster than quoted-printable for a large part.
    message.add_alternative(digest.html, subtype="html", charset="utf-8", cte="base64")
    # After the parts: set_content clears every Content-* header it finds, this one included.
    message["Content-Language"] = digest.language
    message.set_boundary(boundary(message_id))
    return message


def boundary(message_id: str) -> str:
    """The MIME boundary, derived from the Message-ID so the same message always has the same bytes."""
    return "=_" + hashlib.sha256(message_id.encode()).hexdigest()[:32]


def recipient_headers(settings: Settings, *, to: Address | None, message_id: str, date: dt.datetime) -> dict[str, str]:
    """The header values that differ from one recipient to the next; To and List-Unsubscribe only when known."""
    headers = {"To": str(to)} if to is not None else {}
    headers["Date"] = format_datetime(date)
    headers["Message-ID"] = message_id
    links = unsubscribe_links(settings, to.addr_spec if to else None).header
    if links:
        headers["List-Unsubscribe"] = links
    return headers


def _domain(settings: Settings) -> str:
    address = parseaddr(sender(settings))[1]
    return address.rpartition("@")[2] or "localhost"


def message_id(settings: Settings, *parts: str) -> str:
    """A Message-ID unique to `parts` (digest and recipient), stable if the same message is retried."""
    digest = hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:24]
    return f"<{digest}@{_domain(settings)}>"


def render_digest_files(cases: tuple[Case, ...], settings: Settings, period: Period) -> list[Artifact]:
    """digest-<until>.html, .txt and .eml for the site's language, addressed to the company itself (its
    own unsubscribe links, so they can be tried); nothing for an empty period."""
    language = settings.language
    untranslated = settings.digest.untranslated == "show"
    chosen = for_reader(period.select(cases), language, settings.fallbacks, untranslated)
    if not chosen:
        return []

    to = Address(settings.company.name, addr_spec=preview_address(settings))
    links = unsubscribe_links(settings, to.addr_spec)

    @functools.cache
    def files() -> tuple[bytes, bytes, bytes]:
        digest = DigestRenderer(settings).render(chosen, period, language, unsubscribe=links.body)
        date = dt.datetime.combine(period.until, dt.time(8), tzinfo=dt.UTC)
        message = compose(digest, settings, to=to, message_id=message_id(settings, period.key), date=date)
        return digest.html.encode("utf-8"), digest.text.encode("utf-8"), message.as_bytes()

    # Rendered only when something it shows changed: the cases of the period, the settings, the theme,
    # the links (whether the secret is set, and which).
    theme = theme_fingerprint(settings, "email")
    parts = (__version__, repr(settings), repr(period), theme, repr(links), *(c.digest for c in chosen))
    made_of = key(*parts)
    stem = f"digest-{period.until.isoformat()}"
    return [
        Artifact(f"{stem}.{suffix}", functools.partial(lambda i: files()[i], i), f"{made_of}-{suffix}")
        for i, suffix in enumerate(("html", "txt", "eml"))
    ]
