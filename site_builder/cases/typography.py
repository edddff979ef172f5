"""No-break spaces that keep a number with its thousands, its unit and its currency sign.

Applied once, to a case's rendered text as it is loaded, so every output (case pages, cards, the
feed, the digest, the leaflets) shows "1 000 ₽" and "2 500 kr." whole at the end of a line."""

from __future__ import annotations

import re
from collections.abc import Callable

NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space: what a typesetter puts between the groups of a number
# A space a writer may have typed between the parts of a number or a price.
_SPACE = f"[ \t{NBSP}{NNBSP}]"
# Markup is kept whole (tags, with quoted attribute values that may hold '>'; comments), and so are
# the contents of elements whose text must stay exactly as written: code, and scripts or styles.
_KEEP = re.compile(
    r"<(pre|code|kbd|samp|script|style|title)\b.*?</\1\s*>|<!--.*?-->|<(?:\"[^\"]*\"|'[^']*'|[^'\">])*>",
    re.DOTALL | re.IGNORECASE,
)
# An address written out in the text (its link is a tag, left alone above): not a number to tie.
_ADDRESS = re.compile(r"(?:https?://|www\.|mailto:)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# Thousands written with spaces: "1 000", "12 500 000" (not a year followed by a count: "2024 100").
_GROUPS = re.compile(rf"(?<![\d.,])(\d{{1,3}})((?:{_SPACE}\d{{3}})+)(?![\d])")
_CURRENCY = "₽$€£¥₴₸"
# Units and currencies written after a number, in en, ru and da; each must end the word.
_UNIT_WORDS = (
    # currencies and amounts
    "kr. kr DKK EUR USD GBP RUB руб. руб р. коп. тыс. млн млрд ₽ € $ £ ¥ kroner рублей рубля рубль "
    # measures, with the few written out that a case tells a distance or a time in
    "% ‰ °C ° km kg mm cm m g t l h min mi ft km/h kWh kW MB GB TB pcs stk. шт. шт чел. человек "
    "км кг мм см м г т л ч мин сек дн. мес. miles kilometres kilometers minutes hours "
    "километров километра километр метров минут минуты часов часа kilometer minutter timer"
)
_UNITS = _UNIT_WORDS.split()
_UNIT = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_NUMBER_UNIT = re.compile(rf"(\d){_SPACE}+(?=(?:{_UNIT})(?![\w]))")
# A sign written before its number: "$ 1,000", "€ 20", "№ 5", "§ 3".
_SIGN_NUMBER = re.compile(rf"([{_CURRENCY}№§]){_SPACE}+(?=\d)")


def _tie_groups(match: re.Match[str]) -> str:
    groups = re.sub(_SPACE, NNBSP, match.group(2))
    return match.group(1) + groups


def outside(pattern: re.Pattern[str], text: str, change: Callable[[str], str]) -> str:
    """`text` with `change` applied to each stretch between the matches of `pattern`; the matches
    (markup, addresses, code) are kept exactly as they are."""
    out: list[str] = []
    at = 0
    for match in pattern.finditer(text):
        out.append(change(text[at : match.start()]))
        out.append(match.group())
        at = match.end()
    out.append(change(text[at:]))
    return "".join(out)


def tie_text(text: str) -> str:
    """`text` (no markup) with its numbers tied to their groups, units and currency signs."""
    if not any(c.isdigit() for c in text):
        return text
    return outside(_ADDRESS, text, _tie)


def _tie(text: str) -> str:
    text = _GROUPS.sub(_tie_groups, text)
    text = _NUMBER_UNIT.sub(lambda m: m.group(1) + NBSP, text)
    return _SIGN_NUMBER.sub(lambda m: m.group(1) + NBSP, text)


def tie_numbers(html: str) -> str:
    """Safe HTML with no-break spaces in its text's numbers; tags, attribute values, code and
    addresses are left exactly as they were."""
    if not any(c.isdigit() for c in html):
        return html
    return outside(_KEEP, html, tie_text)
