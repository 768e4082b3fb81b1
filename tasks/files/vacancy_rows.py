"""One open position as a vacancy file writes it, validated into a typed row (pure).

Confindustria's office and the member companies export positions from different software and
habits; the rules meet them, each with an Italian message when a cell cannot be read:

* company: a name, a partita IVA (its own column or inside the name) or the internal code;
  found in the registry at import (tasks/files/companies.py), never a row error unless both
  are empty;
* requirements: every requirements column ("Requisiti", "Competenze richieste", a second one),
  split on commas, semicolons, line breaks, bullets and " / "; a licence or Italian level
  written among them counts when the file has no value of its own for it;
* Italian level: a CEFR level anywhere in the cell (the lowest of a range: "A2/B1" is A2),
  words ("buono", "base", "madrelingua"), and "non richiesto", "nessuno", "-", "not required",
  "non indispensabile, gradito A2" for no requirement (pre-A1, which every candidate meets);
  empty means A2;
* licence: "B", "patente B", "cat. C", "C+E", "automunito" (B), "muletto", "SI" in an
  "Automunito" column (B); "non richiesta", "-", "no" for none;
* deadline: every date form of ``tabular.parse_date`` plus month names ("31 gennaio 2027",
  "31-gen-27", "31-Jan-2027", "marzo 2027" = its last day), "entro il …", a time after the date,
  a day and month without the year ("31/01", "fine marzo": the year nearest today); no date
  written ("fino a copertura", "aperta", "-") means no deadline;
* openings: "3", "3,0", "n. 3", "3 posti", "2 persone", "2-3" (the most: 3).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, field_validator, model_validator

from models import clock
from models.enums import Cefr, Licence
from tasks.files.places import resolve_municipality
from tasks.files.rows import parse_level, required_text, safe_value
from tasks.files.tabular import parse_date

__all__ = ["VacancyRow", "parse_deadline", "parse_licence", "parse_openings", "parse_required_level"]

#: What partners write for "nothing required" or "nothing to say" in a requirement cell.
_NOTHING = {
    "", "-", "--", "/", "x", "no", "nessuno", "nessuna", "nessun", "niente", "non richiesto", "non richiesta",
    "non richiesti", "non necessario", "non necessaria", "non indispensabile", "non rilevante", "indifferente",
    "nessun requisito", "nessuna richiesta", "non specificato", "nd", "n d", "na", "n a", "none", "not required",
    "not needed", "any", "nil", "нема", "немає",
}  # fmt: skip
#: A licence column answered yes ("Automunito: SI", "Patente: richiesta"): licence B.
_YES = {"si", "s", "yes", "y", "x", "richiesta", "richiesto", "obbligatoria", "necessaria", "indispensabile"}
_NEGATION = re.compile(r"^(?:non|nessun[ao]?|not|no)\b")
_CEFR = re.compile(r"(?<![a-z0-9])(pre ?a ?1|a ?0|a ?1|a ?2|b ?1|b ?2|c ?1|c ?2)(?![0-9])")
#: Level words, by stem, to the level they mean in Italian job adverts.
_LEVEL_WORDS: tuple[tuple[str, Cefr], ...] = (
    ("madrelingua", Cefr.C2),
    ("nativ", Cefr.C2),
    ("fluent", Cefr.C1),
    ("avanzat", Cefr.C1),
    ("ottim", Cefr.B2),
    ("buon", Cefr.B1),
    ("intermedi", Cefr.B1),
    ("discret", Cefr.A2),
    ("sufficient", Cefr.A2),
    ("scolastic", Cefr.A2),
    ("base", Cefr.A2),
    ("basic", Cefr.A2),
    ("basilar", Cefr.A2),
    ("elementar", Cefr.A1),
    ("minim", Cefr.A1),
)
_MONTHS = {
    "gennaio": 1, "gen": 1, "january": 1, "jan": 1, "febbraio": 2, "feb": 2, "february": 2,
    "marzo": 3, "mar": 3, "march": 3, "aprile": 4, "apr": 4, "april": 4, "maggio": 5, "mag": 5, "may": 5,
    "giugno": 6, "giu": 6, "june": 6, "jun": 6, "luglio": 7, "lug": 7, "july": 7, "jul": 7,
    "agosto": 8, "ago": 8, "august": 8, "aug": 8, "settembre": 9, "set": 9, "sett": 9, "september": 9,
    "sep": 9, "sept": 9, "ottobre": 10, "ott": 10, "october": 10, "oct": 10, "novembre": 11, "nov": 11,
    "november": 11, "dicembre": 12, "dic": 12, "december": 12, "dec": 12,
}  # fmt: skip
_MONTH_DATE = re.compile(r"(?:(\d{1,2})(?:st|nd|rd|th|°)?[\s./-]*)?([a-z]{3,9})\.?[\s./,-]*(\d{4}|\d{2})?")
_DAY_MONTH = re.compile(r"(\d{1,2})\s*[./-]\s*(\d{1,2})")
_MONTH_YEAR = re.compile(r"(\d{1,2})\s*[./-]\s*(\d{4})")
_MONTH_FIRST = re.compile(r"([a-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})")
_DEADLINE_LEAD = re.compile(
    r"^(?:(?:entro|fino|valid[ao]|scad(?:enza|e)?|termine|term|chiusura|deadline|until|by|expires|expiry)\b\.?[\s:]*)+"
    r"(?:(?:il|al|a|the|on)\b\s*)?"
)
_TIME_TAIL = re.compile(r"\s+(?:(?:ore|h|alle|at)\.?\s*)?\d{1,2}[:.]\d{2}(?::\d{2})?\s*$")
#: "2-3", "2/3", "da 2 a 3", "2 o 3": the most the position takes.
_RANGE = re.compile(r"^(?:da\s+)?(\d+)\s*(?:-|/|a|o|to|or)\s*(\d+)\b")
_OPENINGS = re.compile(
    r"(?:n\.?|nr\.?|num\.?|numero)?\s*(\d+(?:[.,]0+)?)\s*(?:posti|posto|persone|persona|risorse|risorsa|"
    r"unita|figure|figura|operai|addetti|people|positions)?"
)


def _plain(value: Any) -> str:
    """Casefolded, accents stripped, spaces collapsed."""
    text = unicodedata.normalize("NFKD", "" if value is None else str(value)).casefold()
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def _says_nothing(text: str) -> bool:
    """Whether the cell asks for nothing ("-", "non richiesto", "not required")."""
    return re.sub(r"[^\w]+", " ", text).strip() in _NOTHING or text in _NOTHING


def parse_required_level(value: Any) -> Cefr:
    """The least Italian level a position asks for (see the module docstring)."""
    text = _plain(value)
    if not text:
        return Cefr.A2
    if _says_nothing(text) or _NEGATION.match(text):  # "non indispensabile, gradito A2"
        return Cefr.PRE_A1
    levels = [m.replace(" ", "") for m in _CEFR.findall(text.replace("-", " "))]
    if levels:
        found = [Cefr.PRE_A1 if lvl in ("prea1", "a0") else Cefr(lvl.upper()) for lvl in levels]
        return min(found, key=lambda c: c.rank)
    for word in re.findall(r"[a-z]+", text):
        for stem, level in _LEVEL_WORDS:
            if word.startswith(stem):
                return level
    return parse_level(value) or Cefr.A2  # raises the Italian error for anything else


def parse_licence(value: Any) -> Licence:
    """``B``, ``patente B``, ``cat. C``, ``C+E``, ``automunito``, ``muletto``; "non richiesta" is none."""
    text = _plain(value)
    if _says_nothing(text) or _NEGATION.match(text):
        return Licence.NONE
    if "mulett" in text or "carrell" in text or "forklift" in text:
        return Licence.FORKLIFT
    words = re.sub(r"\bc\s*\+\s*e\b", "ce", text)
    words = re.sub(
        r"\b(?:patente|patenti|cat|categoria|tipo|di|guida|licence|license|driving|e|o|or|and)\b", " ", words
    )
    for token in re.findall(r"[a-z]+", words):
        for lic in (Licence.CE, Licence.C, Licence.D, Licence.B):
            if token == lic.value.casefold():
                return lic
    if "automunit" in text or text in _YES:
        return Licence.B  # "Automunito: SI", "Patente: richiesta": the common licence, B
    raise ValueError(f"patente «{safe_value(value)[:20]}» non riconosciuta (B, C, CE, D, muletto, nessuna)")


def _nearest(month: int, day: int | None) -> date:
    """A day and month written without the year: the year that puts it nearest today ("fine
    marzo" in December is next March; "30/11" on 4 December is the one just passed)."""
    today = clock.today()
    options = []
    for year in (today.year - 1, today.year, today.year + 1):
        last = calendar.monthrange(year, month)[1]
        options.append(date(year, month, min(day, last) if day else last))
    return min(options, key=lambda d: abs((d - today).days))


def _month_date(text: str) -> date | None:
    """A date with a month name ("31 gennaio 2027", "31-gen-27", "Jan 31, 2027", "marzo 2027": its
    last day), or a day and month without the year ("31/01"); None when it is neither."""
    if m := _DAY_MONTH.fullmatch(text):
        return _nearest(int(m[2]), int(m[1])) if 1 <= int(m[2]) <= 12 else None
    if (m := _MONTH_YEAR.fullmatch(text)) and 1 <= int(m[1]) <= 12:  # "03/2027": the end of March
        return date(int(m[2]), int(m[1]), calendar.monthrange(int(m[2]), int(m[1]))[1])
    m = _MONTH_FIRST.fullmatch(text)
    if m and m[1] in _MONTHS:
        return date(int(m[3]), _MONTHS[m[1]], int(m[2]))
    m = _MONTH_DATE.fullmatch(text)
    if m is None or m[2] not in _MONTHS:
        return None
    month, day = _MONTHS[m[2]], int(m[1]) if m[1] else None
    if not m[3]:
        return _nearest(month, day)
    year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
    return date(year, month, day or calendar.monthrange(year, month)[1])


def parse_deadline(value: Any) -> date | None:
    """The last day a position is open, or None when the file gives no date."""
    if value is None or (isinstance(value, date | datetime | int | float) and not isinstance(value, bool)):
        return None if value is None else parse_date(value)
    text = _plain(value)
    text = _TIME_TAIL.sub("", _DEADLINE_LEAD.sub("", text)).strip(" ,;.")
    if re.fullmatch(
        r"(?:(?:la|the)\s+)?(?:fine|end of)(?:\s+(?:del|of the|of))?\s+(?:mese|month)(?:\s+corrente)?", text
    ):
        today = clock.today()  # "entro fine mese": the last day of the month the file is read in
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    text = re.sub(r"^(?:fine|end of)\s+", "", text)
    if not re.search(r"\d", text) and not any(w in _MONTHS for w in re.findall(r"[a-z]+", text)):
        return None  # "fino a copertura", "aperta", "-": no date written
    try:
        return parse_date(text)
    except ValueError:
        try:
            found = _month_date(text)
        except ValueError:
            found = None
        if found is None:
            raise
        return found


def parse_openings(value: Any) -> int:
    """How many people a position takes: 1 when empty."""
    text = _plain(value)
    if not text:
        return 1
    m = _OPENINGS.fullmatch(_RANGE.sub(lambda r: max(r[1], r[2], key=int), text))
    if m is None:
        raise ValueError(f"numero di posti «{safe_value(value)[:20]}» non valido: scrivere un numero")
    number = float(m[1].replace(",", "."))
    if not number.is_integer() or not 1 <= number <= 1000:
        raise ValueError("numero di posti non valido: un intero da 1 a 1000")
    return int(number)


#: Between requirements: commas, semicolons, line breaks, bullets, a bar, and a slash with a space
#: on either side ("patente B / turni"; "A2/B1" and "3x8/5x2" stay whole).
_BETWEEN_ITEMS = re.compile(r"[,;\n\r•|]+|\s+/\s*|\s*/\s+")
#: A requirement that states the licence or the Italian level when no column of its own does.
_LICENCE_ITEM = re.compile(r"^(?:patente|automunit|driving licen)", re.IGNORECASE)
_ITALIAN_ITEM = re.compile(r"\b(?:italiano|lingua italiana|italian)\b", re.IGNORECASE)


def _split(value: Any) -> list[str]:
    return [s.strip(" -•*·") for s in _BETWEEN_ITEMS.split(str(value or "")) if s.strip(" -•*·")]


def _from_requirements(data: dict[str, Any]) -> dict[str, Any]:
    """Licence and Italian level read from the requirements ("patente B / italiano A2") when
    the file has no value of its own for them; the requirement stays in the list."""
    raw = data.get("skills")
    items = raw if isinstance(raw, list) else _split(raw)
    out = dict(data)
    if _blank(data.get("licence")):
        for item in items:
            if _LICENCE_ITEM.match(str(item).strip()):
                try:
                    out["licence"] = parse_licence(item)
                except ValueError:
                    continue
                break
    if _blank(data.get("italian_required")):
        for item in items:
            if _ITALIAN_ITEM.search(str(item)):
                try:
                    out["italian_required"] = parse_required_level(item)
                except ValueError:
                    continue
                break
    return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class VacancyRow(BaseModel):
    """One open position as a vacancy file has it; Italian errors per column."""

    company: str | None = None
    vat: str | None = None
    title: str
    municipality: str | None = None
    skills: list[str] = []
    italian_required: Cefr = Cefr.A2
    licence: Licence = Licence.NONE
    contract: str | None = None
    openings: int = 1
    valid_until: date | None = None

    @model_validator(mode="before")
    @classmethod
    def _second_columns(cls, data: Any) -> Any:
        """A second requirements column ("Requisiti" and "Competenze") adds to the first."""
        if isinstance(data, dict) and data.get("skills_secondary"):
            data = {**data, "skills": [*_split(data.get("skills")), *_split(data["skills_secondary"])]}
        if isinstance(data, dict) and data.get("skills"):
            data = _from_requirements(data)
        return data

    @field_validator("company", "vat", "contract", mode="before")
    @classmethod
    def _text(cls, v: Any) -> str | None:
        if isinstance(v, float) and v.is_integer():
            v = int(v)  # a VAT in a number cell
        text = " ".join(str(v).split()) if v is not None else ""
        return text[:200] or None

    @field_validator("title", mode="before")
    @classmethod
    def _required(cls, v: Any) -> str:
        return required_text(v)[:200]

    @field_validator("municipality", mode="before")
    @classmethod
    def _site(cls, v: Any) -> str | None:
        """The official comune when the site names one ("Dalmine (BG)"), else as written."""
        text = " ".join(str(v or "").split())[:120]
        return (resolve_municipality(text).name or text) if text else None

    @field_validator("skills", mode="before")
    @classmethod
    def _skills(cls, v: Any) -> list[str]:
        items = v if isinstance(v, list) else _split(v)
        return [s for s in items if not _says_nothing(_plain(s))]

    @field_validator("italian_required", mode="before")
    @classmethod
    def _level(cls, v: Any) -> Cefr:
        return parse_required_level(v)

    @field_validator("licence", mode="before")
    @classmethod
    def _licence(cls, v: Any) -> Licence:
        return parse_licence(v)

    @field_validator("valid_until", mode="before")
    @classmethod
    def _date(cls, v: Any) -> date | None:
        return parse_deadline(v)

    @field_validator("openings", mode="before")
    @classmethod
    def _openings(cls, v: Any) -> int:
        return parse_openings(v)

    @model_validator(mode="after")
    def _some_company(self) -> VacancyRow:
        if not self.company and not self.vat:
            raise ValueError("azienda non indicata: scrivere la ragione sociale o la partita IVA")
        return self
