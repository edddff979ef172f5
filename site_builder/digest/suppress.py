"""Who asks never to get the digest again: addresses or unsubscribe tokens, from the command line or a
file, checked and turned into entries of the ledger's suppression list."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from site_builder.digest.addresses import canonical, is_token, resolve
from site_builder.digest.recipients import read_list, separator
from site_builder.problems import InputError, Problem


@dataclass(frozen=True, slots=True)
class Request:
    """One address or token, and where it was written."""

    text: str
    path: Path | None  # None: the command line
    line: int | None


def from_arguments(texts: Iterable[str]) -> list[Request]:
    """Requests given on the command line."""
    return [Request(t.strip(), None, None) for t in texts if t.strip()]


def from_file(path: Path) -> list[Request]:
    """One address or token per line (`#` starts a comment), or a CSV whose header has an email column
    (a spreadsheet's export: the other columns are ignored)."""
    text = read_list(path, "one address or token per line")
    first = text.lstrip().partition("\n")[0]
    between = separator(first)
    if "email" in (f.strip().lower() for f in next(csv.reader([first], delimiter=between), [])):
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=between)
        reader.fieldnames = [f.strip().lower() for f in reader.fieldnames or []]
        return [
            Request(row["email"].strip(), path, reader.line_num)
            for row in reader
            if isinstance(row.get("email"), str) and row["email"].strip()
        ]
    requests = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.partition("#")[0].strip()
        if entry:
            requests.append(Request(entry, path, number))
    return requests


@dataclass(frozen=True, slots=True)
class Resolved:
    """Requests as canonical addresses (with where each came from), and the tokens nobody matched."""

    people: list[tuple[str, str]]  # (canonical address, source)
    unknown: list[Problem]


def resolve_requests(requests: list[Request], known: Iterable[str], secret: bytes | None, secret_env: str) -> Resolved:
    """Addresses are checked; tokens are matched against `known` addresses with the secret. A request
    that is neither raises InputError (nothing is recorded); unmatched tokens are returned."""
    problems: list[Problem] = []
    people: list[tuple[str, str]] = []
    tokens: list[Request] = []
    for request in requests:
        where = request.path or Path("command line")
        if "@" not in request.text and is_token(request.text):
            tokens.append(request)
            continue
        try:
            checked = validate_email(request.text, check_deliverability=False)
        except EmailNotValidError as exc:
            problems.append(
                Problem(where, request.line, "address", f"{request.text!r}: {exc}", "an address or a token")
            )
            continue
        people.append((canonical(checked.ascii_email or checked.normalized), _source(request)))
    if tokens and secret is None:
        problems.append(
            Problem(
                tokens[0].path or Path("command line"),
                tokens[0].line,
                "token",
                f"{tokens[0].text!r} is an unsubscribe token, and {secret_env} is not set",
                f"the secret the digest was sent with, in {secret_env}",
            )
        )
    if problems:
        raise InputError(problems)
    found = resolve((t.text for t in tokens), known, secret or b"")
    unknown = []
    for request in tokens:
        if request.text in found:
            people.append((found[request.text], _source(request)))
        else:
            unknown.append(
                Problem(
                    request.path or Path("command line"),
                    request.line,
                    "token",
                    f"{request.text!r} matches nobody in the ledger or the recipients file",
                    "pass --recipients with the list it was sent to, or check the secret",
                )
            )
    return Resolved(people, unknown)


def _source(request: Request) -> str:
    return f"{request.path}:{request.line}" if request.path else "command line"
