"""The trust figures outside their page: stats.json for machines and an SVG badge to embed (pure)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from site_builder.settings.i18n import Translator
from site_builder.website.stats import Stats

SCHEMA = 1  # stats.json's "version": raised only when a key is renamed or removed

# The response-time buckets by stable names (the page's labels are translated and may be edited).
_BUCKETS = {
    "bucket_day": "under_1_day",
    "bucket_3days": "1_to_3_days",
    "bucket_week": "3_to_7_days",
    "bucket_2weeks": "7_to_14_days",
    "bucket_longer": "14_days_or_more",
}


def _seconds(delta: dt.timedelta | None) -> int | None:
    return None if delta is None else round(delta.total_seconds())


def stats_json(stats: Stats, language: str, page_url: str) -> bytes:
    """The trust page's figures as JSON: stable key names, times in whole seconds (null when no case
    has both moments), no clock, so the same cases give the same bytes."""
    data: dict[str, Any] = {
        "version": SCHEMA,
        "language": language,
        "page": page_url,
        "cases": stats.cases,
        "time_to_fix": {
            "cases": stats.timed,
            "median_seconds": _seconds(stats.median),
            "p90_seconds": _seconds(stats.p90),
        },
        "time_to_first_reply": {
            "cases": stats.replied,
            "median_seconds": _seconds(stats.reply_median),
            "p90_seconds": _seconds(stats.reply_p90),
        },
        "per_month": [{"month": month.strftime("%Y-%m"), "cases": count} for month, count in stats.per_month],
        "time_to_fix_buckets": {_BUCKETS[name]: count for name, count in stats.buckets},
        "costs": dict(stats.costs),
        "industries": [
            {"name": row.name, "cases": row.cases, "median_seconds": _seconds(row.median)} for row in stats.industries
        ],
    }
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def badge_text(stats: Stats, t: Translator) -> str:
    """The badge's words: '94 complaints fixed · median 2 days', in the plural form the number takes."""
    fixed = t.count("badge_fixed", stats.cases)
    return fixed if stats.median is None else t("badge", fixed=fixed, median=t.span(stats.median))


# Without a font to measure with, a character is taken as this wide at the badge's 11 px (Verdana's
# average, as shields.io badges are drawn); `textLength` then fits the text to it exactly.
_CHAR = 6.6
_PAD = 10


def badge_svg(stats: Stats, t: Translator) -> bytes:
    """An SVG badge of the trust figures in `t`'s language: self-contained (no font, script or remote
    resource), named by its <title> and aria-label for screen readers, every text escaped."""
    text = badge_text(stats, t)
    inner = round(len(text) * _CHAR)
    width = inner + 2 * _PAD
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" viewBox="0 0 {width} 20"'
        f' role="img" aria-label={quoteattr(text)} xml:lang={quoteattr(t.language)}>\n'
        f"<title>{escape(text)}</title>\n"
        f'<rect width="{width}" height="20" rx="3" fill="#0b5f4a"/>\n'
        f'<text x="{width / 2:g}" y="14" fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"'
        f' text-anchor="middle" textLength="{inner}" lengthAdjust="spacingAndGlyphs">{escape(text)}</text>\n'
        "</svg>\n"
    )
    return svg.encode("utf-8")
