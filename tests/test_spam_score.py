"""Deliverability: the digest in every language, as the SMTP server receives it, scores at most 1.0 in
SpamAssassin (its local tests, Debian's rules, none of this machine's or this user's settings)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.browser import require
from tests.smtp_server import SmtpServer

LIMIT = 1.0
# Debian's packaged rules, the same on every machine: not sa-update's newer ones (/var/lib/spamassassin),
# which differ from machine to machine and week to week.
RULES = Path("/usr/share/spamassassin")
# The package's list of plugins to load (*.pre); not local.cf, which is the administrator's.
PLUGINS = Path("/etc/spamassassin")
READERS = {"anna@example.com": "en", "boris@example.com": "ru", "carl@example.com": "da"}

Scorer = Callable[[bytes], tuple[float, str]]


@pytest.fixture(scope="module")
def spamassassin(tmp_path_factory: pytest.TempPathFactory) -> Scorer:
    """Score a message with `spamassassin -L -t` in a fresh home: (score, the table of rules that hit)."""
    require("spamassassin", "Debian's spamassassin")
    home = tmp_path_factory.mktemp("spamassassin")
    site = home / "site"
    site.mkdir()
    for pre in PLUGINS.glob("*.pre"):
        shutil.copy(pre, site)
    prefs = home / "user_prefs"
    prefs.write_text("", encoding="utf-8")
    # Everything it reads or writes is in `home`, so any user can run it; -L: no network tests.
    command = ["spamassassin", "-L", "-t", "-x", "-p", str(prefs), "--siteconfigpath", str(site), "-C", str(RULES)]
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}

    def score(message: bytes) -> tuple[float, str]:
        done = subprocess.run(command, input=message, capture_output=True, env=env, timeout=120, check=False)
        out = done.stdout.decode("utf-8", "replace")
        status = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", out, re.MULTILINE)
        assert done.returncode == 0 and status, done.stderr.decode("utf-8", "replace")
        return float(status[1]), out[out.rfind("Content analysis details") :]

    return score


@pytest.mark.parametrize("untranslated", ["show", "hide"])
def test_each_language_scores_at_most_one(
    sample_project: Path, smtp: SmtpServer, cli: Callable[..., Result], spamassassin: Scorer, untranslated: str
) -> None:
    # The sample cases and settings, sent to the test server. "hide": each reader gets only stories
    # told in their language, Cyrillic among Latin links (SpamAssassin's MIXED_ES counts such e's).
    toml = sample_project / "site.toml"
    text = toml.read_text(encoding="utf-8").split("\n[smtp]\n")[0]
    text = text.replace("[digest]\n", f'[digest]\nuntranslated = "{untranslated}"\n')
    toml.write_text(f'{text}\n[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n', encoding="utf-8")
    people = "".join(f"{address},{address[0].upper()},{language}\n" for address, language in READERS.items())
    (sample_project / "people.csv").write_text(f"email,name,language\n{people}", encoding="utf-8")
    result = cli("send", "--recipients", "people.csv", "--since", "2026-01-01", "--until", "2026-12-31")
    assert result.exit_code == 0, result.output
    scores = {}
    for address, language in READERS.items():
        (message,) = smtp.recorder.to(address)
        assert message["Content-Language"] == language
        scores[language], report = spamassassin(smtp.recorder.raw[address])
        assert scores[language] <= LIMIT, f"{language}: {scores[language]} > {LIMIT}\n{report}"
    print(f"SpamAssassin scores ({untranslated}): {scores}")  # shown with pytest -s
