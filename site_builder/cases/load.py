"""Case files -> validated, immutable Case objects, or every problem found in them."""

from __future__ import annotations

import datetime as dt
import difflib
import errno
import functools
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slugify import slugify

from site_builder.build.keys import key
from site_builder.build.parallel import fork_pool
from site_builder.cases import consent as consent_rule
from site_builder.cases import markdown, typography
from site_builder.cases.assets import linked_files
from site_builder.cases.embeds import external_embeds
from site_builder.cases.limits import nesting_problems
from site_builder.cases.model import COSTS, Body, Case, Moment, Section, _day, instant
from site_builder.cases.names import OWN_SLUG, collisions, reserved
from site_builder.cases.placeholders import leftovers
from site_builder.cases.review import Draft, local_links, review
from site_builder.cases.sections import classify, shallow_lists
from site_builder.cases.translations import twins
from site_builder.problems import InputError, Problem
from site_builder.settings.config import Settings
from site_builder.settings.i18n import heading_aliases

if TYPE_CHECKING:
    from site_builder.build.case_cache import Signature
    from site_builder.cases.frontmatter import Parsed

MAX_BYTES = 1024 * 1024
FIELDS = (
    "title",
    "date",
    "received",
    "resolved",
    "responded",
    "customer",
    "consent",
    "slug",
    "industry",
    "tags",
    "costs",
    "compensation",
    "language",
    "summary",
    "draft",
    "translation_key",
)
# A slug names a folder of the site and the leaflet `<slug>.pdf`; a file name holds at most 255 bytes
# on the usual file systems (ext4, tmpfs, APFS, NTFS), so a longer one fails only when written.
NAME_BYTES = 255
MAX_SLUG = NAME_BYTES - len(".pdf")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A date, or a date and time as people and machines write it: 2026-03-14 9:30, 2026-03-14T09:30:00Z,
# 2026-03-14T09:30:00.123+01:00.
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ Tt]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$")
_ONE_DIGIT_HOUR = re.compile(r"T(\d):")


class _Fields:
    """Reads one file's front matter field by field, collecting problems with their lines."""

    def __init__(self, path: Path, parsed: Parsed, problems: list[Problem]) -> None:
        self.path, self.parsed, self.problems = path, parsed, problems

    def line(self, name: str) -> int | None:
        return self.parsed.lines.get(name)

    def fail(self, name: str, message: str, expected: str) -> None:
        self.problems.append(Problem(self.path, self.line(name), name, message, expected))

    def get(self, name: str, check: Callable[[Any], Any], expected: str, default: Any = None) -> Any:
        # An empty value is a blank left to fill in, as `site-builder new` writes them.
        if self.parsed.fields.get(name) in (None, ""):
            return default
        value = self.parsed.fields[name]
        try:
            return check(value)
        except (TypeError, ValueError) as exc:
            detail = str(exc) or f"{value!r} is not valid"
            self.fail(name, detail, expected)
            return default

    def required(self, name: str, check: Callable[[Any], Any], expected: str) -> Any:
        if self.parsed.fields.get(name) in (None, ""):
            self.problems.append(Problem(self.path, self.line(name) or 2, name, "is missing", f"{name}: {expected}"))
            return None
        return self.get(name, check, expected)


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"{value!r} is not text")
    text = " ".join(str(value).split())
    if not text:
        raise ValueError("is empty")
    return text


def _date(value: Any) -> dt.date:
    text = str(value).strip()
    if not _DATE.match(text):
        raise ValueError(f"{text!r} is not a date")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date") from None


def _moment(value: Any) -> Moment:
    text = str(value).strip()
    if not _MOMENT.match(text):
        raise ValueError(f"{text!r} is not a date or date and time")
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a real date") from None
    iso = _ONE_DIGIT_HOUR.sub(r"T0\1:", text[:10] + "T" + text[11:]).upper()
    try:
        return dt.datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date or time") from None


def _zoned(moments: list[Moment | None], zone: dt.tzinfo, local_is_utc: bool) -> list[Moment | None]:
    """Times written without an offset are in the site's time zone; once any time of the case has
    an offset, or the zone is not UTC, every time gets its zone, so that times are compared as
    instants (a response time across zones and daylight saving is right)."""
    if local_is_utc and not any(isinstance(m, dt.datetime) and m.tzinfo for m in moments):
        return moments  # as written: naive times are UTC, and need no zone to be subtracted
    return [m.replace(tzinfo=zone) if isinstance(m, dt.datetime) and m.tzinfo is None else m for m in moments]


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{value!r} is not a list")
    return tuple(dict.fromkeys(_text(v) for v in value))


def _choice(options: Iterable[str], what: str) -> Callable[[Any], str]:
    options = tuple(options)

    def check(value: Any) -> str:
        text = _text(value)
        if text not in options:
            close = difflib.get_close_matches(text, options, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"{text!r} is not a known {what}{hint}")
        return text

    return check


def _slug(value: Any) -> str:
    text = _text(value)
    if "/" in text or "\\" in text or ".." in text:
        raise ValueError(f"{text!r} would point outside the site's cases folder")
    if not _SLUG.match(text):
        raise ValueError(f"{text!r} is not a valid slug")
    if len(text) > MAX_SLUG:
        raise ValueError(f"is {_too_long(text, MAX_SLUG)}")
    return text


def _too_long(name: str, limit: int) -> str:
    """Says a URL name is too long to be a file name: its length and the limit, without all of it."""
    return f"{len(name)} characters long ('{name[:40]}...'), more than the {limit} a file name allows"


def _tags(value: Any) -> tuple[str, ...]:
    tags = _strings(value)
    for tag in tags:
        if not slugify(tag):
            raise ValueError(f"tag {tag!r} has no letters or digits to make a URL from")
        if len(slugify(tag)) > NAME_BYTES:
            raise ValueError(f"tag {tag[:40]!r} makes a URL name {_too_long(slugify(tag), NAME_BYTES)}")
    return tags


def _costs(value: Any) -> tuple[str, ...]:
    check = _choice(COSTS, "cost")
    costs: list[str] = []
    wrong: list[str] = []
    for item in _strings(value):
        try:
            costs.append(check(item))
        except ValueError as exc:
            wrong.append(str(exc))
    if wrong:  # every wrong item at once: fixing one and running again to meet the next is tedious
        raise ValueError("; ".join(wrong))
    return tuple(costs)


def decoded(data: bytes) -> str:
    """A case file's text as the loader reads it (UTF-8, a byte-order mark dropped)."""
    return data.decode("utf-8").removeprefix("\ufeff")


def text_digest(path: Path, text: str) -> str:
    """A case's `digest`: of its path as shown and its text."""
    return key(path, text)


def _read(path: Path, problems: list[Problem]) -> str | None:
    try:
        return _read_text(path, problems)
    except OSError as exc:  # gone or unreadable since it was listed: the file's problem, not a crash
        problems.append(_unreadable(path, exc))
        return None


def _read_text(path: Path, problems: list[Problem]) -> str | None:
    size = path.stat().st_size
    if size > MAX_BYTES:
        problems.append(
            Problem(
                path,
                None,
                "file",
                f"is {size:,} bytes, larger than 1 MiB",
                "a case of a few pages; move big files out of cases/",
            )
        )
        return None
    data = path.read_bytes()
    if not data.strip():
        problems.append(
            Problem(
                path,
                None,
                "file",
                "is empty",
                "front matter and the four sections; 'site-builder new' writes a template",
            )
        )
        return None
    try:
        return decoded(data)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(
                path,
                line,
                "file",
                f"is not valid UTF-8 (byte {exc.start} is {data[exc.start]:#04x})",
                "save the file as UTF-8",
            )
        )
        return None


def load_case(path: Path, settings: Settings, problems: list[Problem]) -> Case | None:
    """Read and check one case file; problems go to `problems`, None when it is unusable."""
    shown = path
    text = _read(path, problems)
    if text is None:
        return None
    from site_builder.cases.frontmatter import parse  # YAML: only when a case is parsed, not taken from the cache

    parsed = parse(shown, text)
    if isinstance(parsed, Problem):
        problems.append(parsed)
        return None
    problems.extend(parsed.warnings)
    before = len(problems)
    f = _Fields(shown, parsed, problems)
    for name in parsed.fields:
        if name not in FIELDS:
            close = difflib.get_close_matches(name, FIELDS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "known fields: " + ", ".join(FIELDS)
            f.fail(name, "is not a known field", hint)
    title = f.required("title", _text, "a headline in quotes")
    date = f.required("date", _date, "a date written YYYY-MM-DD, like 2026-03-14")
    moment = "a date YYYY-MM-DD, or a date and time like 2026-03-14 09:30 or 2026-03-14T09:30:00+01:00"
    received = f.get("received", _moment, moment)
    resolved = f.get("resolved", _moment, moment)
    responded = f.get("responded", _moment, moment)
    received, resolved, responded = _zoned([received, resolved, responded], settings.zone, settings.timezone == "UTC")
    if received is not None and resolved is not None and _earlier(resolved, received):
        f.fail(
            "resolved",
            f"{resolved} is before received {received}",
            "the day the complaint was fixed, on or after received",
        )
    if responded is not None and received is not None and _earlier(responded, received):
        f.fail(
            "responded",
            f"{responded} is before received {received}",
            "when we first replied to the customer, on or after received",
        )
    elif responded is not None and resolved is not None and _earlier(resolved, responded):
        f.fail(
            "responded",
            f"{responded} is after resolved {resolved}",
            "when we first replied to the customer, on or before resolved",
        )
    consent = f.get("consent", _bool, "true or false", default=False)
    customer = f.get("customer", _text, "the customer's name in quotes")
    default_slug = slugify(path.stem)
    slug_form = f"lowercase letters, digits and '-', like hotel-lost-booking; at most {MAX_SLUG} characters"
    slug = f.get("slug", _slug, slug_form, default_slug)
    if not slug:
        problems.append(
            Problem(
                shown,
                None,
                "slug",
                "the file name gives no URL name",
                "add 'slug: some-name' or rename the file",
            )
        )
    elif parsed.fields.get("slug") in (None, "") and len(slug) > MAX_SLUG:
        problems.append(
            Problem(
                shown,
                None,
                "slug",
                f"the file name makes a URL name {_too_long(slug, MAX_SLUG)}",
                f"add a shorter 'slug: some-name' (at most {MAX_SLUG} characters) or rename the file",
            )
        )
    language = f.get(
        "language",
        _choice(settings.languages, "language"),
        "one of " + ", ".join(settings.languages),
        settings.language,
    )
    industry = f.get("industry", _text, "a word or short phrase, like hotels")
    if industry is not None and not slugify(industry):
        f.fail(
            "industry",
            f"{industry!r} has no letters or digits to make a URL from",
            "a word like hotels",
        )
    elif industry is not None and len(slugify(industry)) > NAME_BYTES:
        f.fail("industry", f"makes a URL name {_too_long(slugify(industry), NAME_BYTES)}", "a word like hotels")
    tags = f.get("tags", _tags, "a list like [delivery, refund]", ())
    costs = f.get("costs", _costs, "a list with some of " + ", ".join(COSTS), ())
    compensation = f.get("compensation", _text, "what the customer got, in quotes")
    summary = f.get("summary", _text, "one sentence in quotes")
    draft = f.get("draft", _bool, "true or false", default=False)
    translation_key = f.get(
        "translation_key", _text, "a short name the translations of one story share, like late-parcel"
    )
    if slug and reserved(slug):
        f.fail("slug", f"'{slug}' is {reserved(slug)}, which the build makes itself", OWN_SLUG)
    if customer and not consent:
        public = {"title": title, "summary": summary, "compensation": compensation, "tags": tags, "industry": industry}
        problems.extend(consent_rule.front_matter_problems(shown, customer, public, parsed.lines, slug))
    raw, section_problems = classify(shown, parsed.body, parsed.body_line, heading_aliases(language, settings))
    problems.extend(section_problems)
    if len(problems) > before:
        return None
    problems.extend(leftovers(shown, raw, draft))
    engine, extensions = settings.markdown_engine, settings.markdown_extensions
    if engine == "python-markdown":
        problems.extend(shallow_lists(shown, parsed.body, parsed.body_line))
    rendered = markdown.render_sections([s.text for s in raw], engine, extensions)
    sections = tuple(Section(s.key, s.heading, body) for s, body in zip(raw, rendered, strict=True))
    render = functools.partial(markdown.to_html, engine=engine, extensions=extensions)
    problems.extend(nesting_problems(shown, parsed.body, parsed.body_line, raw, sections, render))
    problem_html = next(s.html for s in sections if s.key == "problem")
    if summary is None and customer and not consent:
        derived = markdown.first_sentence(markdown.to_text(problem_html))
        problems.extend(consent_rule.summary_problems(shown, customer, derived, raw))
    if any(p.is_error for p in problems[before:]):  # the example-text rule may have added a warning
        return None
    links = tuple(target for s in sections for target in local_links(s.html))
    thanks = next(s for s in raw if s.key == "thanks")
    lines = text.splitlines()
    # Each section's lines run from its heading to the line before the next one.
    spans = zip([r.line for r in raw], [r.line - 1 for r in raw[1:]] + [len(lines)], strict=True)
    problems.extend(external_embeds(shown, lines, ((*span, s.html) for span, s in zip(spans, sections, strict=True))))
    assets, refused, answered = linked_files(path, links, lines, parsed.body_line)
    problems.extend(refused)
    draft_review = Draft(
        path=shown,
        text=text,
        body=parsed.body,
        body_line=parsed.body_line,
        language=language,
        customer=customer,
        consent=consent,
        summary=summary,
        summary_line=parsed.lines.get("summary"),
        has_received=received is not None,
        has_resolved=resolved is not None,
        thanks=thanks.text,
        thanks_line=thanks.line,
        links=tuple(target for target in links if target not in answered),
    )
    problems.extend(review(draft_review))
    # Numbers are tied to their units here, once, so that every output shows them whole.
    sections = tuple(Section(s.key, s.heading, typography.tie_numbers(s.html)) for s in sections)
    return Case(
        source=shown,
        slug=slug,
        title=typography.tie_text(title),
        date=date,
        received=received,
        resolved=resolved,
        responded=responded,
        customer=customer if consent else None,
        industry=industry,
        tags=tags,
        costs=costs,
        compensation=typography.tie_text(compensation) if compensation else compensation,
        language=language,
        summary=typography.tie_text(summary or markdown.first_sentence(markdown.to_text(problem_html))),
        summary_written=summary is not None,
        draft=draft,
        body=Body(sections),
        translation_key=translation_key,
        assets=assets,
        local_links=links,
        digest=text_digest(shown, text),
    )


def _earlier(a: Moment, b: Moment) -> bool:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return instant(a) < instant(b)
    return _day(a) < _day(b)


_LOOPS = "is a symbolic link that loops"
_OUT = "copy the cases into the cases folder, or remove the link"


CASE_SUFFIXES = (".md", ".markdown")  # in any case: .MD and .Markdown too
_LOOK_ALIKES = (".txt", ".text", ".mdown", ".mkd", ".mkdn", ".mdtxt")


def case_listing(folder: Path) -> tuple[list[str], list[Problem]]:
    """Every .md or .markdown file under `folder` (names starting with '_' or '.' skipped), sorted, and a
    problem for each symbolic link that loops, each folder that cannot be read, and (warnings) each
    symbolic link that points outside `folder` (not followed) and each file that looks like a case
    but is not one by its name."""
    found: list[str] = []
    problems: list[Problem] = []
    root = os.path.realpath(folder)
    # Each folder still to look in, with the real folders on the way to it: a link back to one of
    # them would be walked forever.
    pending: list[tuple[str, tuple[str, ...]]] = [(str(folder), (root,))]
    while pending:
        here, chain = pending.pop()
        try:
            with os.scandir(here) as scan:
                entries = list(scan)
        except OSError as exc:
            problems.append(_unreadable(Path(here), exc))
            continue
        for entry in entries:
            if entry.name.startswith(("_", ".")):
                continue
            real = f"{chain[-1]}/{entry.name}"
            if entry.is_symlink():  # from the directory listing: no system call for a plain file
                try:
                    real = os.path.realpath(entry.path, strict=True)
                except OSError as exc:
                    if exc.errno == errno.ELOOP:
                        problems.append(_link_problem(entry.path, _LOOPS))
                    continue  # a link to nothing is skipped, as before
                if real != root and not real.startswith(f"{root}/"):
                    # Not followed: what is published is what the cases folder holds. A warning, as
                    # for a look-alike file: nothing from out there is read, so nothing goes wrong.
                    out = f"is a symbolic link that points outside {folder}/"
                    problems.append(_link_problem(entry.path, out, _OUT, "warning"))
                    continue
            if entry.is_dir():
                if real in chain:
                    problems.append(_link_problem(entry.path, _LOOPS))
                else:
                    pending.append((entry.path, (*chain, real)))
            elif entry.is_file():
                lower = entry.name.lower()
                if lower.endswith(CASE_SUFFIXES):
                    found.append(entry.path)
                elif _looks_like_a_case(entry.path, lower):
                    problems.append(_ignored(entry.path))
    found.sort(key=lambda name: name.split("/"))  # as Paths sort: "a/x.md" before "a-b/x.md"
    problems.sort(key=Problem.sort_key)
    return found, problems


def _looks_like_a_case(path: str, lower: str) -> bool:
    """A file that is not read as a case but was meant to be one: Notepad's `.md.txt`, or a text file
    that starts with front matter."""
    if lower.endswith(tuple(f"{suffix}.txt" for suffix in CASE_SUFFIXES)):
        return True
    if not lower.endswith(_LOOK_ALIKES):
        return False
    try:
        with open(path, "rb") as file:  # noqa: PTH123 - a DirEntry's path
            return file.read(3) == b"---"
    except OSError:
        return False


def _ignored(path: str) -> Problem:
    stem = Path(path).name.split(".")[0]
    return Problem(
        Path(path),
        None,
        "file",
        "looks like a case but is not read: only .md and .markdown files are cases",
        f"rename it to {stem}.md",
        severity="warning",
    )


def _link_problem(
    name: str, message: str, expected: str = "remove the link, or point it at a case file", severity: str = "error"
) -> Problem:
    return Problem(Path(name), None, "file", f"{message}: not read", expected, severity)


def _unreadable(path: Path, exc: OSError) -> Problem:
    why = (exc.strerror or str(exc)).lower()
    return Problem(path, None, "file", f"cannot be read: {why}", "fix it or move it away")


def case_names(folder: Path) -> list[str]:
    """case_files as strings (at 10,000 files pathlib is most of the cost of looking), and the paths
    case_listing refused or warned about, so that a listing with one never looks like one without it
    (a build from the last one's note would otherwise not show the warning)."""
    found, problems = case_listing(folder)
    return found + [str(p.path) for p in problems]


def case_files(folder: Path) -> list[Path]:
    """Every .md file under `folder`, skipping names that start with '_' or '.' (and, as case_names, refused links)."""
    return [Path(name) for name in case_names(folder)]


def _load_one(path: Path, settings: Settings) -> tuple[Case | None, tuple[Problem, ...]]:
    """load_case for a worker process: the case and its own problems."""
    problems: list[Problem] = []
    case = load_case(path, settings, problems)
    return case, tuple(problems)


def _load_all(
    names: list[str],
    settings: Settings,
    jobs: int,
    cache_file: Path | None,
    signatures: dict[str, Signature | None] | None = None,
) -> list[tuple[Case | None, tuple[Problem, ...]]]:
    """Every file's case and problems, in order: from the cache when the file is unchanged, else parsed
    (spread over `jobs` processes when there are many). `signatures` receives each file's, as read."""
    from site_builder.build.case_cache import CaseCache, Record, file_key, signature

    cache = CaseCache.open(cache_file, settings) if cache_file else None
    known: dict[int, Record] = {}
    fresh: dict[int, tuple[str | None, tuple[int, int, int] | None]] = {}  # content key and signature
    for index, name in enumerate(names):
        try:
            stat = os.stat(name)  # noqa: PTH116 - see case_files
        except OSError:
            fresh[index] = (None, None)
            continue
        sig = signature(stat)
        if signatures is not None:
            signatures[name] = sig
        record = cache.records.get(name) if cache else None
        if record and sig and record.signature == sig:
            known[index] = record  # same size, mtime and inode: not even read
            continue
        try:
            path = Path(name)
            key = file_key(path, path.read_bytes()) if stat.st_size <= MAX_BYTES else None
        except OSError:
            key = None
        if record and key and record.key == key:
            known[index] = Record(sig, key, record.entry) if sig != record.signature else record
        else:
            fresh[index] = (key, sig)
    results = {i: r.entry for i, r in known.items()}
    todo = sorted(fresh)
    workers = min(jobs or os.cpu_count() or 1, len(todo) // 50)
    if workers > 1:
        with fork_pool(workers) as pool:
            loaded = pool.map(_load_one, [Path(names[i]) for i in todo], [settings] * len(todo), chunksize=32)
            results.update(zip(todo, loaded, strict=True))
    else:
        results.update((i, _load_one(Path(names[i]), settings)) for i in todo)
    if cache:
        kept = {names[i]: record for i, record in known.items()}
        for i in todo:
            key, sig = fresh[i]
            # Cases that link to local files are parsed every time: those files may come and go.
            if key and not _has_local_links(results[i]):
                kept[names[i]] = Record(sig, key, results[i])
        cache.save(kept)
    return [results[i] for i in range(len(names))]


def _has_local_links(entry: tuple[Case | None, tuple[Problem, ...]]) -> bool:
    case, problems = entry
    if any("does not exist" in p.message for p in problems):
        return True
    return case is not None and bool(case.local_links)


def check_cases(
    folder: Path,
    settings: Settings,
    progress: Callable[[list[str]], Iterable[str]] = iter,
    jobs: int = 0,
    cache_file: Path | None = None,
    signatures: dict[str, Signature | None] | None = None,
) -> tuple[tuple[Case, ...], tuple[Problem, ...]]:
    """Load every case under `folder`; return the good ones and every problem found. `signatures`,
    when given, receives each file's size, mtime and inode as read (None: too fresh to tell)."""
    problems: list[Problem] = []
    if not folder.is_dir():
        problems.append(
            Problem(
                folder.absolute(),
                None,
                "",
                "no such folder",
                "run site-builder in your project's folder, the one that holds cases/, "
                "or name the folder of case files with --cases PATH",
            )
        )
        return (), tuple(problems)
    cases: list[Case] = []
    owners: dict[str, Case] = {}
    listed, refused = case_listing(folder)
    problems.extend(refused)
    names = list(progress(listed))
    for case, own in _load_all(names, settings, jobs, cache_file, signatures):
        problems.extend(own)
        if case is None:
            continue
        if case.slug in owners:
            first = owners[case.slug].source
            problems.append(
                Problem(
                    case.source,
                    None,
                    "slug",
                    f"'{case.slug}' is already used by {first}",
                    f"a slug of its own: set 'slug:' in {case.source} or {first}",
                )
            )
            continue
        owners[case.slug] = case
        cases.append(case)
    problems.extend(collisions(cases))
    problems.extend(twins(cases))
    cases.sort(key=lambda c: (c.date, c.title, c.slug), reverse=True)
    return tuple(cases), tuple(problems)


def load_cases(folder: Path, settings: Settings) -> tuple[Case, ...]:
    """Every case under `folder`, newest first; raises InputError listing all problems (warnings too, if any error)."""
    cases, problems = check_cases(folder, settings)
    if any(p.is_error for p in problems):
        raise InputError(problems)
    return cases


def published(cases: Iterable[Case], drafts: bool = False, today: dt.date | None = None) -> tuple[Case, ...]:
    """The cases to publish: drafts only when asked for, and none dated after `today` (scheduled)."""
    return tuple(c for c in cases if (drafts or not c.draft) and (today is None or c.date <= today))
