"""`site-builder mailbox` against a real IMAP server (Dovecot): unsubscribe requests and bounces are
recorded and moved, everything else stays; broken connections, refused logins and hostile mail."""

from __future__ import annotations

import base64
import datetime as dt
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from site_builder.digest.addresses import canonical, token
from site_builder.digest.ledger import Ledger
from tests.conftest import case_text
from tests.imap_server import NO_MOVE, NO_UIDPLUS, PASSWORD, CuttingProxy, Dovecot
from tests.smtp_server import SmtpServer, free_port

MAIL = Path(__file__).parent / "mail"
SECRET = "the unsubscribe secret"
DONE = "site-builder.handled"  # Dovecot's Maildir separates levels with "."
# The digests the fixtures' reports return, and whom each went to.
DIGESTS = {
    "postfix": ("<0123456789abcdef01234567@acme.example>", "carl@example.com"),
    "exim": ("<89abcdef0123456789abcdef@acme.example>", "dora@example.net"),
    "exchange": ("<fedcba9876543210fedcba98@acme.example>", "erik@contoso.com"),
    "gmail": ("<76543210fedcba9876543210@acme.example>", "frida@example.org"),
    "global": ("<a1b2c3d4e5f6a7b8c9d0e1f2@acme.example>", "грета@пример.рф"),
    "delayed": ("<aaaabbbbccccddddeeeeffff@acme.example>", "hugo@example.com"),
}


def mail(subject: str, sender: str = "Anna <anna@example.com>", extra: str = "", body: str = "Hello") -> bytes:
    """A plain message as a mail program would send it."""
    return (
        f"From: {sender}\nTo: care@acme.example\nSubject: {subject}\nDate: Wed, 01 Apr 2026 09:00:00 +0000\n"
        f"Message-ID: <{abs(hash((subject, sender, body)))}@mail.example.com>\nMIME-Version: 1.0\n"
        f"Content-Type: text/plain; charset=utf-8\n{extra}\n{body}\n"
    ).encode()


def configure(project: Path, port: int, user: str, extra: str = "", host: str = "127.0.0.1") -> None:
    """site.toml with [mailbox] at the test server (plain IMAP on loopback)."""
    (project / "site.toml").write_text(
        f'[company]\nname = "Acme"\nemail = "care@acme.example"\n'
        f'[mailbox]\nhost = "{host}"\nport = {port}\nsecurity = "none"\nusername = "{user}"\ntimeout = 10\n{extra}',
        encoding="utf-8",
    )


def sent(project: Path, *people: tuple[str, str]) -> None:
    """Record in the ledger that each (Message-ID, address) got a digest."""
    with Ledger(project / ".site-builder/sent.sqlite") as ledger:
        for message_id, email in people:
            assert ledger.claim("2026-03", email, message_id, dt.date(2026, 3, 31)).ours
            ledger.mark_sent("2026-03", email, ["hotel"])


def suppressed(project: Path) -> dict[str, tuple[str, str]]:
    """The ledger's suppression list: address -> (reason, source)."""
    with sqlite3.connect(project / ".site-builder/sent.sqlite") as db:
        return {
            email: (reason, source)
            for email, reason, source in db.execute("SELECT email, reason, source FROM suppressed")
        }


@pytest.fixture
def box(project: Path, imap: Dovecot, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh mailbox user on the server, configured in site.toml, its password and the token secret set."""
    user = imap.new_user()
    configure(project, imap.port, user)
    monkeypatch.setenv("SITE_BUILDER_MAILBOX_PASSWORD", PASSWORD)
    monkeypatch.setenv("SITE_BUILDER_UNSUBSCRIBE_SECRET", SECRET)
    sent(project, *DIGESTS.values(), ("<00000000000000000000000a@acme.example>", "anna@example.com"))
    sent(project, ("<00000000000000000000000b@acme.example>", "boris@example.com"))
    sent(project, ("<00000000000000000000000c@acme.example>", "cleo@example.com"))
    return user


def one_line(result: Result) -> str:
    """The error a person sees: exactly one line, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_unsubscribe_requests_are_recorded_and_moved(
    project: Path, imap: Dovecot, box: str, cli: Callable[..., Result]
) -> None:
    anna = token(SECRET.encode(), "anna@example.com")
    cleo = token(SECRET.encode(), "cleo@example.com")
    encoded = base64.b64encode(f"unsubscribe {cleo}".encode()).decode()
    imap.append(
        box,
        mail(f"unsubscribe {anna}", sender="Anna Other <anna.private@example.org>"),  # the token says who
        mail("Re: What we fixed in March", sender="Dora <dora@example.net>", body="Thanks, great read!"),
        mail("Unsubscribe", sender="Boris <Boris@Example.COM>"),  # bare: the sender is the person
        mail(f"=?utf-8?b?{encoded}?=", sender="cleo@example.com"),
    )
    result = cli("mailbox", "-v")
    assert result.exit_code == 0, result.output
    assert f"3 unsubscribed, 0 bounced, 3 moved to {DONE}, 1 left alone" in result.output
    listed = suppressed(project)
    assert set(listed) == {"anna@example.com", "boris@example.com", "cleo@example.com"}
    assert {reason for reason, _ in listed.values()} == {"unsubscribed"}
    assert re.fullmatch(
        rf"imap://{box}@127\.0\.0\.1/INBOX;UIDVALIDITY=\d+/;UID=1 <\d+@mail\.example\.com>",
        listed["anna@example.com"][1],
    )
    assert imap.subjects(box) == ["Re: What we fixed in March"]
    assert imap.flags(box) == ["1 (UID 2 FLAGS ())"]  # read with PEEK: still unread for a person
    assert len(imap.subjects(box, DONE)) == 3
    again = cli("mailbox")
    assert f"0 unsubscribed, 0 bounced, 0 moved to {DONE}, 1 left alone" in again.output


@pytest.mark.parametrize("flavour", ["postfix", "exim", "exchange", "gmail", "global"])
def test_permanent_bounce_of_each_server_is_recorded(
    project: Path, imap: Dovecot, box: str, cli: Callable[..., Result], flavour: str
) -> None:
    imap.append(box, (MAIL / f"{flavour}.eml").read_bytes())
    result = cli("mailbox")
    assert result.exit_code == 0, result.output
    assert f"0 unsubscribed, 1 bounced, 1 moved to {DONE}, 0 left alone" in result.output
    person = canonical(DIGESTS[flavour][1])
    assert suppressed(project)[person][0] == "bounced"
    assert imap.subjects(box) == [] and len(imap.subjects(box, DONE)) == 1


def test_what_is_not_ours_stays_and_doubtful_requests_are_reported(
    project: Path, imap: Dovecot, box: str, cli: Callable[..., Result]
) -> None:
    someone_elses = (
        (MAIL / "postfix.eml")
        .read_bytes()
        .replace(b"0123456789abcdef01234567@acme.example", b"a-reply-of-ours@acme.example")
    )
    imap.append(
        box,
        (MAIL / "delayed.eml").read_bytes(),  # 4.4.1, still being retried
        someone_elses,  # a person's mail bounced, not a digest: theirs to read
        mail(f"unsubscribe {token(b'another secret', 'anna@example.com')}"),  # a token for nobody
        mail("unsubscribe boris@example.com", sender="mallory@example.org"),  # someone else's address
        mail("Unsubscribe me from the paper catalogue please"),
    )
    result = cli("mailbox")
    assert result.exit_code == 0, result.output
    assert f"0 unsubscribed, 0 bounced, 0 moved to {DONE}, 5 left alone" in result.output
    assert "matches nobody the ledger knows: left for a person" in result.stderr
    assert "asks to unsubscribe boris@example.com but comes from mallory@example.org" in result.stderr
    assert suppressed(project) == {}
    assert len(imap.subjects(box)) == 5
    with imap.client(box) as client:
        assert all(DONE not in line.decode() for line in client.list()[1] if isinstance(line, bytes))


def test_dry_run_changes_nothing(project: Path, imap: Dovecot, box: str, cli: Callable[..., Result]) -> None:
    imap.append(box, mail("unsubscribe"), (MAIL / "exim.eml").read_bytes())
    result = cli("mailbox", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "unsubscribed: anna@example.com" in result.output and "bounced: dora@example.net" in result.output
    assert f"1 unsubscribed, 1 bounced, 2 to move to {DONE}, 0 left alone (dry run" in result.output
    assert suppressed(project) == {} and len(imap.subjects(box)) == 2


@pytest.mark.parametrize("host", [NO_MOVE, NO_UIDPLUS])
def test_servers_without_move_copy_and_expunge_only_the_handled(
    project: Path, imap: Dovecot, box: str, cli: Callable[..., Result], host: str
) -> None:
    configure(project, imap.port, box, host=host)
    imap.append(box, mail("unsubscribe"), mail("Hello", sender="dora@example.net"), mail("Old", sender="x@example.net"))
    with imap.client(box) as client:  # a person deleted a message but has not expunged the folder
        client.select("INBOX")
        client.uid("STORE", "3", "+FLAGS", r"(\Deleted)")
    result = cli("mailbox")
    assert result.exit_code == 0, result.output
    assert f"1 unsubscribed, 0 bounced, 1 moved to {DONE}, 2 left alone" in result.output
    assert imap.subjects(box, DONE) == ["unsubscribe"]
    if host == NO_MOVE:  # UID EXPUNGE: only ours went; the person's deleted message is still there
        assert imap.subjects(box) == ["Hello", "Old"]
    else:  # plain EXPUNGE would take the person's message too: ours are only flagged
        assert imap.subjects(box) == ["unsubscribe", "Hello", "Old"]
        assert "flagged deleted" in result.stderr
        assert r"\Deleted" in imap.flags(box)[0]


def test_connection_cut_while_moving_then_a_rerun_heals(
    project: Path, imap: Dovecot, box: str, cli: Callable[..., Result]
) -> None:
    imap.append(box, mail("unsubscribe"), (MAIL / "gmail.eml").read_bytes(), mail("Hello"))
    with CuttingProxy(imap.port, b"UID MOVE") as proxy:
        configure(project, proxy.port, box)
        result = cli("mailbox")
    assert result.exit_code == 1, result.output
    assert proxy.cuts == 1
    assert "Everyone found is recorded; 2 messages left in INBOX for the next run to move." in one_line(result)
    assert set(suppressed(project)) == {"anna@example.com", "frida@example.org"}  # recorded before the move
    assert len(imap.subjects(box)) == 3
    configure(project, imap.port, box)
    again = cli("mailbox")
    assert again.exit_code == 0, again.output
    assert f"1 unsubscribed, 1 bounced (2 already on the list), 2 moved to {DONE}, 1 left alone" in again.output
    assert imap.subjects(box) == ["Hello"] and len(imap.subjects(box, DONE)) == 2


@pytest.mark.parametrize("word", [b"BODY.PEEK[]", b"LOGIN", b""])
def test_connection_cut_while_reading_records_nothing(
    project: Path, imap: Dovecot, box: str, cli: Callable[..., Result], word: bytes
) -> None:
    imap.append(box, mail("unsubscribe"), (MAIL / "exchange.eml").read_bytes())
    with CuttingProxy(imap.port, word) as proxy:
        configure(project, proxy.port, box)
        result = cli("mailbox")
    assert result.exit_code == 2, result.output
    line = one_line(result)
    assert line.startswith("Mailbox error:") and "nothing was recorded" in line, line
    assert suppressed(project) == {} and len(imap.subjects(box)) == 2
    configure(project, imap.port, box)
    assert cli("mailbox").exit_code == 0
    assert set(suppressed(project)) == {"anna@example.com", "erik@contoso.com"}


def test_wrong_password_is_one_line(
    project: Path, imap: Dovecot, box: str, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITE_BUILDER_MAILBOX_PASSWORD", "wrong")
    result = cli("mailbox")
    assert result.exit_code == 2
    line = one_line(result)
    assert f"refused the login for '{box}'" in line and "SITE_BUILDER_MAILBOX_PASSWORD" in line, line


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("port", "cannot connect to IMAP server 127.0.0.1:{free}"),
        ("folder", "has no folder 'Nowhere' ([mailbox] folder"),
        ("ssl-on-plain", "TLS with IMAP server 127.0.0.1:{port} failed"),
        ("untrusted", "certificate is not trusted"),
        ("untrusted-starttls", "certificate is not trusted"),
        ("no-password", "put the password for '{user}' in SITE_BUILDER_MAILBOX_PASSWORD"),
        ("no-host", "set host (the IMAP server), or pass --imap-host"),
    ],
)
def test_a_mailbox_that_cannot_be_read_is_one_line(
    project: Path,
    imap: Dovecot,
    box: str,
    cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    expected: str,
) -> None:
    free = free_port()
    changes = {
        "port": lambda: configure(project, free, box),
        "folder": lambda: configure(project, imap.port, box, 'folder = "Nowhere"\n'),
        "ssl-on-plain": lambda: configure(project, imap.port, box),  # with --security ssl below
        "untrusted": lambda: configure(project, imap.ssl_port, box),
        "untrusted-starttls": lambda: configure(project, imap.port, box),
        "no-password": lambda: monkeypatch.delenv("SITE_BUILDER_MAILBOX_PASSWORD"),
        "no-host": lambda: configure(project, imap.port, box, host=""),
    }
    changes[setting]()
    args = ["--security", "ssl"] if setting in ("ssl-on-plain", "untrusted") else []
    args = ["--security", "starttls"] if setting == "untrusted-starttls" else args
    result = cli("mailbox", *args)
    assert result.exit_code == 2, result.output
    line = one_line(result)
    assert expected.format(free=free, port=imap.port, user=box) in line, line


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_with_a_trusted_certificate(
    project: Path,
    imap: Dovecot,
    box: str,
    cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    security: str,
) -> None:
    bundle = tmp_path / "ca.pem"
    imap.ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    configure(project, imap.ssl_port if security == "ssl" else imap.port, box)
    imap.append(box, mail("unsubscribe"))
    result = cli("mailbox", "--security", security)
    assert result.exit_code == 0, result.output
    assert "1 unsubscribed" in result.output


def test_hostile_mail_stays_harmless(project: Path, imap: Dovecot, box: str, cli: Callable[..., Result]) -> None:
    huge = mail("Our catalogue", body="A" * 76 + "\n") + b"x" * (3 * 1024 * 1024)
    report = (MAIL / "postfix.eml").read_bytes()
    broken = report.replace(b'boundary="4VbQ2N0xKfz9sT3.1775030413/mail.acme.example"', b'boundary="nothing-like-it"')
    truncated = report[: len(report) // 3]
    imap.append(
        box,
        huge,
        broken,  # a report whose parts cannot be found
        truncated,  # a report cut short before its fields
        b"Content-Type: multipart/report; report-type=delivery-status\n\n\x00\xff\xfe garbage",
        mail("=?x-no-such-charset?q?unsubscribe?="),
        mail("=?utf-8?q?unsubscribe=0Aboris=40example.com?="),  # a line break smuggled into the subject
        mail("unsubscribe", sender="=?utf-8?q?Anna?= <not an address>"),
        mail("unsubscribe\x07 \x1b[31m"),
    )
    result = cli("mailbox")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert f"0 unsubscribed, 0 bounced, 0 moved to {DONE}, 8 left alone" in result.output
    assert suppressed(project) == {}
    assert "asks to unsubscribe boris@example.com but comes from anna@example.com" in result.stderr
    assert "From holds no single address" in result.stderr
    assert all(line.isprintable() for line in result.output.splitlines())


def test_send_leaves_out_whom_the_mailbox_recorded(
    project: Path,
    imap: Dovecot,
    smtp: SmtpServer,
    cli: Callable[..., Result],
    write_case: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = imap.new_user()
    configure(project, imap.port, user, f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n')
    monkeypatch.setenv("SITE_BUILDER_MAILBOX_PASSWORD", PASSWORD)
    monkeypatch.setenv("SITE_BUILDER_UNSUBSCRIBE_SECRET", SECRET)
    write_case("hotel.md", case_text(title="Hotel room gone", date="2026-03-05"))
    people = (
        "email,name\nanna@example.com,Anna\nboris@example.com,Boris\ncarl@example.com,Carl\ndora@example.com,Dora\n"
    )
    (project / "people.csv").write_text(people, encoding="utf-8")
    march = cli("send", "--recipients", "people.csv", "--since", "2026-03-01", "--until", "2026-03-31")
    assert march.exit_code == 0, march.output
    [carls] = smtp.recorder.to("carl@example.com")
    bounce = (
        (MAIL / "postfix.eml")
        .read_bytes()
        .replace(b"<0123456789abcdef01234567@acme.example>", carls["Message-ID"].encode())
    )
    imap.append(
        user,
        mail(f"unsubscribe {token(SECRET.encode(), 'anna@example.com')}"),
        mail("unsubscribe", sender="boris@example.com"),
        bounce,
        mail("Re: What we fixed", sender="dora@example.com"),
    )
    result = cli("mailbox")
    assert result.exit_code == 0, result.output
    assert f"2 unsubscribed, 1 bounced, 3 moved to {DONE}, 1 left alone" in result.output
    write_case("taxi.md", case_text(title="Taxi late", date="2026-04-05"))
    smtp.recorder.messages.clear()
    april = cli("send", "--recipients", "people.csv", "--since", "2026-04-01", "--until", "2026-04-30")
    assert april.exit_code == 0, april.output
    assert [rcpts for _, rcpts, _ in smtp.recorder.messages] == [["dora@example.com"]]
    assert "3 left out: unsubscribed or bounced" in april.output


def test_mailbox_settings_are_checked(project: Path, cli: Callable[..., Result]) -> None:
    (project / "site.toml").write_text(
        '[mailbox]\nsecurity = "tls"\nfolder = "INBOX"\ndone_folder = "inbox"\ntimeout = 0\nusername = "x"\n',
        encoding="utf-8",
    )
    result = cli("mailbox")
    assert result.exit_code == 2
    assert "mailbox.security: 'tls' is not one of starttls, ssl, none" in result.stderr
    assert "mailbox.done_folder: 'inbox' is the folder read" in result.stderr
    assert "mailbox.timeout: must be more than 0 seconds" in result.stderr


def test_the_digest_workflow_reads_the_mailbox_before_sending(project: Path, imap: Dovecot, box: str) -> None:
    from tests.test_workflows import run_step, steps

    scripts = steps("digest.yml")
    names = list(scripts)
    assert names.index("Read unsubscribe requests and bounces") < names.index("Send")
    script = scripts["Read unsubscribe requests and bounces"]
    imap.append(box, mail("unsubscribe"))
    env = {"SITE_BUILDER_MAILBOX_PASSWORD": PASSWORD, "SITE_BUILDER_UNSUBSCRIBE_SECRET": SECRET, "DRY_RUN": "false"}
    skipped = run_step(script, project, {**env, "IMAP_HOST": "", "IMAP_PORT": ""})
    assert skipped.returncode == 0 and "the mailbox is not read" in skipped.stdout
    done = run_step(script, project, {**env, "IMAP_HOST": "127.0.0.1", "IMAP_PORT": str(imap.port)})
    assert done.returncode == 0, done.stderr
    assert "1 unsubscribed" in done.stdout and "anna@example.com" in suppressed(project)
    refused = run_step(
        script,
        project,
        {**env, "IMAP_HOST": "127.0.0.1", "IMAP_PORT": str(imap.port), "SITE_BUILDER_MAILBOX_PASSWORD": "wrong"},
    )
    assert refused.returncode != 0 and "refused the login" in refused.stderr  # so the digest is not sent
