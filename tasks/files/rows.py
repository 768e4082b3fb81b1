"""Validation of one referral row into a typed record, with Italian error messages per column."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from models import clock
from models.enums import Cefr
from tasks.files.headers import field_label
from tasks.files.normalize import cf_problem, normalize_cf, normalize_email, normalize_name, normalize_sex
from tasks.files.phones import Phone, phone_text, read_phone_cell, region_hints, script_hints
from tasks.files.places import resolve_municipality
from tasks.files.sheets import looks_like_formula
from tasks.files.tabular import parse_date, safe_value

__all__ = [
    "ReferralRecord",
    "ReferralRow",
    "parse_level",
    "parse_yes_no",
    "read_row",
    "row_warnings",
    "safe_value",
    "validate_row",
]

#: Tick marks count as yes, cross marks as no (a partner ticks a box in the spreadsheet).
_YES = {"si", "sì", "s", "yes", "y", "x", "1", "true", "vero", "так", "✓", "✔", "☑", "✅", "ok"}
_NO = {"no", "n", "0", "false", "falso", "ні", "", "✗", "✘", "☐", "❌"}
_LEVELS = {
    "pre-a1": Cefr.PRE_A1,
    "prea1": Cefr.PRE_A1,
    "a0": Cefr.PRE_A1,
    "nessuno": Cefr.PRE_A1,
    "zero": Cefr.PRE_A1,
    "a1": Cefr.A1,
    "a2": Cefr.A2,
    "b1": Cefr.B1,
    "b2": Cefr.B2,
    "c1": Cefr.C1,
    "c2": Cefr.C2,
    "madrelingua": Cefr.C2,
    "nativo": Cefr.C2,
}


def parse_yes_no(value: Any) -> bool:
    """SI/NO as partners write it (also X, 1, sì, так)."""
    text = "" if value is None else str(value).strip().casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"valore «{text[:10]}» non valido: scrivere SI oppure NO")


def parse_level(value: Any) -> Cefr | None:
    """A self-reported Italian level, leniently (``A2``, ``a 2``, ``madrelingua``)."""
    text = "" if value is None else str(value).strip().casefold().replace(" ", "")
    if not text:
        return None
    if text in _LEVELS:
        return _LEVELS[text]
    raise ValueError(f"livello «{text[:10]}» non riconosciuto (usare pre-A1, A1, A2, B1, B2, C1, C2)")


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def required_text(value: Any) -> str:
    """A mandatory cell: spaces collapsed; empty is an Italian error (shared by every row schema)."""
    text = _text(value)
    if not text:
        raise ValueError("campo obbligatorio vuoto")
    return text


FORMULA_NAME = (
    "sembra una formula di foglio di calcolo (inizia con =, +, - o @, o contiene una funzione come "
    "HYPERLINK): scrivere il nome come semplice testo"
)
MORE_PHONES = "più di due numeri di telefono: conservati i primi due"
# Codice fiscale: omocodia replaces digits with these letters (0..9).
_OMOCODE = str.maketrans("LMNPQRSTUV", "0123456789")
_CF_MONTHS = "ABCDEHLMPRST"


def _cf_birth(code: str) -> tuple[int, int, int, str] | None:
    """(two-digit year, month, day, sex) encoded in a 16-character codice fiscale."""
    if len(code) != 16:
        return None
    yy, month, dd = code[6:8].translate(_OMOCODE), code[8], code[9:11].translate(_OMOCODE)
    if not (yy.isdigit() and dd.isdigit()) or month not in _CF_MONTHS:
        return None
    return int(yy), _CF_MONTHS.index(month) + 1, int(dd) % 40, "F" if int(dd) > 40 else "M"


# --- the checks of each field, shared by ReferralRow (forms, API) and read_row (files) ------------
# Each takes the cell as sent and returns the field's value, or raises ValueError with the Italian
# reason. The values come out stripped, as ReferralRow's ``str_strip_whitespace`` leaves them.


def _check_name(value: Any) -> str:
    """Kept as written (only outer and repeated spaces go): the person's own spelling."""
    text = required_text(value)
    if len(text) > 120:
        raise ValueError("testo troppo lungo (max 120 caratteri)")
    if not any(map(str.isalpha, text)):
        raise ValueError("deve contenere lettere")
    if looks_like_formula(str(value)):
        raise ValueError(FORMULA_NAME)
    if "@" in text or any(map(str.isdigit, text)):  # shifted columns, not a name
        raise ValueError("il nome contiene cifre o @: controllare l'ordine delle colonne")
    return text


def _check_date(value: Any) -> date | None:
    if value is None or _text(value) == "":
        return None
    return parse_date(value)


def _check_birth_date(value: Any) -> date | None:
    born = None if value is None or _text(value) == "" else parse_date(value, past=True)
    if born is not None and not (1920 <= born.year <= clock.today().year - 14):
        raise ValueError(f"data di nascita non plausibile ({born:%d/%m/%Y})")
    return born


def _check_free(value: Any) -> str | None:
    text = _text(value)
    return text[:300].strip() if text else None


def _check_cf(value: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    cf = normalize_cf(text)
    if cf is None:
        raise ValueError(cf_problem(text) or "codice fiscale non valido")
    return cf


def _check_phone_cell(value: Any) -> str | None:
    """The cell as written; :func:`_read_phones` reads it once the row's other fields are known."""
    return phone_text(value) or None


def _check_email(value: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    email = normalize_email(text)
    if email is None:
        raise ValueError("indirizzo e-mail non valido")
    return email


def _check_municipality(value: Any) -> str | None:
    """Never a row error: the official name when it names one comune ("Dalmine (Bg)" → Dalmine),
    else as written (empty → None); the case then waits for a CPI."""
    text = _text(value)[:120]
    return (resolve_municipality(text).name or text).strip() if text else None


def _check_languages(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_text(x) for x in value if _text(x)]
    return [p.strip() for p in _text(value).replace(";", ",").split(",") if p.strip()]


#: Each field's check, in ReferralRow's field order (the order of the errors of a row).
_FIELD_CHECKS: dict[str, Callable[[Any], Any]] = {
    "family_name": _check_name,
    "given_names": _check_name,
    "birth_date": _check_birth_date,
    "sex": _check_free,
    "birth_place": _check_free,
    "citizenship": _check_free,
    "codice_fiscale": _check_cf,
    "phone": _check_phone_cell,
    "phone_secondary": _check_phone_cell,
    "email": _check_email,
    "municipality": _check_municipality,
    "languages": _check_languages,
    "education": _check_free,
    "experiences": _check_free,
    "licence": _check_free,
    "italian_level": parse_level,
    "consent_privacy": parse_yes_no,
    "consent_confindustria": parse_yes_no,
    "permit_type": _check_free,
    "permit_expiry": _check_date,
}
_REQUIRED = ("family_name", "given_names")


class _Phones(NamedTuple):
    phone: str | None
    phone_raw: str | None
    phone_verified: bool | None
    phone_secondary: str | None
    phone_secondary_raw: str | None
    phone_secondary_verified: bool | None
    warnings: list[tuple[str, str]]


def _read_phones(
    phone: str | None,
    secondary: str | None,
    citizenship: str | None,
    birth_place: str | None,
    languages: list[str],
    names: str = "",
) -> _Phones:
    """Never a row error: both phone cells read in the row's likely regions (Italian first, then
    citizenship, birth place, languages: tasks/files/phones.py). The first number is the phone,
    the next the second phone (two in one cell, or the family's landline alone in the second
    column); what is no phone is dropped with a warning."""

    def hints() -> tuple[str, ...]:
        return region_hints(citizenship, birth_place, languages) or script_hints(names)

    warnings: list[tuple[str, str]] = []
    kept: list[tuple[Phone, str]] = []
    for field, value in (("phone", phone), ("phone_secondary", secondary)):
        cell = read_phone_cell(value, hints)
        new = [n for n in cell.numbers if n.e164 not in {k.e164 for k, _ in kept}]
        if cell.problem:
            warnings.append((field, cell.problem))
        if new and len(kept) + len(new) > 2:
            warnings.append((field, MORE_PHONES))
        kept += [(n, cell.raw) for n in new]
    parts: list[tuple[str | None, str | None, bool | None]] = [(n.e164, raw[:200], n.verified) for n, raw in kept[:2]]
    parts += [(None, None, None)] * (2 - len(parts))
    return _Phones(*parts[0], *parts[1], warnings)


def _cf_mismatch(code: str | None, born: date | None, sex: str | None) -> str | None:
    """A valid code of someone else (a relative's, a typo in the date) is caught here: the date
    and sex it encodes (omocodia read back) against the row's date of birth and sex."""
    encoded = _cf_birth(code or "")
    if encoded is None:
        return None
    wrong = []
    if born is not None and encoded[:3] != (born.year % 100, born.month, born.day):
        wrong.append("la data di nascita")
    written = normalize_sex(sex)
    if written is not None and written != encoded[3]:
        wrong.append("il sesso")
    return f"codice fiscale non coerente con {' e '.join(wrong)} della riga" if wrong else None


class ReferralRow(BaseModel):
    """One person referred, as validated from a partner form or API call (a file's rows go through
    :func:`read_row`, the same checks without a model per row)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    family_name: str
    given_names: str
    birth_date: date | None = None
    sex: str | None = None
    birth_place: str | None = None
    citizenship: str | None = None
    codice_fiscale: str | None = None
    phone: str | None = None
    #: A second number (the same header twice, or "Telefono" and "Cellulare" both filled).
    phone_secondary: str | None = None
    email: str | None = None
    municipality: str | None = None
    languages: list[str] = []
    education: str | None = None
    experiences: str | None = None
    licence: str | None = None
    italian_level: Cefr | None = None
    consent_privacy: bool = False
    consent_confindustria: bool = False
    permit_type: str | None = None
    permit_expiry: date | None = None
    # Each phone as written and whether it is a valid number of its region (set by ``_phones``).
    _phone_raw: str | None = PrivateAttr(default=None)
    _phone_verified: bool | None = PrivateAttr(default=None)
    _phone_secondary_raw: str | None = PrivateAttr(default=None)
    _phone_secondary_verified: bool | None = PrivateAttr(default=None)
    #: (field, reason) of what was dropped from an accepted row: :func:`row_warnings`
    _warnings: list[tuple[str, str]] = PrivateAttr(default_factory=list)

    @field_validator(*_FIELD_CHECKS, mode="before")
    @classmethod
    def _check(cls, v: Any, info: ValidationInfo) -> Any:
        """The field's check (``_FIELD_CHECKS``), as :func:`read_row` applies it."""
        return _FIELD_CHECKS[str(info.field_name)](v)

    @model_validator(mode="after")
    def _phones(self) -> ReferralRow:
        """The phone cells read (:func:`_read_phones`)."""
        read = _read_phones(
            self.phone,
            self.phone_secondary,
            self.citizenship,
            self.birth_place,
            self.languages,
            f"{self.family_name} {self.given_names}",
        )
        self.phone, self.phone_secondary = read.phone, read.phone_secondary
        self._phone_raw, self._phone_verified = read.phone_raw, read.phone_verified
        self._phone_secondary_raw, self._phone_secondary_verified = (
            read.phone_secondary_raw,
            read.phone_secondary_verified,
        )
        self._warnings.extend(read.warnings)
        return self

    @property
    def phone_raw(self) -> str | None:
        """The phone cell as the partner wrote it (notes and all)."""
        return self._phone_raw

    @property
    def phone_verified(self) -> bool | None:
        """Whether ``phone`` is a valid number of its region (None without a phone)."""
        return self._phone_verified

    @property
    def phone_secondary_raw(self) -> str | None:
        return self._phone_secondary_raw

    @property
    def phone_secondary_verified(self) -> bool | None:
        return self._phone_secondary_verified

    @property
    def warnings(self) -> list[tuple[str, str]]:
        """(field, reason) of what was dropped from the accepted row (:func:`row_warnings`)."""
        return self._warnings

    @model_validator(mode="after")
    def _cf_matches_birth_date(self) -> ReferralRow:
        """The code against the row's date of birth and sex (:func:`_cf_mismatch`)."""
        if problem := _cf_mismatch(self.codice_fiscale, self.birth_date, self.sex):
            raise ValueError(problem)
        return self

    @property
    def name_norm(self) -> str:
        """Normalised full name (accents, case, Cyrillic folded) for dedup; the spelling stays as written."""
        return normalize_name(f"{self.family_name} {self.given_names}")


@dataclass(slots=True)
class ReferralRecord:
    """One valid row of a partner file: the fields of :class:`ReferralRow` with the same values,
    as a plain record (a pydantic model per row was a tenth of a big import's time)."""

    family_name: str
    given_names: str
    birth_date: date | None
    sex: str | None
    birth_place: str | None
    citizenship: str | None
    codice_fiscale: str | None
    phone: str | None
    phone_secondary: str | None
    email: str | None
    municipality: str | None
    languages: list[str]
    education: str | None
    experiences: str | None
    licence: str | None
    italian_level: Cefr | None
    consent_privacy: bool
    consent_confindustria: bool
    permit_type: str | None
    permit_expiry: date | None
    phone_raw: str | None
    phone_verified: bool | None
    phone_secondary_raw: str | None
    phone_secondary_verified: bool | None
    #: (field, reason) of what was dropped from the accepted row (:func:`row_warnings`)
    warnings: list[tuple[str, str]]

    @property
    def name_norm(self) -> str:
        """Normalised full name (accents, case, Cyrillic folded) for dedup; the spelling stays as written."""
        return normalize_name(f"{self.family_name} {self.given_names}")


#: What a field is when its column is absent (ReferralRow's defaults; ``languages`` a new list).
_ABSENT: dict[str, Any] = {"consent_privacy": False, "consent_confindustria": False}


def read_row(raw: dict[str, Any], headers: dict[str, str]) -> tuple[ReferralRecord | None, list[dict[str, str]]]:
    """:func:`validate_row` for the rows of a file: the same checks, values and errors (in the
    same order), into a plain :class:`ReferralRecord` instead of a model."""
    values: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for field, check in _FIELD_CHECKS.items():
        value = raw.get(field, _MISSING)
        if value is not _MISSING:
            try:
                values[field] = check(value)
            except ValueError as exc:
                errors.append(_error(raw, headers, field, str(exc)))
        elif field in _REQUIRED:
            errors.append(_error(raw, headers, field, "colonna mancante"))
        else:
            values[field] = [] if field == "languages" else _ABSENT.get(field)
    if errors:
        return None, errors
    problem = _cf_mismatch(values["codice_fiscale"], values["birth_date"], values["sex"])
    if problem:
        return None, [_error(raw, headers, "codice_fiscale", problem)]
    read = _read_phones(
        values["phone"],
        values["phone_secondary"],
        values["citizenship"],
        values["birth_place"],
        values["languages"],
        f"{values['family_name']} {values['given_names']}",
    )
    values.update(zip(read._fields, read, strict=True))
    return ReferralRecord(**values), []


_MISSING = object()


def _error(raw: dict[str, Any], headers: dict[str, str], field: str, reason: str) -> dict[str, str]:
    return {"column": _column(headers, field), "value": safe_value(raw.get(field)), "reason": reason}


def row_warnings(row: ReferralRow | ReferralRecord, headers: dict[str, str]) -> list[dict[str, str]]:
    """What an accepted row lost, as {column, reason} (no cell values: the acknowledgement and
    the import record keep no personal data), e.g. a phone that was no phone."""
    return [{"column": _column(headers, field), "reason": reason} for field, reason in row.warnings]


def _column(headers: dict[str, str], field: str) -> str:
    """The column as the file names it, else its Italian name: never the internal field name."""
    return headers.get(field) or field_label("referral", field)


def validate_row(raw: dict[str, Any], headers: dict[str, str]) -> tuple[ReferralRow | None, list[dict[str, str]]]:
    """Validate one raw row; on failure return every error as {column, value, reason}."""
    try:
        return ReferralRow.model_validate(raw), []
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "codice_fiscale"
            message = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "missing":
                message = "colonna mancante"
            errors.append(
                {
                    "column": _column(headers, field),
                    "value": safe_value(raw.get(field)),
                    "reason": message,
                }
            )
        return None, errors
