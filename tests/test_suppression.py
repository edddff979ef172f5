"""One person, one spelling; and people who asked to hear no more are never sent the digest again."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from site_builder.digest.addresses import canonical, token
from site_builder.digest.ledger import Ledger
from tests.conftest import case_text
from tests.smtp_server import SmtpServer
from tests.test_send import SEND, configure, counts

LEDGER = ".site-builder/sent.sqlite"


@pytest.fixture
def one_case(project: Path, smtp: SmtpServer, write_case: Callable[..., Path]) -> Path:
    """A project with one March case, pointed at the test server."""
    configure(project, smtp.port)
    write_case("hotel.md", case_text(title="Hotel room gone", date="2026-03-05"))
    return project


def people(project: Path, *rows: str) -> None:
    (project / "people.csv").write_text("email,name\n" + "\n".join(rows) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Anna@X.example", "anna@x.example"),
        ("anna@x.example.", "anna@x.example"),
        ("Åse@Bücher.Example", "åse@xn--bcher-kva.example"),
        ("ase@xn--BCHER-kva.example", "ase@xn--bcher-kva.example"),
    ],
)
def test_canonical_form(written: str, expected: str) -> None:
    assert canonical(written) == expected


def test_token_is_the_same_for_every_spelling_and_differs_by_secret() -> None:
    assert token(b"k", "Anna@X.example") == token(b"k", "anna@x.example")
    assert token(b"k", "anna@x.example") != token(b"other", "anna@x.example")
    assert token(b"k", "anna@x.example") != token(b"k", "anne@x.example")


def test_another_spelling_in_a_later_run_is_the_same_person(
    one_case: Path, smtp: SmtpServer, cli: Callable[..., Result]
) -> None:
    people(one_case, "Anna@X.example,Anna", "bob@b\u00fccher.example,Bob")
    assert cli(*SEND).exit_code == 0
    people(one_case, "anna@x.EXAMPLE,Anna", "BOB@B\u00dcCHER.example,Bob", "carl@x.example,Carl")
    result = cli(*SEND)
    assert result.exit_code == 0, result.output
    assert "1 sent, 2 skipped (already sent)" in result.output
    assert sorted(counts(smtp).values()) == [1, 1, 1]


def test_two_spellings_in_one_file_are_refused_with_their_lines(one_case: Path, cli: Callable[..., Result]) -> None:
    people(one_case, "anna@x.example,Anna", "bob@y.example,Bob", "ANNA@X.Example,Anna again")
    result = cli(*SEND)
    assert result.exit_code == 2
    assert "people.csv:4: email: ANNA@x.example is already on line 2" in result.output


def test_a_ledger_of_an_earlier_version_is_read_in_canonical_form(
    one_case: Path, smtp: SmtpServer, cli: Callable[..., Result]
) -> None:
    path = one_case / LEDGER
    Ledger(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM meta WHERE key = 'addresses'")  # as an earlier version left it
        rows = [
            ("Anna@X.example", "sent"),  # sent under one spelling...
            ("anna@x.example", "deferred"),  # ...and deferred under another: sent wins
            ("Bob@Y.example", "failed"),
        ]
        db.executemany(
            "INSERT INTO deliveries (digest, email, status, message_id, until, updated) "
            "VALUES ('2026-03-01..2026-03-31', ?, ?, '<x>', '2026-03-31', '2026-04-01T00:00:00+00:00')",
            rows,
        )
    people(one_case, "anna@x.example,Anna", "bob@y.example,Bob")
    result = cli(*SEND)
    assert result.exit_code == 0, result.output
    assert counts(smtp) == {"bob@y.example": 1}
    with sqlite3.connect(path) as db:
        assert sorted(db.execute("SELECT email, status FROM deliveries")) == [
            ("anna@x.example", "sent"),
            ("bob@y.example", "sent"),
        ]


def test_unsubscribed_people_are_left_out_whichever_list_names_them(
    one_case: Path, smtp: SmtpServer, cli: Callable[..., Result]
) -> None:
    result = cli("unsubscribe", "Anna@X.example", "bob@y.example", "--reason", "bounced")
    assert result.exit_code == 0, result.output
    assert "2 added to the list of people never sent the digest" in result.output
    people(one_case, "anna@x.example,Anna", "BOB@y.example,Bob", "carl@z.example,Carl")
    result = cli(*SEND)
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output
    assert "2 left out: unsubscribed or bounced" in result.output
    assert counts(smtp) == {"carl@z.example": 1}
    listed = cli("unsubscribe", "--list")
    assert listed.exit_code == 0
    assert [line.split("\t")[:2] for line in listed.output.splitlines()] == [
        ["anna@x.example", "bounced"],
        ["bob@y.example", "bounced"],
    ]


def test_unsubscribe_from_a_file_of_lines_or_a_spreadsheet(
    one_case: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITE_BUILDER_UNSUBSCRIBE_SECRET", "s3cret")
    people(one_case, "dora@x.example,Dora")
    (one_case / "lines.txt").write_text(
        f"# collected by the endpoint\nanna@x.example\n\n{token(b's3cret', 'Dora@X.example')}  # a token\n",
        encoding="utf-8",
    )
    (one_case / "export.csv").write_text("\ufeffName;E-mail;email\nBob;x;bob@y.example\n", encoding="utf-8")
    result = cli("unsubscribe", "--from-file", "lines.txt", "--from-file", "export.csv", "--recipients", "people.csv")
    assert result.exit_code == 0, result.output
    assert "3 added" in result.output
    again = cli("unsubscribe", "--from-file", "lines.txt", "--recipients", "people.csv")
    assert "0 added to the list of people never sent the digest" in again.output
    assert "2 already on it" in again.output
    with sqlite3.connect(one_case / LEDGER) as db:
        assert dict(db.execute("SELECT email, source FROM suppressed")) == {
            "anna@x.example": "lines.txt:2",
            "dora@x.example": "lines.txt:4",
            "bob@y.example": "export.csv:2",
        }


def test_a_bad_entry_records_nothing_and_names_its_line(one_case: Path, cli: Callable[..., Result]) -> None:
    (one_case / "lines.txt").write_text("anna@x.example\nnot an address\n", encoding="utf-8")
    result = cli("unsubscribe", "--from-file", "lines.txt")
    assert result.exit_code == 2
    assert "lines.txt:2: address: 'not an address'" in result.output
    assert "nothing was recorded" in result.output
    assert not (one_case / LEDGER).exists() or not Ledger(one_case / LEDGER).suppressed()


def test_a_token_needs_the_secret_and_one_for_nobody_is_reported(
    one_case: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    nobody = token(b"s3cret", "nobody@x.example")
    monkeypatch.delenv("SITE_BUILDER_UNSUBSCRIBE_SECRET", raising=False)
    result = cli("unsubscribe", nobody)
    assert result.exit_code == 2
    assert "SITE_BUILDER_UNSUBSCRIBE_SECRET is not set" in result.output
    monkeypatch.setenv("SITE_BUILDER_UNSUBSCRIBE_SECRET", "s3cret")
    result = cli("unsubscribe", nobody, "anna@x.example")
    assert result.exit_code == 1
    assert "1 added" in result.output
    assert f"{nobody!r} matches nobody in the ledger or the recipients file" in result.output
