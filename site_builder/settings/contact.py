"""The ways a reader can tell the company something went wrong: what every invitation to complain lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from site_builder.settings.config import Company


@dataclass(frozen=True, slots=True)
class Way:
    """One way to complain: its kind (form, email, phone, website), its link ("" when it has none)
    and its text as written in site.toml (a form's link is named by the template, in the reader's language)."""

    kind: str
    href: str
    shown: str


def ways_to_complain(company: Company) -> tuple[Way, ...]:
    """The company's complaint form first, then its email and phone; its home page only when it has
    no form (a home page is where a reader looks for a way, not a way itself). Empty: no invitation."""
    ways: list[Way] = []
    form = company.complain_url
    if form.lower().startswith("mailto:"):
        ways.append(Way("email", form, unquote(urlsplit(form).path)))
    elif form:
        ways.append(Way("form", form, form))
    if company.email and all(way.shown.casefold() != company.email.casefold() for way in ways):
        ways.append(Way("email", f"mailto:{company.email}", company.email))
    if company.phone:
        # tel: takes digits and a leading +; a "number" with none is printed, not linked.
        digits = re.sub(r"[^\d+]", "", company.phone)
        ways.append(Way("phone", f"tel:{digits}" if any(c.isdigit() for c in digits) else "", company.phone))
    # The home page is not checked like complain_url (it predates it): linked only when it is a web address.
    if not form and urlsplit(company.website).scheme.lower() in ("http", "https"):
        ways.append(Way("website", company.website, company.website))
    return tuple(ways)
