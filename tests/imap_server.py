"""A real IMAP server for the tests: Debian's Dovecot on loopback ports, started as an unprivileged
user with a configuration of its own (any user name logs in with PASSWORD, each gets a Maildir), and a
proxy that cuts the connection when the client sends a given word."""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import trustme

from tests.smtp_server import free_port

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "s3cret"
# Addresses on the loopback network that serve a variant of the server (see `_config`).
NO_MOVE = "127.0.0.2"  # advertises UIDPLUS but not MOVE: COPY, \Deleted, UID EXPUNGE
NO_UIDPLUS = "127.0.0.3"  # advertises neither: COPY, \Deleted, EXPUNGE when only ours are deleted

_CONFIG = """\
# Written by tests/imap_server.py for one test session; nothing here is shared with a system Dovecot.
base_dir = {root}/run
state_dir = {root}/state
instance_name = site-builder-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1, 127.0.0.2, 127.0.0.3
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
# Plain logins over the unencrypted port too (the tests speak security = none to it), and no
# slowing down of logins after a wrong password (one test gives one on purpose).
disable_plaintext_auth = no
login_trusted_networks = 127.0.0.0/8
auth_failure_delay = 0
auth_mechanisms = plain login
# One unprivileged user runs everything (Dovecot's "rootless" set-up): no chroot, no setuid.
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:~/Maildir
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1, 127.0.0.2, 127.0.0.3
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No growing wait after a refused login (which Dovecot keeps per address, for all users).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
# The same server as one without MOVE (and one without UIDPLUS too): what the client may use is
# what it is offered.
local {no_move} {{
  protocol imap {{
    imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE NAMESPACE UIDPLUS
  }}
}}
local {no_uidplus} {{
  protocol imap {{
    imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE NAMESPACE
  }}
}}
"""


def _run_as() -> tuple[str, str]:
    """The user and group Dovecot runs as: ours, or `nobody` when we are root (Dovecot's login
    processes refuse to run as root, and its passwd and static userdbs refuse mail uid 0)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_name, grp.getgrgid(nobody.pw_gid).gr_name


@dataclass
class Dovecot:
    """A running Dovecot: its ports, its certificate authority, and helpers to fill and read mailboxes."""

    root: Path
    port: int
    ssl_port: int
    ca: trustme.CA
    process: subprocess.Popen[bytes] | None = None
    users: int = 0

    def new_user(self) -> str:
        """A user name nobody has used in this session yet (its mailbox is made on first login)."""
        self.users += 1
        return f"user{self.users}"

    @contextlib.contextmanager
    def client(self, user: str, host: str = "127.0.0.1") -> Iterator[imaplib.IMAP4]:
        """A logged-in plain IMAP connection, for the test's own looks and changes."""
        imap = imaplib.IMAP4(host, self.port, timeout=10)
        try:
            imap.login(user, PASSWORD)
            yield imap
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()

    def append(self, user: str, *messages: bytes, folder: str = "INBOX") -> None:
        """Deliver messages with IMAP APPEND (line ends made CRLF, as IMAP wants them)."""
        with self.client(user) as imap:
            for data in messages:
                crlf = re.sub(rb"\r?\n", b"\r\n", data)
                typ, answer = imap.append(folder, None, None, crlf)
                assert typ == "OK", answer

    def subjects(self, user: str, folder: str = "INBOX") -> list[str]:
        """The raw Subject lines in a folder, in UID order; [] when the folder does not exist."""
        with self.client(user) as imap:
            typ, _ = imap.select(f'"{folder}"', readonly=True)
            if typ != "OK":
                return []
            typ, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            found = []
            for item in data:
                if isinstance(item, tuple):
                    text = item[1].decode("utf-8", "replace").strip()
                    found.append(text.removeprefix("Subject:").strip())
            return found

    def flags(self, user: str, folder: str = "INBOX") -> list[str]:
        """Each message's flags in a folder, in UID order."""
        with self.client(user) as imap:
            imap.select(f'"{folder}"', readonly=True)
            _, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            return [item.decode() for item in data if isinstance(item, bytes)]

    def log(self) -> str:
        """The server's log so far."""
        return (self.root / "dovecot.log").read_text(encoding="utf-8", errors="replace")

    def start(self) -> None:
        """Start Dovecot in the foreground (as a child of the tests) and wait until it greets."""
        user, group = _run_as()
        config = self.root / "dovecot.conf"
        config.write_text(
            _CONFIG.format(
                root=self.root,
                port=self.port,
                ssl_port=self.ssl_port,
                user=user,
                group=group,
                password=PASSWORD,
                no_move=NO_MOVE,
                no_uidplus=NO_UIDPLUS,
            ),
            encoding="utf-8",
        )
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        cert.cert_chain_pems[0].write_to_path(str(self.root / "cert.pem"))
        cert.private_key_pem.write_to_path(str(self.root / "key.pem"))
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(exist_ok=True)
        uid = gid = None
        groups: list[int] | None = None
        if os.geteuid() == 0:  # everything it touches becomes nobody's, and it runs as nobody
            nobody = pwd.getpwnam(user)
            uid, gid, groups = nobody.pw_uid, nobody.pw_gid, []
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, uid, gid)
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=uid,
            group=gid,
            extra_groups=groups,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return
            time.sleep(0.02)
        raise RuntimeError(f"dovecot did not greet within 15 s:\n{self.log()}")

    def stop(self) -> None:
        """Stop Dovecot and wait for it."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextlib.contextmanager
def dovecot() -> Iterator[Dovecot]:
    """A Dovecot for as long as the block runs, in a folder of its own under /tmp (short enough for
    its sockets' paths, and reachable by `nobody`), removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="sb-dovecot-"))
    server = Dovecot(root, free_port(), free_port(), trustme.CA())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class CuttingProxy:
    """A TCP proxy to a server that closes both sides the moment the client sends `word` (or at
    once, with word b""), so a test can break a session at a chosen command. Bounded: it serves
    at most `limit` connections and stops with the test."""

    upstream: int
    word: bytes
    port: int = field(default_factory=free_port)
    limit: int = 20
    cuts: int = 0
    _listener: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> CuttingProxy:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *_: object) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _serve(self) -> None:
        served = 0
        while self._listener is not None and served < self.limit:
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            served += 1
            server = socket.create_connection(("127.0.0.1", self.upstream))
            for source, target, watch in ((client, server, True), (server, client, False)):
                thread = threading.Thread(target=self._pipe, args=(source, target, watch, client, server), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pipe(self, source: socket.socket, target: socket.socket, watch: bool, *both: socket.socket) -> None:
        source.settimeout(10)
        try:
            while data := source.recv(65536):
                if watch and self.word in data:
                    self.cuts += 1
                    break
                target.sendall(data)
        except OSError:
            pass
        for sock in both:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def tls_context(server: Dovecot) -> ssl.SSLContext:
    """A client context that trusts the server's test certificate authority."""
    context = ssl.create_default_context()
    server.ca.configure_trust(context)
    return context
