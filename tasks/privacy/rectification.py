"""Art. 16 rectification: validated corrections of identifiers, the values waiting in a private request file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from models import clock
from models.enums import Language
from models.people import Person, PersonKey
from tasks.core.audit import audit_read
from tasks.files.normalize import name_key, normalize_cf, normalize_email, normalize_name, normalize_phone
from tasks.privacy.export import private_dir
from tasks.privacy.identifiers import ACTOR, PrivacyError, check_case_code, find_case

# --------------------------------------------------------------------------------------------
# Art. 16 rectification


RECTIFIABLE = (
    "family_name",
    "given_names",
    "native_family_name",
    "native_given_names",
    "birth_date",
    "sex",
    "birth_place",
    "citizenship",
    "codice_fiscale",
    "phone",
    "email",
    "municipality",
    "permit_type",
    "permit_expiry",
    "languages",
    "preferred_language",
)

_LABELS = {
    "family_name": "cognome",
    "given_names": "nome",
    "native_family_name": "cognome (scrittura originale)",
    "native_given_names": "nome (scrittura originale)",
    "birth_date": "data di nascita",
    "sex": "sesso",
    "birth_place": "luogo di nascita",
    "citizenship": "cittadinanza",
    "codice_fiscale": "codice fiscale",
    "phone": "telefono",
    "email": "e-mail",
    "municipality": "comune di residenza",
    "permit_type": "tipo di permesso",
    "permit_expiry": "scadenza del permesso",
    "languages": "lingue",
    "preferred_language": "lingua preferita",
}


def _parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    raise ValueError("data non valida: usare gg/mm/aaaa o aaaa-mm-gg")


def _clean(name: str, value: Any) -> Any:
    """One field, validated and normalised; ValueError with an Italian reason (no value quoted)."""
    if name in ("birth_date", "permit_expiry"):
        parsed = _parse_date(value)
        if name == "birth_date" and parsed is not None and not (date(1900, 1, 1) <= parsed <= clock.today()):
            raise ValueError("data di nascita fuori dall'intervallo plausibile")
        return parsed
    if name == "languages":
        items = value if isinstance(value, list) else str(value or "").split(",")
        return [str(i).strip() for i in items if str(i).strip()]
    if name == "preferred_language":
        try:
            return Language(str(value).strip().lower())
        except ValueError:
            raise ValueError(f"lingua non gestita: ammesse {', '.join(v.value for v in Language)}") from None
    text = "" if value is None else " ".join(str(value).split())
    if name in ("family_name", "given_names"):
        if not text:
            raise ValueError("obbligatorio")
        return text
    if not text:
        return "" if name.startswith("native_") else None
    checks = {"codice_fiscale": normalize_cf, "phone": normalize_phone, "email": normalize_email}
    if name in checks:
        normalised = checks[name](text)
        if normalised is None:
            raise ValueError("formato non valido")
        return normalised
    if name == "sex" and text.upper() not in ("M", "F", "X"):
        raise ValueError("ammessi M, F o X")
    return text.upper() if name == "sex" else text


def validate_rectification(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Every change checked at once; a :class:`PrivacyError` lists each bad field and why."""
    errors: list[str] = []
    clean: dict[str, Any] = {}
    if not changes:
        raise PrivacyError("nessuna correzione indicata")
    for name, value in changes.items():
        if name not in RECTIFIABLE:
            errors.append(f"campo «{name}» non correggibile (ammessi: {', '.join(RECTIFIABLE)})")
            continue
        try:
            clean[name] = _clean(name, value)
        except ValueError as exc:
            errors.append(f"{_LABELS[name]} ({name}): {exc}")
    if errors:
        raise PrivacyError("rettifica rifiutata, nulla è stato modificato: " + "; ".join(errors))
    return clean


def rectify_person(session: Session, case_code: str, changes: Mapping[str, Any], *, actor: str = ACTOR) -> list[str]:
    """Art. 16: apply validated corrections to the person of ``case_code``; returns the fields changed."""
    clean = validate_rectification(changes)
    case = find_case(session, case_code)
    person = session.exec(select(Person).where(Person.key == case.person_key)).first()
    key = session.get(PersonKey, case.person_key)
    if person is None or (key is not None and key.erased_at is not None):
        raise PrivacyError(f"pratica {case.code}: i dati della persona sono stati cancellati, nulla da rettificare")
    changed = [n for n, v in clean.items() if getattr(person, n) != v]
    for name in changed:
        setattr(person, name, clean[name])
    if {"family_name", "given_names"} & set(changed):
        person.name_norm = normalize_name(f"{person.family_name} {person.given_names}")
        person.name_key = name_key(person.name_norm)  # the desk finds the new name
    if "phone" in changed:  # the old number as written goes too; the new one was checked valid
        person.phone_raw, person.phone_verified = None, person.phone is not None
    session.add(person)
    audit_read(
        session,
        actor=actor,
        case_code=case.code,
        purpose=f"Art. 16 GDPR: rettifica di {', '.join(changed) or 'nessun campo (valori già corretti)'}",
        action="rectification",
    )
    return changed


def rectification_request_path(case_code: str) -> Path:
    """Where an operator's rectification waits for the flow: ``var/private/requests/rettifica-<code>.json``."""
    return private_dir("requests") / f"rettifica-{check_case_code(case_code)}.json"


def save_rectification_request(case_code: str, changes: Mapping[str, Any]) -> Path:
    """Validate and store a rectification for the ``rectification`` flow (values never go to Prefect)."""
    validate_rectification(changes)
    path = rectification_request_path(case_code)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(changes), ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(path)
    return path


def load_rectification_request(case_code: str) -> dict[str, Any]:
    path = rectification_request_path(case_code)
    if not path.exists():
        raise PrivacyError(
            f"nessuna richiesta di rettifica per la pratica {check_case_code(case_code)}: "
            f"registrarla prima in {path.parent} (save_rectification_request)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise PrivacyError(
            f"{path.name}: file di rettifica illeggibile (JSON non valido); registrarla di nuovo"
        ) from None
    if not isinstance(data, dict):
        raise PrivacyError(f"{path.name}: atteso un oggetto JSON campo → valore")
    return data


def apply_rectification_request(session: Session, case_code: str, *, actor: str = ACTOR) -> list[str]:
    """Apply the stored request of ``case_code``; the file is removed once the change is written."""
    changed = rectify_person(session, case_code, load_rectification_request(case_code), actor=actor)
    session.flush()
    return changed


def delete_rectification_request(case_code: str) -> None:
    rectification_request_path(case_code).unlink(missing_ok=True)
