"""What a build publishes compared with the last build of the same output folder, in Markdown: the
job summary of a pull request (`build --summary FILE`), whose cache is the one main's last publish
left, so that a reviewer sees what merging it would publish.

Pages are compared by their keys (what each was made from, as the writer's manifest records them),
so the comparison needs only the build cache, not main's output folder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from site_builder.build.manifest import manifest_path
from site_builder.build.writer import recorded
from site_builder.problems import Problem, summary

LISTED = 50  # pages listed per kind of change; a summary is read, not searched (GitHub keeps 1 MiB)
PROBLEMS = 20  # problems quoted


@dataclass(frozen=True, slots=True)
class Changes:
    """The site's files now against the last build's: paths added, changed and removed, and how many stayed."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    same: int


def site_keys(out: Path, state: Path) -> dict[str, str] | None:
    """Each file of OUT/site with its key as the last build recorded it; None when no build is known."""
    path = manifest_path(state, out.resolve() / "site", "")
    if path is None or not path.exists():
        return None
    return recorded(out, "site", state)


def compare(before: Mapping[str, str], after: Mapping[str, str]) -> Changes:
    """The files of `after` against those of `before`, both mapping a path to its key."""
    return Changes(
        added=tuple(sorted(after.keys() - before.keys())),
        changed=tuple(sorted(name for name in after.keys() & before.keys() if after[name] != before[name])),
        removed=tuple(sorted(before.keys() - after.keys())),
        same=sum(1 for name, made in after.items() if before.get(name) == made),
    )


def _page(name: str) -> bool:
    return name.endswith(".html")


def url(name: str) -> str:
    """A site file's address below the site's root, as a reader types it: `cases/x/` for cases/x/index.html."""
    return "/" + (name.removesuffix("index.html") if name == "index.html" or name.endswith("/index.html") else name)


def _code(text: str) -> str:
    """`text` as inline code: a fence longer than any run of backticks in it, so nothing in it is Markdown."""
    fence = "`" * (_longest_backticks(text) + 1)
    return f"{fence} {text} {fence}" if text.startswith("`") or text.endswith("`") else f"{fence}{text}{fence}"


def _count(number: int, what: str) -> str:
    return f"{number:,} {what}" if number == 1 else f"{number:,} {what}s"


def _listing(title: str, names: Sequence[str]) -> list[str]:
    if not names:
        return []
    lines = ["", f"**{title}** ({len(names):,})", ""]
    lines += [f"- {_code(address)}" for address in sorted(url(name) for name in names)[:LISTED]]
    if len(names) > LISTED:
        lines.append(f"- and {len(names) - LISTED:,} more")
    return lines


def _check(problems: Sequence[Problem], built: bool) -> str:
    if not problems:
        return "passed, no problems"
    if not built:  # errors, or warnings under --strict
        return f"**failed**: {summary(problems)}; nothing was built"
    return f"passed with {summary(problems)}"


def _block(lines: Sequence[str]) -> list[str]:
    """Lines quoted as they are (file names and messages hold the cases' own text)."""
    fence = "`" * max(3, *(_longest_backticks(line) + 1 for line in lines))
    return ["", fence + "text", *lines, fence]


def _problems(problems: Sequence[Problem]) -> list[str]:
    if not problems:
        return []
    shown = [str(problem) for problem in sorted(problems, key=Problem.sort_key)[:PROBLEMS]]
    if len(problems) > PROBLEMS:
        shown.append(f"... and {len(problems) - PROBLEMS} more: site-builder check lists them all")
    return _block(shown)


def _longest_backticks(text: str) -> int:
    run, longest = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return longest


def markdown(
    *,
    problems: Sequence[Problem],
    cases: int | None,
    held_back: int = 0,
    before: Mapping[str, str] | None = None,
    after: Mapping[str, str] | None = None,
    failure: str = "",
) -> str:
    """The job summary: the check's result, the cases, and the site's pages against the last build
    (`cases`, `after`: None when nothing was built; `before`: None when no build is known)."""
    check = _check(problems, built=cases is not None)
    lines = ["### What this build publishes", "", "| | |", "|---|---|", f"| Check of the cases | {check} |"]
    held = f" ({_count(held_back, 'draft or future-dated case')} not published)" if held_back else ""
    lines.append(f"| Cases | {cases:,} published{held} |" if cases is not None else "| Cases | none built |")
    if failure:
        lines.append("| Build | **failed**, nothing was built (below) |")
    changes = compare(before, after) if before is not None and after is not None else None
    if after is not None:
        pages = sum(1 for name in after if _page(name))
        if changes is None:
            lines.append(f"| Pages | {pages:,}; no earlier build in the cache to compare with |")
        else:
            kinds = (("added", changes.added), ("changed", changes.changed), ("removed", changes.removed))
            counted = ", ".join(f"{sum(1 for n in names if _page(n)):,} {kind}" for kind, names in kinds)
            others = sum(1 for _, names in kinds for n in names if not _page(n))
            lines.append(f"| Pages | {pages:,}: {counted} since the last build in the cache |")
            lines.append(f"| Other files (feeds, leaflets, styles) | {others:,} added, changed or removed |")
    lines += _problems(problems)
    if failure:
        lines += _block(failure.splitlines())
    if changes is not None:
        lines += _listing("Pages added", [n for n in changes.added if _page(n)])
        lines += _listing("Pages changed", [n for n in changes.changed if _page(n)])
        lines += _listing("Pages removed", [n for n in changes.removed if _page(n)])
    return "\n".join(lines) + "\n"
