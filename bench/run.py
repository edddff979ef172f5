"""Benchmark: our builder against Hugo and Pelican on the same generated corpus.

    python bench/run.py [--cases 1000 10000] [--leaflets 40] [--send 10000 [--dkim]] [--skip-peers] [--languages 3000] [--ci 1000]
                        [--booklet 100 1000 10000 [--booklet-cold-up-to 100]]

`--cases` with no number skips the builds (to time only leaflets or sending).

Prints wall time, pages per second, peak memory and ratios to each peer, for a cold build, a
no-change rebuild, a rebuild after editing one case and one after changing one template; then
leaflets with 1 and with all cores, and sending over SMTP. Outputs go to a tmpfs (/dev/shm) when
there is one, so the disk's own slowness after many deletions is not what we measure.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import write_corpus  # noqa: E402

BIN = Path(sys.executable).parent
SB = [sys.executable, "-m", "site_builder"]  # the code next to this file (PYTHONPATH), not an installed copy
NOW = ["--now", "2030-01-01"]


@dataclass
class Run:
    """One timed command."""

    seconds: float
    peak_mb: float


def timed(command: list[str], cwd: Path) -> Run:
    """Run a command under /usr/bin/time; wall time and peak memory (largest process)."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return Run(seconds, peak_kb / 1024)


def scratch() -> Path:
    """A fresh folder on tmpfs when there is one."""
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    return Path(tempfile.mkdtemp(prefix="sb-bench-", dir=base))


# ---- peers -------------------------------------------------------------------------------------


def _front(text: str) -> tuple[dict[str, str], str]:
    head, body = text.split("\n---\n", 1)
    fields = {}
    for line in head.splitlines()[1:]:
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip().strip('"')
    return fields, body


def pelican_project(cases: Path, folder: Path) -> list[str]:
    """Pelican with the same Python-Markdown; one page per case and an index, nothing else."""
    content = folder / "content"
    content.mkdir(parents=True)
    for path in sorted(cases.glob("*.md")):
        fields, body = _front(path.read_text(encoding="utf-8"))
        meta = (
            f"Title: {fields['title']}\nDate: {fields['date']}\nSlug: {fields['slug']}\nLang: {fields['language']}\n\n"
        )
        (content / path.name).write_text(meta + body, encoding="utf-8")
    theme = folder / "theme/templates"
    theme.mkdir(parents=True)
    (theme / "article.html").write_text(
        '<!doctype html><html lang="{{ article.lang }}"><head><meta charset="utf-8"><title>{{ article.title }}</title></head>'
        "<body><h1>{{ article.title }}</h1>{{ article.content }}</body></html>"
    )
    (theme / "index.html").write_text(
        '<!doctype html><html><head><meta charset="utf-8"><title>Index</title></head><body><ul>'
        '{% for article in articles %}<li><a href="{{ article.url }}">{{ article.title }}</a></li>{% endfor %}</ul></body></html>'
    )
    (folder / "pelicanconf.py").write_text(
        "SITENAME='bench'\nTIMEZONE='UTC'\nTHEME='theme'\nTHEME_STATIC_PATHS=[]\nDIRECT_TEMPLATES=['index']\n"
        "FEED_ALL_ATOM=None\nCATEGORY_FEED_ATOM=None\nTRANSLATION_FEED_ATOM=None\nAUTHOR_FEED_ATOM=None\nAUTHOR_FEED_RSS=None\n"
        "TAG_SAVE_AS=''\nTAGS_SAVE_AS=''\nCATEGORY_SAVE_AS=''\nCATEGORIES_SAVE_AS=''\nAUTHOR_SAVE_AS=''\nAUTHORS_SAVE_AS=''\n"
        "ARCHIVES_SAVE_AS=''\nPAGE_SAVE_AS=''\nDEFAULT_PAGINATION=False\nARTICLE_TRANSLATION_ID=None\nARTICLE_URL='cases/{slug}/'\n"
        "ARTICLE_SAVE_AS='cases/{slug}/index.html'\nMARKDOWN={'extensions': ['markdown.extensions.tables', "
        "'markdown.extensions.fenced_code', 'markdown.extensions.sane_lists', 'markdown.extensions.attr_list'], "
        "'output_format': 'html'}\n"
    )
    return [str(BIN / "pelican"), "content", "-o", "output", "-s", "pelicanconf.py", "-q"]


def hugo_project(cases: Path, folder: Path) -> list[str]:
    """Hugo: one page per case and an index; taxonomies, feeds and sitemaps off."""
    content = folder / "content/cases"
    content.mkdir(parents=True)
    for path in sorted(cases.glob("*.md")):
        fields, body = _front(path.read_text(encoding="utf-8"))
        head = f'---\ntitle: "{fields["title"]}"\ndate: {fields["date"]}\nslug: {fields["slug"]}\n---\n'
        (content / path.name).write_text(head + body, encoding="utf-8")
    layouts = folder / "layouts/_default"
    layouts.mkdir(parents=True)
    (layouts / "single.html").write_text(
        '<!doctype html><html><head><meta charset="utf-8"><title>{{ .Title }}</title></head><body><h1>{{ .Title }}</h1>{{ .Content }}</body></html>'
    )
    (layouts / "list.html").write_text("<!doctype html><html><body></body></html>")
    (folder / "layouts/index.html").write_text(
        '<!doctype html><html><head><meta charset="utf-8"><title>Index</title></head><body><ul>'
        '{{ range .Site.RegularPages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></body></html>'
    )
    (folder / "hugo.toml").write_text(
        "baseURL = 'https://example.com/'\ndisableKinds = ['taxonomy', 'term', 'RSS', 'sitemap', 'robotsTXT', '404']\n"
        "[markup.goldmark.renderer]\nunsafe = true\n"
    )
    return [str(BIN / "hugo"), "--quiet", "-d", "public"]


# ---- our tool ----------------------------------------------------------------------------------


def _newest(cases: Path) -> Path:
    """The case with the latest date: the one marketing is likeliest to edit (it is on the index
    page, in the feeds and in the booklet)."""

    def date(path: Path) -> str:
        return next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("date:"))

    return max(sorted(cases.glob("*.md")), key=date)


def _edit(path: Path, label: str) -> None:
    # The last section is Thanks in every language: one more sentence there changes that case's page.
    path.write_text(path.read_text(encoding="utf-8") + f"\nEdited for the {label} run.\n", encoding="utf-8")


def ours(folder: Path, cases: Path, full_too: bool) -> dict[str, Run]:
    """Our site (peer-equivalent: --only site --no-search), then the full build (site with search,
    digest, leaflets), then the full build without search (the leaflet cache kept), each in the
    same situations."""
    results: dict[str, Run] = {}
    site = [*SB, "build", "--only", "site", "--no-search", *NOW]
    full = [*SB, "build", *NOW, "--since", "2025-01-01", "--until", "2025-12-31"]
    series = (("site", site, True), ("full", full, True), ("full without search", [*full, "--no-search"], False))
    middle = sorted(cases.glob("*.md"))[len(list(cases.glob("*.md"))) // 2]
    newest = _newest(cases)
    for label, command, fresh in series[: 3 if full_too else 1]:
        shutil.rmtree(folder / "theme-overrides", ignore_errors=True)
        if fresh:
            shutil.rmtree(folder / "dist", ignore_errors=True)
            shutil.rmtree(folder / ".site-builder", ignore_errors=True)
            results[f"{label} cold"] = timed(command, folder)
        else:
            timed(command, folder)  # the first build after switching search off rewrites every page
        results[f"{label} no change"] = timed(command, folder)
        _edit(middle, label)
        results[f"{label} one case edited"] = timed(command, folder)
        _edit(newest, label)
        results[f"{label} newest case edited"] = timed(command, folder)
        override = folder / "theme-overrides/site"
        override.mkdir(parents=True, exist_ok=True)
        (override / "case.html").write_text(
            (ROOT / "theme/site/case.html").read_text(encoding="utf-8") + "<!-- changed -->\n"
        )
        results[f"{label} one template changed"] = timed(command, folder)
    return results


def leaflets(count: int) -> dict[str, float]:
    """ms per leaflet with 1 process and with all cores, from a cold cache."""
    folder = scratch()
    write_corpus(count, folder)
    result = {}
    for jobs in (1, os.cpu_count() or 1):
        shutil.rmtree(folder / ".site-builder", ignore_errors=True)
        shutil.rmtree(folder / "dist", ignore_errors=True)
        run = timed([*SB, "leaflets", "--jobs", str(jobs)], folder)
        result[f"jobs={jobs}"] = run.seconds * 1000 / count
    shutil.rmtree(folder)
    return result


def booklet(count: int, cold_up_to: int) -> dict[str, Run]:
    """`leaflets` (every leaflet and a booklet per language) cold, with no change, and after an edit
    of the newest case (its leaflet laid out again, its booklet joined again). Above `cold_up_to`
    cases only the booklets' leaflets are laid out cold; the others are seeded (seed_leaflets.py)."""
    folder = scratch()
    cases = write_corpus(count, folder)
    command = [*SB, "leaflets"]
    results: dict[str, Run] = {}
    if count > cold_up_to:
        one = folder / "one"
        (one / "cases").mkdir(parents=True)
        shutil.copy(_newest(cases), one / "cases")
        timed(command, one)
        [sample] = [p for p in (one / "dist/leaflets").glob("*.pdf") if not p.name.startswith("all")]
        subprocess.run(
            [sys.executable, str(HERE / "seed_leaflets.py"), str(folder), str(sample)], cwd=folder, check=True
        )
        results["booklets' leaflets cold, the rest seeded"] = timed(command, folder)
    else:
        results["cold"] = timed(command, folder)
    results["no change"] = timed(command, folder)
    _edit(_newest(cases), "booklet")
    results["newest case edited"] = timed(command, folder)
    shutil.rmtree(folder)
    return results


def _clone(origin: Path, workspace: Path) -> None:
    """A fresh clone at the workspace's path (a GitHub runner's is the same on every run): every
    file has a new inode and mtime."""
    shutil.rmtree(workspace, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(origin), str(workspace)], check=True)


def _tar(workspace: Path, archive: Path, *paths: str, extract: bool = False) -> float:
    """Save `paths` (or restore them) as actions/cache does: a POSIX tar (mtimes to the
    nanosecond, hard links kept); zstd is left out, its time is GitHub's. Seconds taken."""
    started = time.perf_counter()
    command = ["-xf", str(archive)] if extract else ["--posix", "-cf", str(archive)]
    subprocess.run(["tar", *command, "-P", "-C", str(workspace), *paths], check=True)
    return time.perf_counter() - started


def ci(count: int) -> tuple[dict[str, Run], dict[str, float]]:
    """The publish workflow's build: a fresh clone with the build cache restored, as actions/cache
    restores it (.site-builder/ and dist/), against the cold build every run was before. Returns
    the builds timed, and the cache's size and restore time."""
    origin = scratch()
    cases = write_corpus(count, origin)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=origin, check=True)
    subprocess.run([*git, "add", "-A"], cwd=origin, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "corpus"], cwd=origin, check=True)
    middle = sorted(cases.glob("*.md"))[count // 2].relative_to(origin)
    newest = _newest(cases).relative_to(origin)
    workspace = scratch() / "project"
    full = [*SB, "build", *NOW, "--since", "2025-01-01", "--until", "2025-12-31"]
    results: dict[str, Run] = {}
    _clone(origin, workspace)
    results["fresh clone, no cache (the workflows before): cold"] = timed(full, workspace)
    archive, partial = workspace.parent / "cache.tar", workspace.parent / "site-builder-only.tar"
    figures = {"cache saved (tar, s)": _tar(workspace, archive, ".site-builder", "dist")}
    _tar(workspace, partial, ".site-builder")
    figures["cache size (MB, before zstd)"] = archive.stat().st_size / 1e6
    figures[".site-builder/ alone (MB)"] = partial.stat().st_size / 1e6
    situations = (
        ("no change", None, archive),
        ("one case edited", middle, archive),
        ("newest case edited", newest, archive),
        ("one case edited, .site-builder/ alone restored (no dist/)", middle, partial),
    )
    for label, edited, kept in situations:
        _clone(origin, workspace)
        if edited is not None:
            _edit(workspace / edited, "ci")
        figures[f"restore ({label}, s)"] = _tar(workspace, kept, extract=True)
        results[f"fresh clone, cache restored: {label}"] = timed(full, workspace)
    shutil.rmtree(origin)
    shutil.rmtree(workspace.parent)
    return results, figures


def sending(count: int, dkim: str = "") -> float:
    """Messages per second to a loopback SMTP server, with the ledger; `dkim`: signed with a new key
    of that kind (rsa: 2048 bits, or ed25519)."""
    from aiosmtpd.controller import Controller

    class Sink:
        received = 0

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            Sink.received += 1
            return "250 OK"

    folder = scratch()
    write_corpus(30, folder)
    port = 10000 + os.getpid() % 20000
    settings = f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
    if dkim:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

        key = rsa.generate_private_key(65537, 2048) if dkim == "rsa" else ed25519.Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (folder / "dkim.pem").write_bytes(pem)
        settings += '[digest]\ndkim_key = "dkim.pem"\ndkim_selector = "bench"\n'
    (folder / "site.toml").write_text(settings)
    (folder / "people.csv").write_text("email,name\n" + "".join(f"p{i}@example.com,Person {i}\n" for i in range(count)))
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        run = timed(
            [
                *SB,
                "send",
                "--recipients",
                "people.csv",
                "--since",
                "2016-01-01",
                "--until",
                "2030-01-01",
            ],
            folder,
        )
    finally:
        controller.stop()
        shutil.rmtree(folder)
    assert Sink.received == count, Sink.received
    return count / run.seconds


def languages(count: int) -> dict[str, tuple[float, int]]:
    """A cold site build of `count` cases written all in one language (each of the three in turn:
    their words differ in length), a third each in three, and in three with each story translated:
    (seconds, HTML pages written)."""
    found = {}
    for kind in ("one-en", "one-ru", "one-da", "mixed", "translated"):
        folder = scratch()
        write_corpus(count, folder, kind)
        if kind.startswith("one-"):  # the site's language is its cases' language: one part, at the root
            (folder / "site.toml").write_text(f'language = "{kind.removeprefix("one-")}"\n', encoding="utf-8")
        run = timed([*SB, "build", "--only", "site", "--no-search", *NOW], folder)
        found[kind] = (run.seconds, sum(1 for _ in (folder / "dist/site").rglob("*.html")))
        shutil.rmtree(folder)
    return found


def main() -> None:
    """Run everything and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, nargs="*", default=[1000])
    parser.add_argument("--leaflets", type=int, default=40)
    parser.add_argument("--send", type=int, default=2000)
    parser.add_argument(
        "--booklet", type=int, nargs="*", default=[], help="cases to time `leaflets` and the booklet on"
    )
    parser.add_argument("--booklet-cold-up-to", type=int, default=1000, help="above: booklets' leaflets only, cold")
    parser.add_argument("--dkim", action="store_true", help="time sending signed with RSA-2048 and Ed25519 too")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--full-up-to", type=int, default=1000, help="largest corpus to also time full builds on")
    parser.add_argument(
        "--ci", type=int, nargs="*", default=[], help="cases for the CI build: fresh clone, cache restored"
    )
    parser.add_argument(
        "--languages", type=int, default=0, help="cases for the one-language / three-language comparison"
    )
    args = parser.parse_args()
    # As installed: with compiled modules (PYTHONDONTWRITEBYTECODE, set on some machines, would
    # otherwise have every run compile the tool's modules again).
    compileall.compile_dir(ROOT / "site_builder", quiet=1)
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, outputs on {scratch().parent}")
    for count in args.cases:
        folder = scratch()
        cases = write_corpus(count, folder)
        pages = count + 1
        print(f"\n## {count} cases ({pages} peer-equivalent pages: one per case and an index)\n")
        peers: dict[str, Run] = {}
        if not args.skip_peers:
            for name, make in (("Hugo", hugo_project), ("Pelican", pelican_project)):
                place = folder / name.lower()
                command = make(cases, place)
                peers[name] = timed(command, place)
        results = ours(folder, cases, count <= args.full_up_to)
        header = "| run | seconds | pages/s | peak MB |" + "".join(f" vs {p} |" for p in peers)
        print(header)
        print("|---" * (4 + len(peers)) + "|")
        for name, run in peers.items():
            print(
                f"| {name} full build | {run.seconds:.2f} | {pages / run.seconds:.0f} | {run.peak_mb:.0f} |"
                + " |" * len(peers)
            )
        for label, run in results.items():
            ratios = "".join(f" {p.seconds / run.seconds:.2f}x |" for p in peers.values())
            print(f"| ours: {label} | {run.seconds:.2f} | {pages / run.seconds:.0f} | {run.peak_mb:.0f} |{ratios}")
        shutil.rmtree(folder)
    for count in args.ci:
        print(f"\n## CI: the publish workflow's build, {count} cases (full: site with search, digest, leaflets)\n")
        print("| run | seconds | peak MB |")
        print("|---|---|---|")
        runs, figures = ci(count)
        for label, run in runs.items():
            print(f"| {label} | {run.seconds:.2f} | {run.peak_mb:.0f} |")
        print()
        for label, figure in figures.items():
            print(f"- {label}: {figure:.2f}")
    if args.languages:
        print(f"\n## Languages ({args.languages} cases, site cold)\n")
        print("| cases written | seconds | HTML pages | ms per page | vs one language (mean of the three) |")
        print("|---|---|---|---|---|")
        found = languages(args.languages)
        base = sum(seconds / pages for kind, (seconds, pages) in found.items() if kind.startswith("one-")) / 3
        for kind, (seconds, pages) in found.items():
            print(
                f"| {kind} | {seconds:.2f} | {pages} | {seconds / pages * 1000:.2f} | {seconds / pages / base:.2f}x |"
            )
    if args.leaflets:
        per = leaflets(args.leaflets)
        one, many = per["jobs=1"], per[f"jobs={os.cpu_count() or 1}"]
        print(f"\n## Leaflets ({args.leaflets} cases, cold cache)\n")
        print(
            f"1 process: {one:.0f} ms per leaflet; {os.cpu_count()} processes: {many:.0f} ms per leaflet; speed-up {one / many:.2f}x"
        )
    for count in args.booklet:
        print(f"\n## Leaflets and booklets ({count} cases, `leaflets`)\n")
        print("| run | seconds | peak MB |")
        print("|---|---|---|")
        for label, run in booklet(count, args.booklet_cold_up_to).items():
            print(f"| {label} | {run.seconds:.2f} | {run.peak_mb:.0f} |")
    if args.send:
        rate = sending(args.send)
        print(f"\n## Sending\n\n{args.send} messages to a loopback SMTP server, with the ledger: {rate:.0f} per second")
        for kind in ("rsa", "ed25519") if args.dkim else ():
            rate = sending(args.send, kind)
            print(f"the same, DKIM-signed ({'RSA-2048' if kind == 'rsa' else 'Ed25519'}): {rate:.0f} per second")
    _ = threading


if __name__ == "__main__":
    main()
