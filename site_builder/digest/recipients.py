"""The recipients CSV -> validated Recipient objects, or every bad row with its line."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from slugify import slugify

from site_builder.cases.model import Case
from site_builder.digest.addresses import canonical
from site_builder.problems import InputError, Problem
from site_builder.settings.config import Settings

COLUMNS = ("email", "name", "language", "segments")
# Separators a header line may use: Excel writes ";" where the decimal mark is a comma (Danish,
# Russian...), and "Unicode text" uses tabs.
SEPARATORS = (",", ";", "\t")
# A greeting's name, not a paragraph: also keeps every line of the To header far under the 998
# bytes RFC 5322 allows, however the name is quoted or escaped (200 * 2 + an address of 254).
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Recipient:
    """One person on the list: address, name for the greeting, language, and interests."""

    email: str
    name: str | None
    language: str
    segments: tuple[str, ...]

    def wants(self, case: Case) -> bool:
        """True when the person has no segments, or the case's industry or a tag is one of them."""
        if not self.segments:
            return True
        keys = {slugify(k) for k in (case.industry, *case.tags) if k}
        return any(slugify(s) in keys for s in self.segments)


def load_recipients(path: Path, settings: Settings) -> tuple[Recipient, ...]:
    """Read and check every row; raises InputError naming each bad row's line."""
    problems: list[Problem] = []
    text = read_list(path, "a CSV file with an email column")
    # Rows end at CR/LF only: str.splitlines would also split at U+2028, U+0085, \x1c... in a name.
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=separator(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "email" not in header:
        raise InputError(
            [
                Problem(
                    path, 1, "email", "no email column in the header", "a first line like email,name,language,segments"
                )
            ]
        )
    reader.fieldnames = header
    recipients: list[Recipient] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        values = {k: (v or "").strip() for k, v in row.items() if k in COLUMNS and isinstance(v, str)}
        try:
            # No SMTPUTF8: few servers take a non-ASCII name before the @, and the message headers
            # could not carry it; a domain in any script is fine (sent as punycode).
            checked = validate_email(values.get("email", ""), check_deliverability=False, allow_smtputf8=False)
            email = checked.ascii_email or checked.normalized
        except EmailNotValidError as exc:
            problems.append(
                Problem(path, line, "email", f"{values.get('email', '')!r}: {exc}", "an address like anna@example.com")
            )
            continue
        key = canonical(email)
        if key in seen:
            problems.append(
                Problem(
                    path,
                    line,
                    "email",
                    f"{email} is already on line {seen[key]}",
                    "each address once; capitals do not make another address",
                )
            )
            continue
        seen[key] = line
        name = values.get("name") or None
        bad = _control(row.get("name") or "")
        if bad:
            problems.append(Problem(path, line, "name", f"contains a control character ({bad})", "a plain name"))
            continue
        if name and len(name) > MAX_NAME:
            problems.append(
                Problem(path, line, "name", f"is {len(name)} characters long", f"at most {MAX_NAME} characters")
            )
            continue
        language = values.get("language") or settings.language
        if language not in settings.languages:
            problems.append(
                Problem(
                    path,
                    line,
                    "language",
                    f"{language!r} is not a site language",
                    "one of " + ", ".join(settings.languages),
                )
            )
            continue
        written = (s.strip() for s in values.get("segments", "").split(";") if s.strip())
        # A segment matches an industry or tag in any language site.toml names it in.
        segments = tuple(
            dict.fromkeys(
                name for s in written for kind in ("industries", "tags") for name in sorted(settings.names_of(kind, s))
            )
        )
        recipients.append(Recipient(email, name, language, segments))
    if problems:
        raise InputError(problems)
    if not recipients:
        raise InputError([Problem(path, None, "file", "has no recipients", "one row per person under the header")])
    return tuple(recipients)


def read_list(path: Path, expected: str) -> str:
    """The text of a list of people (UTF-8, a BOM allowed); InputError saying what is wrong with the file."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(path, None, "file", "not found", expected)]) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(path, None, "file", f"is not valid UTF-8 (byte {exc.start})", "save as UTF-8")]
        ) from None
    except OSError as exc:
        raise InputError([Problem(path, None, "file", f"cannot be read ({exc.strerror})", expected)]) from None


def separator(text: str) -> str:
    """The separator of the header line: the one that makes a column named email (comma when all do)."""
    first = text[: min(i for i in (text.find("\n"), text.find("\r"), len(text)) if i >= 0)]
    best, most = ",", 0
    for separator in SEPARATORS:
        fields = next(csv.reader([first], delimiter=separator), [])
        if "email" in (f.strip().lower() for f in fields) and len(fields) > most:
            best, most = separator, len(fields)
    return best


def _control(name: str) -> str:
    """The first control or line-separating character in a name, described; "" when there is none."""
    for char in name:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            described = unicodedata.name(char, "") or {"\t": "tab", "\n": "line break", "\r": "line break"}.get(
                char, "control"
            )
            return f"U+{ord(char):04X} {described.lower()}"
    return ""
