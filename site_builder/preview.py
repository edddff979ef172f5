"""`site-builder serve`: build, serve on loopback, rebuild on every save, reload the open page.

The preview is built into a folder of its own in the project's state folder, never into the
published build's `dist/`: a preview has drafts and loopback URLs, and the real build's note and
manifests are keyed by its output folder, so sharing that folder would make the next real build
start from the preview's output (or publish it).
"""

from __future__ import annotations

import datetime as dt
import html
import http.server
import mimetypes
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import watchfiles

from site_builder.build import pipeline
from site_builder.build.request import BuildRequest
from site_builder.digest.period import Period
from site_builder.problems import ConfigError, InputError, OutputError, SearchError, ThemeError
from site_builder.settings.config import Settings, load_settings
from site_builder.settings.theme import theme_root

_RELOAD_JS = """(() => {
  const source = new EventSource("/__live/events?v=%d");
  source.addEventListener("reload", () => location.reload());
})();
"""


@dataclass
class PreviewState:
    """What the server shows: the build generation and, when the last build failed, why."""

    version: int = 0
    error: str | None = None
    changed: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, error: str | None) -> None:
        """A build finished (error None) or failed: bump the generation and wake every open page."""
        with self.changed:
            # The error first: a page read in between shows it under the old generation, then
            # reloads; the other order could show no error under the new one, and never reload.
            self.error = error
            self.version += 1
            self.changed.notify_all()


def build_preview(cases_dir: Path, out: Path, config_path: Path, base_url: str) -> str | None:
    """Build the site with drafts; the error text in plain words when it fails."""
    try:
        settings = replace(load_settings(config_path), base_url=base_url)
        today = dt.date.today()
        request = BuildRequest(cases_dir, out, settings, Period(today, today), today, ("site",), drafts=True)
        pipeline.build(request)
    except InputError as exc:
        return "\n".join(str(p) for p in exc.problems)
    except (ConfigError, ThemeError, SearchError, OutputError) as exc:
        return str(exc)
    return None


def _error_page(error: str, version: int) -> bytes:
    items = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in error.splitlines())
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Build error</title>'
        "<style>body{font:16px system-ui,sans-serif;margin:2rem;max-width:60rem}"
        "h1{color:#b91c1c}li{margin:.5rem 0}code{white-space:pre-wrap}</style></head><body>"
        "<h1>The site could not be built</h1><p>Fix these and save; this page updates by itself.</p>"
        f'<ul class="build-errors">{items}</ul><script src="/__live/reload.js?v={version}"></script></body></html>'
    ).encode()


def make_handler(site: Path, state: PreviewState) -> type[http.server.BaseHTTPRequestHandler]:
    """A request handler serving `site` (looked up on every request: builds swap the folder)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _events(self, seen: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            with state.changed:
                state.changed.wait_for(lambda: state.version != seen, timeout=25)
                version = state.version
            if version != seen:
                self.wfile.write(f"event: reload\ndata: {version}\n\n".encode())
            else:
                self.wfile.write(b": still here\n\n")  # the browser reconnects and waits again

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            # The generation a page was read in travels with it (page -> script -> events): a build
            # that ends between loading the page and listening still reloads it.
            seen = parse_qs(parts.query).get("v", ["0"])[0]
            if parts.path == "/__live/events":
                self._events(int(seen) if seen.isdigit() else 0)
                return
            if parts.path == "/__live/reload.js":
                self._send(200, (_RELOAD_JS % (int(seen) if seen.isdigit() else 0)).encode(), "text/javascript")
                return
            version = state.version  # before reading the page: a build ending meanwhile costs a reload, not a miss
            target = (site / unquote(parts.path).lstrip("/")).resolve()
            if target.is_dir():
                target = target / "index.html"
            if state.error is not None and target.suffix in (".html", ""):
                self._send(500, _error_page(state.error, version), "text/html; charset=utf-8")
                return
            if not target.is_relative_to(site.resolve()) or not target.is_file():
                target, status = site / "404.html", 404
            else:
                status = 200
            body = target.read_bytes() if target.is_file() else b"Not found"
            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if kind == "text/html":
                script = f'<script src="/__live/reload.js?v={version}"></script></body>'.encode()
                body = body.replace(b"</body>", script, 1)
                kind = "text/html; charset=utf-8"
            self._send(status, body, kind)

    return Handler


# Files editors and tools write beside the one being saved, then rename or delete: vim's .swp and
# its "4913" probe, emacs's #autosave# and .#lock, gedit's .goutputstream-*, backups~, Office's
# ~$lock, JetBrains' ___jb_tmp___, sed -i's sedXXXXXX, downloads in progress. A build reads none of
# them, so they neither start one nor appear in "Rebuilt after a change to ...".
EDITORS_SCRATCH = watchfiles.DefaultFilter(
    ignore_entity_patterns=(
        *watchfiles.DefaultFilter.ignore_entity_patterns,
        r"^\.",
        r"^#.*#$",
        r"^~\$",
        r"^4913$",
        r"^sed[A-Za-z0-9]{6}$",
        r"\.(tmp|temp|bak|part|crdownload|kate-swp)$",
    )
)


class PreviewServer(http.server.ThreadingHTTPServer):
    """The preview's HTTP server: a reader who leaves mid-answer is no error, and any other failure
    of one request is one line, never a traceback among the build messages."""

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """Say in one line why a request failed, unless the browser simply went away."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            print(f"preview: a request from {client_address[0]} failed: {error}", file=sys.stderr)


def preview_folder(settings: Settings) -> Path:
    """Where the preview is built: beside the build cache, apart from any published output."""
    return settings.cache_dir.parent / "preview"


def watched_paths(cases_dir: Path, config_path: Path, settings: Settings) -> list[Path]:
    """Cases, the theme (built-in and overrides) and site.toml: whatever a build reads."""
    paths = [cases_dir, theme_root(), settings.theme_override, config_path]
    return [p for p in paths if p.exists()]


def serve(
    cases_dir: Path,
    config_path: Path,
    port: int,
    announce: Callable[[str], None],
    stop: threading.Event | None = None,
) -> None:
    """Serve until interrupted, rebuilding after every change under the watched paths."""
    stop = stop or threading.Event()
    try:
        settings = load_settings(config_path)
    except ConfigError:
        # The first build reports the broken file; the preview's folder is still beside it.
        settings = Settings(root=config_path.parent)
    # Chosen once: a site.toml edited while serving must not move the folder being served.
    out = preview_folder(settings)
    state = PreviewState()
    server = PreviewServer(("127.0.0.1", port), make_handler(out / "site", state))
    server.daemon_threads = True
    base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    state.publish(build_preview(cases_dir, out, config_path, base_url))
    if state.error:
        announce(f"Build failed; the page shows why:\n{state.error}")
    serving = False
    try:
        # The pages are served only once the watcher runs (its first quiet spell, 0.25 s): an edit
        # saved as soon as the page answers must not be missed.
        paths = watched_paths(cases_dir, config_path, settings)
        watching = watchfiles.watch(
            *paths, watch_filter=EDITORS_SCRATCH, stop_event=stop, rust_timeout=250, yield_on_timeout=True
        )
        for changes in watching:
            if not serving:
                threading.Thread(target=server.serve_forever, daemon=True).start()
                announce(
                    f"Serving {base_url} (drafts included), built in {out / 'site'}; the published build is"
                    " left alone. Watching for changes; Ctrl+C to stop."
                )
                serving = True
            if not changes:
                continue
            names = ", ".join(sorted({Path(p).name for _, p in changes}))
            error = build_preview(cases_dir, out, config_path, base_url)
            state.publish(error)
            announce(f"Rebuilt after a change to {names}" if error is None else f"Build failed:\n{error}")
    except KeyboardInterrupt:
        pass
    finally:
        if serving:  # shutdown() waits for serve_forever, which never started otherwise
            server.shutdown()
        server.server_close()
