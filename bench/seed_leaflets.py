"""Fill the leaflet cache for a corpus as if every leaflet outside the booklets had been laid out.

    python bench/seed_leaflets.py PROJECT SAMPLE.pdf

A cold layout of 10,000 leaflets takes an hour on two cores; the warm paths the benchmark times
(no change, the newest case edited) never read a leaflet outside the booklets, so those are stored
as a copy of one real leaflet under their real keys. The booklets' cases are left out: the first
`leaflets` run lays them out for real."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

from site_builder.build.cache import Cache
from site_builder.cases.load import load_cases, published
from site_builder.leaflets.compose import booklet_cases, render_leaflets
from site_builder.leaflets.options import LeafletOptions
from site_builder.settings.config import load_settings


def main() -> None:
    """Store the sample PDF under the key of every leaflet the booklets do not hold."""
    sample = Path(sys.argv[2]).read_bytes()
    os.chdir(sys.argv[1])
    # Paths exactly as `leaflets` gives them (a case's key holds its path): run in the project.
    settings = load_settings(Path("site.toml"))
    cases = published(load_cases(Path("cases"), settings), False, dt.date.today())
    options = LeafletOptions(settings.leaflet.size, settings.leaflet.print_marks, 1, settings.cache_dir)
    held = {c.slug for c in booklet_cases(cases, settings, None)}
    cache = Cache(settings.cache_dir / "leaflets")
    seeded = 0
    for artifact in render_leaflets(cases, settings, options, with_booklet=False):
        if artifact.path.removesuffix(".pdf") not in held and artifact.key:
            cache.put(artifact.key, sample)
            seeded += 1
    print(f"seeded {seeded} leaflets; {len(held)} left to lay out")


if __name__ == "__main__":
    main()
