"""Validation of one referral row into a typed record, with Italian error messages per column."""

from __future__ import annotations

from datetime import date
from typing import Any

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
from tasks.files.phones import Phone, phone_text, read_phone_cell, region_hints
from tasks.files.places import resolve_municipality
from tasks.files.sheets import looks_like_formula
from tasks.files.tabular import parse_date, safe_value

__all__ = ["ReferralRow", "parse_level", "parse_yes_no", "row_warnings", "safe_value", "validate_row"]

_YES = {"si", "sì", "s", "yes", "y", "x", "1", "true", "vero", "так"}
_NO = {"no", "n", "0", "false", "falso", "ні", ""}
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


class ReferralRow(BaseModel):
    """One person referred, as validated from a partner file, form or API call."""

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

    @field_validator("municipality", mode="before")
    @classmethod
    def _municipality(cls, v: Any) -> str | None:
        """Never a row error: the official name when it names one comune ("Dalmine (Bg)" →
        Dalmine), else as written (empty → None); the case then waits for a CPI."""
        text = _text(v)[:120]
        return (resolve_municipality(text).name or text) if text else None

    @field_validator("family_name", "given_names", mode="before")
    @classmethod
    def _required_text(cls, v: Any) -> str:
        """Kept as written (only outer and repeated spaces go): the person's own spelling."""
        text = required_text(v)
        if len(text) > 120:
            raise ValueError("testo troppo lungo (max 120 caratteri)")
        if not any(c.isalpha() for c in text):
            raise ValueError("deve contenere lettere")
        if looks_like_formula(str(v)):
            raise ValueError(FORMULA_NAME)
        return text

    @field_validator("family_name", "given_names")
    @classmethod
    def _name(cls, v: str) -> str:
        """Digits or @ in a name mean shifted columns, not a name."""
        if any(c.isdigit() or c == "@" for c in v):
            raise ValueError("il nome contiene cifre o @: controllare l'ordine delle colonne")
        return v

    @field_validator("birth_date", "permit_expiry", mode="before")
    @classmethod
    def _date(cls, v: Any, info: ValidationInfo) -> date | None:
        if v is None or _text(v) == "":
            return None
        return parse_date(v, past=info.field_name == "birth_date")

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth(cls, v: date | None) -> date | None:
        if v is not None and not (1920 <= v.year <= clock.today().year - 14):
            raise ValueError(f"data di nascita non plausibile ({v:%d/%m/%Y})")
        return v

    @field_validator("codice_fiscale", mode="before")
    @classmethod
    def _cf(cls, v: Any) -> str | None:
        text = _text(v)
        if not text:
            return None
        cf = normalize_cf(text)
        if cf is None:
            raise ValueError(cf_problem(text) or "codice fiscale non valido")
        return cf

    @field_validator("phone", "phone_secondary", mode="before")
    @classmethod
    def _phone_cell(cls, v: Any) -> str | None:
        """The cell as written; ``_phones`` reads it once the row's other fields are known."""
        return phone_text(v) or None

    @model_validator(mode="after")
    def _phones(self) -> ReferralRow:
        """Never a row error: both phone cells read in the row's likely regions (Italian first,
        then citizenship, birth place, languages: tasks/files/phones.py). The first number is
        the phone, the next the second phone (two in one cell, or the family's landline alone
        in the second column); what is no phone is dropped with a warning."""

        def hints() -> tuple[str, ...]:
            return region_hints(self.citizenship, self.birth_place, self.languages)

        kept: list[tuple[Phone, str]] = []
        for field in ("phone", "phone_secondary"):
            cell = read_phone_cell(getattr(self, field), hints)
            new = [n for n in cell.numbers if n.e164 not in {k.e164 for k, _ in kept}]
            if cell.problem:
                self._warnings.append((field, cell.problem))
            if new and len(kept) + len(new) > 2:
                self._warnings.append((field, MORE_PHONES))
            kept += [(n, cell.raw) for n in new]
        parts: list[tuple[str | None, str | None, bool | None]] = [
            (n.e164, raw[:200], n.verified) for n, raw in kept[:2]
        ]
        parts += [(None, None, None)] * (2 - len(parts))
        self.phone, self._phone_raw, self._phone_verified = parts[0]
        self.phone_secondary, self._phone_secondary_raw, self._phone_secondary_verified = parts[1]
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

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, v: Any) -> str | None:
        text = _text(v)
        if not text:
            return None
        email = normalize_email(text)
        if email is None:
            raise ValueError("indirizzo e-mail non valido")
        return email

    @field_validator("languages", mode="before")
    @classmethod
    def _languages(cls, v: Any) -> list[str]:
        if isinstance(v, list):
            return [_text(x) for x in v if _text(x)]
        return [p.strip() for p in _text(v).replace(";", ",").split(",") if p.strip()]

    @field_validator("italian_level", mode="before")
    @classmethod
    def _level(cls, v: Any) -> Cefr | None:
        return parse_level(v)

    @field_validator("consent_privacy", "consent_confindustria", mode="before")
    @classmethod
    def _yes_no(cls, v: Any) -> bool:
        return parse_yes_no(v)

    @field_validator(
        "experiences", "education", "licence", "sex", "birth_place", "citizenship", "permit_type", mode="before"
    )
    @classmethod
    def _free(cls, v: Any) -> str | None:
        text = _text(v)
        return text[:300] if text else None

    @model_validator(mode="after")
    def _cf_matches_birth_date(self) -> ReferralRow:
        """A valid code of someone else (a relative's, a typo in the date) is caught here: the
        date and sex it encodes (omocodia read back) against the row's date of birth and sex."""
        encoded = _cf_birth(self.codice_fiscale or "")
        if encoded is None:
            return self
        wrong = []
        bd = self.birth_date
        if bd is not None and encoded[:3] != (bd.year % 100, bd.month, bd.day):
            wrong.append("la data di nascita")
        sex = normalize_sex(self.sex)
        if sex is not None and sex != encoded[3]:
            wrong.append("il sesso")
        if wrong:
            raise ValueError(f"codice fiscale non coerente con {' e '.join(wrong)} della riga")
        return self

    @property
    def name_norm(self) -> str:
        """Normalised full name (accents, case, Cyrillic folded) for dedup; the spelling stays as written."""
        return normalize_name(f"{self.family_name} {self.given_names}")


def row_warnings(row: ReferralRow, headers: dict[str, str]) -> list[dict[str, str]]:
    """What an accepted row lost, as {column, reason} (no cell values: the acknowledgement and
    the import record keep no personal data), e.g. a phone that was no phone."""
    return [{"column": _column(headers, field), "reason": reason} for field, reason in row._warnings]


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
