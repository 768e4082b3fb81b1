"""Validation of one referral row into a typed record, with Italian error messages per column."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator

from models import clock
from models.enums import Cefr
from tasks.files.normalize import normalize_cf, normalize_email, normalize_name, normalize_phone
from tasks.files.tabular import parse_date, safe_value

__all__ = ["ReferralRow", "parse_level", "parse_yes_no", "safe_value", "validate_row"]

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


# Several numbers in one cell ("333 1234567 / 035 123456"): the first valid one is kept.
_PHONE_SPLIT = re.compile(r"\s*(?:[/;,|]|\s-\s|\so\s|\soppure\s)\s*", re.IGNORECASE)
# Codice fiscale: omocodia replaces digits with these letters (0..9).
_OMOCODE = str.maketrans("LMNPQRSTUV", "0123456789")
_CF_MONTHS = "ABCDEHLMPRST"


def _cf_birth(code: str) -> tuple[int, int, int] | None:
    """(two-digit year, month, day) encoded in a 16-character codice fiscale."""
    if len(code) != 16:
        return None
    yy, month, dd = code[6:8].translate(_OMOCODE), code[8], code[9:11].translate(_OMOCODE)
    if not (yy.isdigit() and dd.isdigit()) or month not in _CF_MONTHS:
        return None
    return int(yy), _CF_MONTHS.index(month) + 1, int(dd) % 40


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
    email: str | None = None
    municipality: str
    languages: list[str] = []
    education: str | None = None
    experiences: str | None = None
    licence: str | None = None
    italian_level: Cefr | None = None
    consent_privacy: bool = False
    consent_confindustria: bool = False
    permit_type: str | None = None
    permit_expiry: date | None = None

    @field_validator("family_name", "given_names", "municipality", mode="before")
    @classmethod
    def _required_text(cls, v: Any) -> str:
        """Kept as written (only outer and repeated spaces go): the person's own spelling."""
        text = required_text(v)
        if len(text) > 120:
            raise ValueError("testo troppo lungo (max 120 caratteri)")
        if not any(c.isalpha() for c in text):
            raise ValueError("deve contenere lettere")
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
            raise ValueError("codice fiscale non valido (controllare lettere e carattere di controllo)")
        return cf

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v: Any) -> str | None:
        text = _text(v)
        if not text:
            return None
        for part in [text, *_PHONE_SPLIT.split(text)]:
            if phone := normalize_phone(part):
                return phone
        raise ValueError("numero di telefono non valido (per i numeri esteri indicare il prefisso, es. +380)")

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
        """A valid code of someone else (a relative's, a typo in the date) is caught here."""
        if self.codice_fiscale and self.birth_date:
            encoded = _cf_birth(self.codice_fiscale)
            bd = self.birth_date
            if encoded is not None and encoded != (bd.year % 100, bd.month, bd.day):
                raise ValueError("codice fiscale non coerente con la data di nascita")
        return self

    @property
    def name_norm(self) -> str:
        """Normalised full name (accents, case, Cyrillic folded) for dedup; the spelling stays as written."""
        return normalize_name(f"{self.family_name} {self.given_names}")


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
                    "column": headers.get(field, field),
                    "value": safe_value(raw.get(field)),
                    "reason": message,
                }
            )
        return None, errors
