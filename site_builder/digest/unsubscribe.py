"""How a reader leaves the list: the links each message carries, made from a token, never the address.

A link that holds the address tells whoever sees it (a link scanner, a forwarded message) who the
reader is, lets anyone unsubscribe anyone by editing it, and is scored as spam (SpamAssassin's
GB_CUSTOM_HTM_URI). The token is an HMAC of the address (addresses.token), which
`site-builder unsubscribe TOKEN` turns back into the person with the same secret.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from email.utils import parseaddr

from site_builder.digest.addresses import token
from site_builder.settings.config import Settings


def secret(settings: Settings) -> bytes | None:
    """The secret that signs tokens, from the environment variable [digest] unsubscribe_secret_env; None when unset."""
    # From the environment, like the SMTP password: never in site.toml, which is committed.
    value = os.environ.get(settings.digest.unsubscribe_secret_env, "")
    return value.encode("utf-8") if value else None


@dataclass(frozen=True, slots=True)
class UnsubscribeLinks:
    """One reader's ways out: the mailto link, and the https link when [digest] unsubscribe_url is set."""

    mailto: str | None
    https: str | None

    @property
    def body(self) -> str | None:
        """The link the message's text shows: https (one click) when there is one, else mailto."""
        return self.https or self.mailto

    @property
    def header(self) -> str | None:
        """The List-Unsubscribe value (RFC 2369): `<mailto:...>, <https://...>`, or None when there is no link."""
        links = [f"<{link}>" for link in (self.mailto, self.https) if link]
        return ", ".join(links) or None


def unsubscribe_links(settings: Settings, address: str | None) -> UnsubscribeLinks:
    """The unsubscribe links for `address` (None: nobody in particular): each with the address's token
    when the secret is set; mailto to [digest] unsubscribe_mailto or the company's email."""
    key = secret(settings) if address else None
    mine = token(key, address) if key and address else None
    mailbox = settings.digest.unsubscribe_mailto or settings.company.email
    # Without a token the mailbox reader goes by the From address of the request.
    subject = f"unsubscribe%20{mine}" if mine else "unsubscribe"
    mailto = f"mailto:{mailbox}?subject={subject}" if mailbox else None
    url = settings.digest.unsubscribe_url
    https = url.replace("{token}", mine) if url and mine else None
    return UnsubscribeLinks(mailto, https)


def one_click(settings: Settings) -> bool:
    """Whether messages carry the https link (RFC 8058 one-click): unsubscribe_url set and the secret there."""
    return bool(settings.digest.unsubscribe_url and secret(settings))


def preview_address(settings: Settings) -> str:
    """Who the preview message in OUT/digest/ is addressed to: the company itself."""
    return settings.company.email or parseaddr(settings.digest.sender)[1] or "digest@localhost"
