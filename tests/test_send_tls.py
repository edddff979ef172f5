"""STARTTLS, implicit TLS and login against a real server with a test certificate authority."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from click.testing import Result

from tests.conftest import case_text
from tests.smtp_server import Recorder, SmtpServer, free_port

USERS = {"mailer": "s3cret"}


class Authenticator:
    """Accepts the one test user; remembers who logged in."""

    def __init__(self) -> None:
        self.logins: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if USERS.get(user) == password:
                self.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@pytest.fixture
def ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ssl.SSLContext]:
    """A test CA the client trusts (through SSL_CERT_FILE) and a server context it signed."""
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    yield context


def setup(project: Path, write_case: Callable[..., Path], port: int, security: str) -> None:
    (project / "site.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "{security}"\nusername = "mailer"\ntimeout = 5\n'
        "[digest]\nbackoff = 0.01\n",
        encoding="utf-8",
    )
    write_case("hotel.md", case_text())
    (project / "people.csv").write_text("email,name\nanna@example.com,Anna\n", encoding="utf-8")


SEND = ("send", "--recipients", "people.csv", "--since", "2026-03-01", "--until", "2026-03-31")


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_encrypted_login_and_send(
    project: Path,
    write_case: Callable[..., Path],
    cli: Callable[..., Result],
    ca: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
    security: str,
) -> None:
    auth = Authenticator()
    options: dict[str, Any] = {"authenticator": auth, "auth_require_tls": True}
    if security == "starttls":
        options.update(tls_context=ca, require_starttls=True)
    else:  # aiosmtpd cannot tell a socket wrapped in TLS from a plain one, so it must be told
        options.update(ssl_context=ca, auth_require_tls=False)
    server = SmtpServer(free_port(), Recorder(), options=options)
    server.start()
    try:
        setup(project, write_case, server.port, security)
        monkeypatch.setenv("SITE_BUILDER_SMTP_PASSWORD", "s3cret")
        result = cli(*SEND)
        assert result.exit_code == 0, result.output
        assert auth.logins == ["mailer"]
        assert [r for _, rcpts, _ in server.recorder.messages for r in rcpts] == ["anna@example.com"]
    finally:
        server.stop()


def test_missing_password_is_a_configuration_error(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(project, write_case, free_port(), "starttls")
    monkeypatch.delenv("SITE_BUILDER_SMTP_PASSWORD", raising=False)
    result = cli(*SEND)
    assert result.exit_code == 2
    assert "SITE_BUILDER_SMTP_PASSWORD" in result.stderr


def test_wrong_password_stops_without_sending(
    project: Path,
    write_case: Callable[..., Path],
    cli: Callable[..., Result],
    ca: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = SmtpServer(
        free_port(), Recorder(), options={"authenticator": Authenticator(), "tls_context": ca, "require_starttls": True}
    )
    server.start()
    try:
        setup(project, write_case, server.port, "starttls")
        monkeypatch.setenv("SITE_BUILDER_SMTP_PASSWORD", "wrong")
        result = cli(*SEND)
        assert result.exit_code == 1
        assert "refused the login for 'mailer'" in result.stderr
        assert server.recorder.messages == []
    finally:
        server.stop()
