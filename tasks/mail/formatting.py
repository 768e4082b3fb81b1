"""Dates, months and numbers as the recipient reads them (CLDR via Babel, Bergamo time), never the server locale."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from models.clock import ROME

if TYPE_CHECKING:  # Babel is imported on first use: a process that formats nothing never loads it
    from babel import Locale

DEFAULT_LANGUAGE = "it"


#: The CLDR locale behind each template language. English is written the way it is in the EU
#: (en_IE): day before month, 24-hour clock, "Monday 30 November 2026" (en_GB adds a comma after
#: the weekday, en_US puts the month first and uses AM/PM).
LOCALES: dict[str, str] = {"it": "it_IT", "en": "en_IE", "uk": "uk_UA"}

# What goes between the date and the time: "lunedì 30 novembre 2026, ore 09:45".
_AT_TIME = {"it": "ore ", "en": "", "uk": "о "}


def _babel_locale(language: str) -> Locale:
    """The Babel locale of a template language; unknown languages read as Italian."""
    return _parsed_locale(LOCALES.get(language, LOCALES[DEFAULT_LANGUAGE]))


@cache
def _parsed_locale(identifier: str) -> Locale:
    from babel import Locale

    return Locale.parse(identifier)


def _language(language: str) -> str:
    return language if language in LOCALES else DEFAULT_LANGUAGE


def _local(value: datetime) -> datetime:
    """Aware datetimes are shown in Bergamo time; naive ones are taken as already local."""
    return value.astimezone(ROME) if value.tzinfo is not None else value.replace(tzinfo=ROME)


def _as_datetime(value: datetime | date | str) -> datetime | date:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return date.fromisoformat(value)
    return value


def format_date_long(value: datetime | date | str, language: str = DEFAULT_LANGUAGE) -> str:
    """``lunedì 30 novembre 2026`` (it), ``Monday 30 November 2026`` (en), Ukrainian likewise."""
    from babel.dates import format_date

    value = _as_datetime(value)
    day = _local(value).date() if isinstance(value, datetime) else value
    return format_date(day, "full", locale=_babel_locale(language))


def format_date_plain(value: datetime | date | str, language: str = DEFAULT_LANGUAGE) -> str:
    """``30 novembre 2026``: after "dal", "al", "il" a weekday would read "al domenica"."""
    from babel.dates import format_date

    value = _as_datetime(value)
    day = _local(value).date() if isinstance(value, datetime) else value
    return format_date(day, "long", locale=_babel_locale(language))


def format_datetime_long(value: datetime | str, language: str = DEFAULT_LANGUAGE) -> str:
    """``lunedì 30 novembre 2026, ore 09:45`` and its English/Ukrainian counterparts."""
    from babel.dates import format_time

    lang = _language(language)
    parsed = _as_datetime(value)
    if isinstance(parsed, datetime):
        moment = _local(parsed)
    else:
        moment = datetime(parsed.year, parsed.month, parsed.day, tzinfo=ROME)
    hhmm = format_time(moment, "short", tzinfo=ROME, locale=_babel_locale(lang))
    return f"{format_date_long(moment, lang)}, {_AT_TIME[lang]}{hhmm}"


def format_datetime_short(value: datetime | str) -> str:
    """``30/11/2026 09:45``: compact and language-neutral, for subjects."""
    parsed = _as_datetime(value)
    if isinstance(parsed, datetime):
        moment = _local(parsed)
        return f"{moment:%d/%m/%Y %H:%M}"
    return f"{parsed:%d/%m/%Y}"


def format_month(value: date | datetime | str, language: str = DEFAULT_LANGUAGE) -> str:
    """``novembre 2026`` from a date or ``2026-11`` (the standalone month name, as in a title)."""
    from babel.dates import format_skeleton

    if isinstance(value, str):
        match = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?", value.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            return value
        first = date(int(match.group(1)), int(match.group(2)), 1)
    else:
        day = _local(value) if isinstance(value, datetime) and value.tzinfo is not None else value
        first = date(day.year, day.month, 1)
    return format_skeleton("yMMMM", first, locale=_babel_locale(language))


def listing(value: Any, empty: str = "—") -> str:
    """Lists become ``a, b, c``; enums their value; missing values a dash."""
    if value is None or value == "" or (isinstance(value, list | tuple | set) and not value):
        return empty
    if isinstance(value, list | tuple | set):
        return ", ".join(str(getattr(v, "value", v)) for v in value)
    return str(getattr(value, "value", value))


def format_number(value: Any, language: str = DEFAULT_LANGUAGE, digits: int = 2) -> str:
    """``1.234,5`` in Italian, ``1,234.5`` in English, ``1 234,5`` in Ukrainian; non-numbers unchanged.

    At most ``digits`` decimals, trailing zeros dropped (``87,3``, ``12``).
    """
    from babel.numbers import format_decimal

    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=_babel_locale(language))


def format_percent(value: Any, language: str = DEFAULT_LANGUAGE, digits: int = 1) -> str:
    """A ratio as a percentage: ``0.153`` is ``15,3%`` (it), ``15.3%`` (en); non-numbers unchanged."""
    from babel.numbers import format_percent as babel_percent

    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    locale = _babel_locale(language)
    pattern = copy.copy(locale.percent_formats[None])  # the locale's own: "15,3%" in Italian, "15,3 %" in French
    pattern.frac_prec = (0, max(digits, 0))
    return babel_percent(value, format=pattern, locale=locale)


# Case states as coordinators read them (the enum values are storage strings, not Italian).
STATE_LABELS_IT: dict[str, str] = {
    "referred": "segnalati",
    "duplicate": "già in carico (uniti)",
    "accepted": "accettati",
    "rejected": "scartati",
    "intake_scheduled": "colloquio fissato",
    "intake_done": "colloquio svolto",
    "no_show": "assenti al colloquio",
    "literacy": "corso di italiano (CPIA)",
    "profile_ready": "profilo pronto",
    "dispatched": "inviati a Confindustria",
    "interest": "interesse di un'azienda",
    "interview": "colloquio in azienda",
    "hired": "assunti",
    "not_selected": "non selezionati",
    "policy": "politica attiva proposta",
    "withdrawn": "ritirati",
    "closed": "chiusi",
    "erased": "cancellati (GDPR)",
}


def state_label(value: Any) -> str:
    """The Italian label of a case state (enum or value); unknown values unchanged."""
    raw = str(getattr(value, "value", value))
    return STATE_LABELS_IT.get(raw, raw)


def codes_summary(codes: Iterable[str], limit: int = 3) -> str:
    """``BG-1, BG-2, BG-3 +4``: case codes for a subject line without making it endless."""
    items = [str(c) for c in codes]
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" +{len(items) - limit}"


def value_label(value: Any, empty: str = "—") -> str:
    """A stored value (``full_time``, ``none``, ``interview``…) or a list of them in Italian
    words (models/labels.py): the templates' ``label`` filter, so no storage string reaches a reader."""
    from models.labels import label

    if isinstance(value, list | tuple | set):
        words = [label(v) for v in value if v not in (None, "")]
        return ", ".join(words) if words else empty
    return label(value, empty=empty)
