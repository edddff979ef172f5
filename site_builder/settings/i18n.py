"""UI strings, heading aliases and localized dates for every language a case can be in."""

from __future__ import annotations

import datetime as dt
import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from babel.units import format_unit

from site_builder.settings.config import OPTIONAL_SECTION_KEYS, SECTION_KEYS, Settings
from site_builder.words import plural_category

# English is complete; other languages fall back to it key by key.
STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "a_customer": "a customer",
        "problem": "Problem",
        "cause": "Cause",
        "fix": "Fix",
        "thanks": "Thanks",
        "resolved_in": "Resolved in {duration}",
        "resolved_same_day": "Resolved the same day",
        "received": "Complaint received",
        "resolved": "Resolved",
        "published": "Published",
        "raised_by": "Raised by",
        "costs": "What it cost the customer",
        "cost_economic": "Money",
        "cost_time": "Time",
        "cost_social": "Reputation",
        "cost_emotional": "Stress and frustration",
        "compensation": "What we offered",
        "tags": "Tags",
        "industry": "Industry",
        "industries": "Industries",
        "previous": "Previous case",
        "next": "Next case",
        "all_cases": "All cases",
        "read_case": "Read the case",
        "page_of": "Page {page} of {pages}",
        "newer": "Newer cases",
        "older": "Older cases",
        "not_found": "Page not found",
        "not_found_text": "There is no page at this address. It may have moved.",
        "tagged": "Cases tagged “{name}”",
        "in_industry": "Cases in {name}",
        "skip": "Skip to content",
        "feed": "Atom feed",
        "published_by": "Published by {company}",
        "case_facts": "Case facts",
        "pagination": "Pages",
        "breadcrumb": "You are here",
        "digest_subject": "What we fixed: digest of {date}",
        "digest_heading": "Complaints we fixed",
        "digest_period": "{since} – {until}",
        "dear": "Dear {name},",
        "hello": "Hello,",
        "digest_intro": "Here is what went wrong for some of our customers lately, and what we did about it. "
        "Every fix started with someone telling us.",
        "read_full_case": "Read the full case",
        "booklet_notes": "Notes",
        "booklet_closing": "All our cases, and how to reach us",
        "booklet_page": "Page",
        "qr_code": "QR code",
        "more_cases": "More cases on our website",
        "visit_site": "All cases on our website",
        "why_receiving": "You get this email because you are a client of {company}.",
        "unsubscribe": "Unsubscribe",
        "unsubscribe_by_email": "Unsubscribe by email",
        "view_in_browser": "View this email in your browser",
        "stats": "Stats",
        "stats_title": "How fast we fix complaints",
        "stats_intro": "Every number on this page is counted from the published cases.",
        "stats_cases": "cases published",
        "stats_median": "median time to fix",
        "stats_p90": "9 in 10 fixed within",
        "stats_per_month": "Cases per month",
        "stats_response": "How long a fix took",
        "stats_costs": "What the failures cost our customers",
        "stats_industries": "By industry",
        "stats_month": "Month",
        "stats_count": "Cases",
        "stats_time": "Time to fix",
        "stats_median_short": "Median time to fix",
        "stats_cost": "Cost",
        "stats_chart_data": "The numbers behind the chart",
        "bucket_day": "Within a day",
        "bucket_3days": "1–3 days",
        "bucket_week": "3–7 days",
        "bucket_2weeks": "1–2 weeks",
        "bucket_longer": "Longer",
        "search": "Search the cases",
        "languages": "Languages",
        "print_case": "Print this case (PDF)",
        "booklet": "All cases as a printable booklet (PDF)",
        "digests": "Past digests",
        "digests_intro": "Every digest we have emailed to our clients, newest first, with the cases of its period.",
        "digests_period": "Period",
        "digests_cases": "Cases",
        "digests_none": "No digest has been sent in this language yet.",
        "intro": "Every case here began with a customer telling us something went wrong. "
        "Here is what happened, why, what we did about it, and whom we thank for it.",
        "tagged_description": "Complaints tagged “{name}”: "
        "what went wrong for our customers, why, and how we fixed it.",
        "in_industry_description": "Complaints in {name}: what went wrong for our customers, why, and how we fixed it.",
        "tags_description": "Every topic of the complaints we have fixed, with the number of cases of each.",
        "industries_description": "Every industry of the complaints we have fixed, with the number of cases of each.",
        "list_feed": "Follow these cases (Atom feed)",
        # The invitation to complain (theme/*/_invite.*): the next complaint is the next fix.
        "invite_title": "Something went wrong? Tell us.",
        "invite_text": "We answer every complaint, put things right, and change what caused it.",
        "invite_form": "Tell us what happened",
        "invite_reply": "Reply to this email, or:",
        "changed": "What we changed",
        "changes": "What we changed",
        "changes_title": "What changed because you told us",
        "changes_intro": "Every change below began with a customer's complaint. "
        "Newest first, each with the case it came from.",
        "changes_none": "No case says yet what we changed.",
        "responded": "First reply",
        "stats_first_reply": "median time to first reply",
        "stats_first_reply_p90": "9 in 10 got a first reply within",
        "badge": "{fixed} · median {median}",
        "card_alt": "Card reading “{title}”, from {company}",
    },
    "ru": {
        "a_customer": "клиент",
        "problem": "Проблема",
        "cause": "Причина",
        "fix": "Решение",
        "thanks": "Спасибо",
        "resolved_in": "Решено за {duration}",
        "resolved_same_day": "Решено в тот же день",
        "received": "Жалоба получена",
        "resolved": "Решено",
        "published": "Опубликовано",
        "raised_by": "Обратился",
        "costs": "Чего это стоило клиенту",
        "cost_economic": "Деньги",
        "cost_time": "Время",
        "cost_social": "Репутация",
        "cost_emotional": "Нервы и разочарование",
        "compensation": "Что мы предложили",
        "tags": "Метки",
        "industry": "Отрасль",
        "industries": "Отрасли",
        "previous": "Предыдущий случай",
        "next": "Следующий случай",
        "all_cases": "Все случаи",
        "read_case": "Читать случай",
        "page_of": "Страница {page} из {pages}",
        "newer": "Более новые",
        "older": "Более ранние",
        "not_found": "Страница не найдена",
        "not_found_text": "По этому адресу ничего нет. Возможно, страница переехала.",
        "tagged": "Случаи с меткой «{name}»",
        "in_industry": "Случаи в отрасли «{name}»",
        "skip": "Перейти к содержанию",
        "feed": "Лента Atom",
        "published_by": "Публикует {company}",
        "case_facts": "Факты",
        "pagination": "Страницы",
        "breadcrumb": "Вы здесь",
        "digest_subject": "Что мы исправили: дайджест от {date}",
        "digest_heading": "Жалобы, которые мы решили",
        "digest_period": "{since} – {until}",
        "dear": "Здравствуйте, {name}!",
        "hello": "Здравствуйте!",
        "digest_intro": "Вот что недавно пошло не так у наших клиентов и что мы с этим сделали. "
        "Каждое исправление началось с того, что кто-то нам об этом сказал.",
        "read_full_case": "Читать полностью",
        "booklet_notes": "Заметки",
        "booklet_closing": "Все наши случаи и как с нами связаться",
        "booklet_page": "Стр.",
        "qr_code": "QR-код",
        "more_cases": "Другие случаи на нашем сайте",
        "visit_site": "Все случаи на нашем сайте",
        "why_receiving": "Вы получили это письмо, потому что вы клиент компании {company}.",
        "unsubscribe": "Отписаться",
        "unsubscribe_by_email": "Отписаться письмом",
        "view_in_browser": "Открыть письмо в браузере",
        "stats": "Статистика",
        "stats_title": "Как быстро мы решаем жалобы",
        "stats_intro": "Все цифры на этой странице посчитаны по опубликованным случаям.",
        "stats_cases": "опубликовано случаев",
        "stats_median": "медианное время решения",
        "stats_p90": "9 из 10 решены за",
        "stats_per_month": "Случаи по месяцам",
        "stats_response": "Сколько времени заняло решение",
        "stats_costs": "Чего стоили сбои нашим клиентам",
        "stats_industries": "По отраслям",
        "stats_month": "Месяц",
        "stats_count": "Случаи",
        "stats_time": "Время решения",
        "stats_median_short": "Медианное время решения",
        "stats_cost": "Потери",
        "stats_chart_data": "Данные диаграммы",
        "bucket_day": "В течение дня",
        "bucket_3days": "1–3 дня",
        "bucket_week": "3–7 дней",
        "bucket_2weeks": "1–2 недели",
        "bucket_longer": "Дольше",
        "search": "Поиск по случаям",
        "languages": "Языки",
        "print_case": "Распечатать (PDF)",
        "booklet": "Все случаи одной брошюрой (PDF)",
        "digests": "Архив дайджестов",
        "digests_intro": "Все дайджесты, которые мы разослали клиентам, от новых к старым, со случаями их периода.",
        "digests_period": "Период",
        "digests_cases": "Случаи",
        "digests_none": "На этом языке дайджестов ещё не было.",
        "intro": "Каждый случай здесь начался с того, что клиент сказал нам: что-то пошло не так. "
        "Что случилось, почему, что мы сделали и кого благодарим.",
        "tagged_description": "Жалобы с меткой «{name}»: "
        "что пошло не так у наших клиентов, почему и как мы это исправили.",
        "in_industry_description": "Жалобы в отрасли «{name}»: "
        "что пошло не так у наших клиентов, почему и как мы это исправили.",
        "tags_description": "Все темы жалоб, которые мы исправили, и число случаев в каждой.",
        "industries_description": "Все отрасли жалоб, которые мы исправили, и число случаев в каждой.",
        "list_feed": "Следить за этими случаями (лента Atom)",
        "invite_title": "Что-то пошло не так? Расскажите нам.",
        "invite_text": "Мы отвечаем на каждую жалобу, исправляем ошибку и меняем то, что к ней привело.",
        "invite_form": "Рассказать, что случилось",
        "invite_reply": "Ответьте на это письмо или:",
        "changed": "Что мы изменили",
        "changes": "Что мы изменили",
        "changes_title": "Что изменилось благодаря вам",
        "changes_intro": "Каждое изменение ниже началось с жалобы клиента. "
        "Сначала новые, у каждого — случай, из которого оно выросло.",
        "changes_none": "Пока ни в одном случае не написано, что мы изменили.",
        "responded": "Первый ответ",
        "stats_first_reply": "медианное время до первого ответа",
        "stats_first_reply_p90": "9 из 10 получили первый ответ за",
        "badge": "{fixed} · медиана {median}",
        "card_alt": "Карточка с надписью «{title}» от компании {company}",
    },
    "da": {
        "a_customer": "en kunde",
        "problem": "Problem",
        "cause": "Årsag",
        "fix": "Løsning",
        "thanks": "Tak",
        "resolved_in": "Løst på {duration}",
        "resolved_same_day": "Løst samme dag",
        "received": "Klage modtaget",
        "resolved": "Løst",
        "published": "Offentliggjort",
        "raised_by": "Rejst af",
        "costs": "Hvad det kostede kunden",
        "cost_economic": "Penge",
        "cost_time": "Tid",
        "cost_social": "Omdømme",
        "cost_emotional": "Stress og frustration",
        "compensation": "Hvad vi tilbød",
        "tags": "Emner",
        "industry": "Branche",
        "industries": "Brancher",
        "previous": "Forrige sag",
        "next": "Næste sag",
        "all_cases": "Alle sager",
        "read_case": "Læs sagen",
        "page_of": "Side {page} af {pages}",
        "newer": "Nyere sager",
        "older": "Ældre sager",
        "not_found": "Siden findes ikke",
        "not_found_text": "Der er ingen side på denne adresse. Den kan være flyttet.",
        "tagged": "Sager med emnet “{name}”",
        "in_industry": "Sager i branchen “{name}”",
        "skip": "Gå til indhold",
        "feed": "Atom-feed",
        "published_by": "Udgivet af {company}",
        "case_facts": "Fakta",
        "pagination": "Sider",
        "breadcrumb": "Du er her",
        "digest_subject": "Det har vi rettet: nyhedsbrev {date}",
        "digest_heading": "Klager vi har løst",
        "digest_period": "{since} – {until}",
        "dear": "Kære {name}",
        "hello": "Hej",
        "digest_intro": "Her er, hvad der for nylig gik galt for nogle af vores kunder, og hvad vi gjorde ved det. "
        "Hver løsning begyndte med, at nogen sagde det til os.",
        "read_full_case": "Læs hele sagen",
        "booklet_notes": "Noter",
        "booklet_closing": "Alle vores sager, og hvordan du når os",
        "booklet_page": "Side",
        "qr_code": "QR-kode",
        "more_cases": "Flere sager på vores website",
        "visit_site": "Alle sager på vores website",
        "why_receiving": "Du får denne e-mail, fordi du er kunde hos {company}.",
        "unsubscribe": "Afmeld",
        "unsubscribe_by_email": "Afmeld via e-mail",
        "view_in_browser": "Se e-mailen i din browser",
        "stats": "Statistik",
        "stats_title": "Hvor hurtigt vi løser klager",
        "stats_intro": "Alle tal på denne side er talt op fra de offentliggjorte sager.",
        "stats_cases": "sager offentliggjort",
        "stats_median": "mediantid til løsning",
        "stats_p90": "9 ud af 10 løst inden for",
        "stats_per_month": "Sager pr. måned",
        "stats_response": "Hvor lang tid en løsning tog",
        "stats_costs": "Hvad fejlene kostede vores kunder",
        "stats_industries": "Efter branche",
        "stats_month": "Måned",
        "stats_count": "Sager",
        "stats_time": "Tid til løsning",
        "stats_median_short": "Mediantid til løsning",
        "stats_cost": "Omkostning",
        "stats_chart_data": "Tallene bag diagrammet",
        "bucket_day": "Inden for en dag",
        "bucket_3days": "1–3 dage",
        "bucket_week": "3–7 dage",
        "bucket_2weeks": "1–2 uger",
        "bucket_longer": "Længere",
        "search": "Søg i sagerne",
        "languages": "Sprog",
        "print_case": "Udskriv sagen (PDF)",
        "booklet": "Alle sager som hæfte til udskrift (PDF)",
        "digests": "Tidligere nyhedsbreve",
        "digests_intro": "Alle nyhedsbreve, vi har sendt til vores kunder, nyeste først, "
        "med sagerne fra deres periode.",
        "digests_period": "Periode",
        "digests_cases": "Sager",
        "digests_none": "Der er endnu ikke sendt nyhedsbreve på dette sprog.",
        "intro": "Hver sag her begyndte med en kunde, der fortalte os, at noget gik galt. "
        "Her er, hvad der skete, hvorfor, hvad vi gjorde, og hvem vi takker.",
        "tagged_description": "Klager med emnet “{name}”: "
        "hvad gik galt for vores kunder, hvorfor, og hvordan vi løste det.",
        "in_industry_description": "Klager i branchen “{name}”: "
        "hvad gik galt for vores kunder, hvorfor, og hvordan vi løste det.",
        "tags_description": "Alle emner i de klager, vi har løst, med antallet af sager i hvert.",
        "industries_description": "Alle brancher i de klager, vi har løst, med antallet af sager i hver.",
        "list_feed": "Følg disse sager (Atom-feed)",
        "invite_title": "Er noget gået galt? Fortæl os det.",
        "invite_text": "Vi svarer på hver klage, retter fejlen og ændrer det, der forårsagede den.",
        "invite_form": "Fortæl, hvad der skete",
        "invite_reply": "Svar på denne e-mail, eller:",
        "changed": "Hvad vi ændrede",
        "changes": "Hvad vi ændrede",
        "changes_title": "Hvad der ændrede sig, fordi du sagde det",
        "changes_intro": "Hver ændring herunder begyndte med en kundes klage. "
        "Nyeste først, hver med den sag, den kom fra.",
        "changes_none": "Ingen sag fortæller endnu, hvad vi ændrede.",
        "responded": "Første svar",
        "stats_first_reply": "mediantid til første svar",
        "stats_first_reply_p90": "9 ud af 10 fik første svar inden for",
        "badge": "{fixed} · median {median}",
        "card_alt": "Kort med teksten »{title}« fra {company}",
    },
}

# Counted words, one text per CLDR plural category a language has (`key_one`, `key_few`,
# `key_many`, `key_other`); `Translator.count` picks by Babel's rules, `_other` when one is missing.
COUNTS: dict[str, dict[str, str]] = {
    "en": {
        "cases_one": "{count} case",
        "cases_other": "{count} cases",
        "badge_fixed_one": "{count} complaint fixed",
        "badge_fixed_other": "{count} complaints fixed",
    },
    "ru": {
        "cases_one": "{count} случай",
        "cases_few": "{count} случая",
        "cases_many": "{count} случаев",
        "cases_other": "{count} случая",
        "badge_fixed_one": "{count} жалоба решена",
        "badge_fixed_few": "{count} жалобы решены",
        "badge_fixed_many": "{count} жалоб решено",
        "badge_fixed_other": "{count} жалобы решено",
    },
    "da": {
        "cases_one": "{count} sag",
        "cases_other": "{count} sager",
        "badge_fixed_one": "{count} klage løst",
        "badge_fixed_other": "{count} klager løst",
    },
}

HEADINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "problem": ("Problem",),
        "cause": ("Cause",),
        "fix": ("Fix",),
        "thanks": ("Thanks",),
        "changed": ("What we changed",),
    },
    "ru": {
        "problem": ("Проблема",),
        "cause": ("Причина",),
        "fix": ("Решение",),
        "thanks": ("Спасибо", "Благодарность"),
        "changed": ("Что мы изменили",),
    },
    "da": {
        "problem": ("Problem",),
        "cause": ("Årsag",),
        "fix": ("Løsning",),
        "thanks": ("Tak",),
        "changed": ("Hvad vi ændrede", "Hvad vi har ændret"),
    },
}


@dataclass(frozen=True, slots=True)
class Translator:
    """UI text and date formatting for one language."""

    language: str
    table: Mapping[str, str]

    def __call__(self, key: str, **values: object) -> str:
        """The text for `key` in this language, with `{name}` placeholders filled in."""
        return self.table[key].format(**values) if values else self.table[key]

    def count(self, key: str, count: int) -> str:
        """A number with its noun in the right plural form: '1 case', '22 случая', '25 случаев'."""
        text = self.table.get(f"{key}_{plural_category(count, self.language)}") or self.table[f"{key}_other"]
        return text.format(count=format_decimal(count, locale=self.language))

    def date(self, value: dt.date) -> str:
        """A date as people write it in this language (14 October 2026, 14 октября 2026 г.)."""
        return _long_date(value, self.language)

    def duration(self, delta: dt.timedelta) -> str:
        """A response time in plain words: 'Resolved in 2 days'."""
        if delta <= dt.timedelta(0):
            return self("resolved_same_day")
        span = self.span(delta)
        for nominative, accusative in _ACCUSATIVE.get(self.language, {}).items():
            span = span.removesuffix(nominative) + accusative if span.endswith(nominative) else span
        return self("resolved_in", duration=span)

    def span(self, delta: dt.timedelta) -> str:
        """A length of time in words, in the unit people would use: '9 days', '5 часов'."""
        return _unit(*_span(delta), self.language)

    def month(self, day: dt.date) -> str:
        """A month and year, short: 'Oct 2026', 'окт. 2026'."""
        return _month(day.year, day.month, self.language)


# Babel takes ~50 µs a call and a site shows the same few hundred dates and spans thousands of times.
@functools.lru_cache(maxsize=4096)
def _long_date(value: dt.date, language: str) -> str:
    if isinstance(value, dt.datetime):
        local = value.replace(
            tzinfo=None
        )  # the time as written, in its own zone (the markup's datetime has the offset)
        day = format_date(local, format="long", locale=language)
        return f"{day}, {format_time(local, format='short', locale=language)}"
    return str(format_date(value, format="long", locale=language))


@functools.lru_cache(maxsize=1024)
def _unit(value: int, unit: str, language: str) -> str:
    return str(format_unit(value, unit, length="long", locale=language))


@functools.lru_cache(maxsize=1024)
def _month(year: int, month: int, language: str) -> str:
    return str(format_date(dt.date(year, month, 1), "LLL yyyy", locale=language))


def _span(delta: dt.timedelta) -> tuple[int, str]:
    """The unit people would use: 9 days stays '9 days', not babel's rounded '1 week'."""
    hours = delta.total_seconds() / 3600
    if hours <= 0:
        return 0, "duration-day"
    if hours < 1:
        return max(1, round(hours * 60)), "duration-minute"
    if hours < 24:
        return round(hours), "duration-hour"
    days = hours / 24
    if days < 14:
        return round(days), "duration-day"
    if days < 63:
        return round(days / 7), "duration-week"
    return round(days / 30.44), "duration-month"


# "Решено за 1 неделю": after "за" Russian feminine units take the accusative.
_ACCUSATIVE = {"ru": {"неделя": "неделю", "минута": "минуту", "секунда": "секунду"}}


def placeholders(text: str) -> list[str]:
    """The `{name}` placeholders of a text, in order; raises ValueError for a stray brace."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def _placeholder_problem(key: str, text: str) -> str | None:
    """What is wrong with the placeholders of an override of `key`, or None."""
    allowed = placeholders({**STRINGS["en"], **COUNTS["en"]}[key])
    named = ", ".join(f"{{{name}}}" for name in allowed) or "none"
    if not allowed:
        # Shown as it is written, braces and all: only a word in braces looks like a mistake.
        try:
            wrong = [name for name in placeholders(text) if name.isidentifier()]
        except ValueError:
            return None
        return f"{{{wrong[0]}}} is not a placeholder of this text (it has none)" if wrong else None
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return f"{text!r} is not valid: {exc} (write {{{{ and }}}} for a brace; placeholders: {named})"
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            shown = f"{{{name}}}" if name else "{}"
            return f"{shown} is not a placeholder of this text (placeholders: {named})"
        if spec or conversion:
            return f"write {{{name}}} without a format or conversion (placeholders: {named})"
    return None


def check_strings(strings: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Problems with site.toml's [strings] overrides: placeholders a built-in text does not fill in."""
    problems = []
    for language, table in strings.items():
        for key, text in table.items():
            # A key of its own (for a theme override's template) has no placeholders to check against.
            known = key in STRINGS["en"] or key in COUNTS["en"]
            problem = _placeholder_problem(key, text) if known else None
            if problem:
                problems.append(f"strings.{language}.{key}: {problem}")
    return problems


@functools.cache
def language_name(language: str, reader: str) -> str:
    """The name of `language` in the reader's language ("датский" for da, to a Russian reader)."""
    return str(Locale.parse(reader).languages.get(language, language))


@functools.cache
def own_name(language: str) -> str:
    """A language's name in itself, as a switcher shows it (Русский, Dansk, English)."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


def translator(language: str, settings: Settings) -> Translator:
    """Built-in strings for `language`, then site.toml's overrides, falling back to English."""
    table = {
        **STRINGS["en"],
        **COUNTS["en"],
        **STRINGS.get(language, {}),
        **COUNTS.get(language, {}),
        **settings.strings.get(language, {}),
    }
    return Translator(language, table)


def heading_aliases(language: str, settings: Settings) -> dict[str, tuple[str, ...]]:
    """Headings accepted for each section (the four and the optional ones): the case's language first,
    English always works."""
    result: dict[str, tuple[str, ...]] = {}
    for key in SECTION_KEYS + OPTIONAL_SECTION_KEYS:
        names = [
            *HEADINGS.get(language, {}).get(key, ()),
            *settings.sections.get(language, {}).get(key, ()),
            *HEADINGS["en"][key],
        ]
        result[key] = tuple(dict.fromkeys(n.casefold() for n in names))
    return result
