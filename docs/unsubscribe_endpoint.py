#!/usr/bin/env python3
"""A minimal endpoint for the digest's unsubscribe links: one-click POST (RFC 8058) and a confirm page.

Standard library only: copy this one file to any host with Python 3.11 or newer.

    python3 unsubscribe_endpoint.py --file unsubscribed.txt [--host 127.0.0.1] [--port 8025]

or serve `application` with any WSGI server, with the file named in UNSUBSCRIBE_FILE. Put it behind
your HTTPS server at the address of site.toml's [digest] unsubscribe_url, for example

    unsubscribe_url = "https://example.com/unsubscribe?token={token}"

(the token is the `token` parameter, else any parameter or the path's last part that looks like one).

- POST with the body `List-Unsubscribe=One-Click` (what a mail provider sends when the reader clicks
  its Unsubscribe button, RFC 8058, and what this page's own button sends): the token is appended
  to the file, one a line, and the answer is 200.
- GET shows a page with that button. A GET never unsubscribes anyone: link scanners and previews
  follow the links in mail.

Then, where the send ledger is, before each send:

    site-builder unsubscribe --from-file unsubscribed.txt
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import email.parser
import email.policy
import fcntl
import html
import os
import re
import socketserver
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

# A token is 22 URL-safe base64 characters (128 bits of an HMAC): anything else is not ours.
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
# A one-click body is 26 bytes; a form post from the page a few hundred.
MAX_BODY = 4096

# The page in the reader's language, chosen by the browser's Accept-Language.
TEXTS = {
    "en": {
        "title": "Unsubscribe",
        "ask": "Stop getting our digest of fixed complaints?",
        "button": "Unsubscribe",
        "done": "You are unsubscribed. You will not get the digest again.",
        "bad_link": "This unsubscribe link is not complete. Copy the whole link from the email, or reply to it.",
        "bad_body": "This request is not an unsubscribe request.",
    },
    "ru": {
        "title": "Отписаться",
        "ask": "Больше не получать наш дайджест решённых жалоб?",
        "button": "Отписаться",
        "done": "Вы отписаны. Дайджест больше не придёт.",
        "bad_link": "Ссылка для отписки неполная. Скопируйте её из письма целиком или ответьте на письмо.",
        "bad_body": "Это не запрос на отписку.",
    },
    "da": {
        "title": "Afmeld",
        "ask": "Vil du ikke længere have vores nyhedsbrev om løste klager?",
        "button": "Afmeld",
        "done": "Du er afmeldt. Du får ikke nyhedsbrevet igen.",
        "bad_link": "Linket til afmelding er ikke helt. Kopiér hele linket fra e-mailen, eller svar på den.",
        "bad_body": "Dette er ikke en anmodning om afmelding.",
    },
}

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def language(accept: str) -> str:
    """The first language of an Accept-Language header that the page speaks; English otherwise."""
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in TEXTS:
            return code
    return "en"


def token_of(environ: dict[str, Any]) -> str | None:
    """The request's token: the `token` parameter, else another parameter's value of a token's shape,
    else the last part of the path; None when it has none."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    others = [value for name, values in query.items() if name != "token" for value in values]
    path = unquote(environ.get("PATH_INFO", "")).rstrip("/").rpartition("/")[2]
    return next((c for c in [*query.get("token", []), *others, path] if TOKEN.fullmatch(c)), None)


def is_one_click(body: bytes, content_type: str) -> bool:
    """Whether a POST body is `List-Unsubscribe=One-Click`, form-encoded or as multipart/form-data (RFC 8058)."""
    if content_type.lower().startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts() if message.is_multipart() else ():
            if part.get_param("name", header="content-disposition") == "List-Unsubscribe":
                payload = part.get_payload(decode=True)
                return isinstance(payload, bytes) and payload.strip() == b"One-Click"
        return False
    fields = parse_qs(body.decode("latin-1"))
    return fields.get("List-Unsubscribe") == ["One-Click"]


def record(path: Path, token: str) -> None:
    """Append the token to the file, one a line, with the time as a comment (`#` starts one for site-builder)."""
    line = f"{token}  # {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n"
    with path.open("a", encoding="utf-8") as file:
        # One whole line per request, even with several processes or threads writing.
        fcntl.flock(file, fcntl.LOCK_EX)
        file.write(line)
        file.flush()
        os.fsync(file.fileno())


def page(texts: dict[str, str], lang: str, message: str, form: bool = False) -> bytes:
    """A small HTML page with one message, and the button when `form`."""
    button = (
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        f'<button type="submit">{html.escape(texts["button"])}</button></form>'
        if form
        else ""
    )
    return (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(texts['title'])}</title>"
        "<style>body{font:18px/1.5 system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em}"
        "button{font:inherit;padding:.5em 1.2em}</style></head>"
        f"<body><h1>{html.escape(texts['title'])}</h1><p>{html.escape(message)}</p>{button}</body></html>\n"
    ).encode()


def make_application(path: Path) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The WSGI application that records one-click requests in `path`."""

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        lang = language(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
        texts = TEXTS[lang]

        def answer(status: str, body: bytes, *extra: tuple[str, str]) -> list[bytes]:
            headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
            # Nothing of an unsubscribe page is to be kept or shown from a cache.
            headers += [("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer"), *extra]
            start_response(status, headers)
            return [] if method == "HEAD" else [body]

        if method not in ("GET", "HEAD", "POST"):
            return answer("405 Method Not Allowed", page(texts, lang, texts["bad_body"]), ("Allow", "GET, HEAD, POST"))
        token = token_of(environ)
        if token is None:
            return answer("400 Bad Request", page(texts, lang, texts["bad_link"]))
        if method != "POST":
            return answer("200 OK", page(texts, lang, texts["ask"], form=True))
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            return answer("400 Bad Request", page(texts, lang, texts["bad_body"]))
        body = environ["wsgi.input"].read(length)
        if not is_one_click(body, environ.get("CONTENT_TYPE", "")):
            return answer("400 Bad Request", page(texts, lang, texts["bad_body"]))
        record(path, token)
        # RFC 8058: the answer to the one-click POST is the end of it; never a redirect.
        return answer("200 OK", page(texts, lang, texts["done"]))

    return application


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """For a WSGI server: records in the file named by the environment variable UNSUBSCRIBE_FILE."""
    return make_application(Path(os.environ["UNSUBSCRIBE_FILE"]))(environ, start_response)


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Handler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Without the query and the token: the log is no list of tokens.
        path = TOKEN.sub("TOKEN", self.path.partition("?")[0])
        sys.stderr.write(f"{self.log_date_time_string()} {self.command} {path} {code}\n")


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--file", type=Path, required=True, help="where tokens are appended, one a line")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on [127.0.0.1]")
    parser.add_argument("--port", type=int, default=8025, help="port to listen on; 0 picks a free one [8025]")
    args = parser.parse_args(argv)
    with make_server(args.host, args.port, make_application(args.file), _Server, _Handler) as server:
        print(f"Listening on http://{args.host}:{server.server_port}/ ; tokens go to {args.file}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends it without a traceback
            server.serve_forever()


if __name__ == "__main__":
    main()
