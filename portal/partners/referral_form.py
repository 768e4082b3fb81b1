"""The referral page's form: one person, the files' validation, the duplicate warning, and the
submit that enters through the file path (a one-row referral file, issue 20).

The form's fields are the fields of :class:`tasks.files.rows.ReferralRow`, so a person typed on
the page passes exactly the checks a row of a partner's spreadsheet passes, with the same
Italian messages, shown next to each field. A valid form is written as a one-row CSV under
``<var>/segnalazioni/<ORG>/`` (deleted once read) and imported by the referral stage's own functions
(tasks/referral/ingest.py: ingest, dedup, acceptance, acknowledgement); the import's events are
announced by :func:`tasks.files.imports.finish_import` after the commit, or by the maintenance
sweep when Prefect does not answer. Nothing is forked: only the consent's source (with the privacy
notice's version) and the referral's channel say the row came from the page.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from config.data import load_routing
from config.privacy_notice import PrivacyNotice
from config.settings import get_settings
from models import clock
from models.cases import Case
from models.enums import Channel, State
from models.labels import label
from models.people import Consent, Person, Referral
from models.state_machine import TERMINAL
from tasks.files.headers import kinds
from tasks.files.rows import ReferralRow, validate_row
from tasks.matching.dedup import DedupThresholds, PersonRecord, find_duplicates
from tasks.referral.ingest import accept_import, acknowledge_import, deduplicate_import, ingest_referral_file

#: (field, Italian label, input type, hint) in the order of the page.
FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("family_name", "Cognome", "text", "Come nel documento della persona."),
    ("given_names", "Nome", "text", "Tutti i nomi, come nel documento."),
    ("birth_date", "Data di nascita", "text", "Giorno, mese e anno: per esempio 14/03/1987."),
    ("sex", "Sesso", "select", ""),
    ("birth_place", "Luogo o Paese di nascita", "text", ""),
    ("citizenship", "Cittadinanza", "text", ""),
    ("codice_fiscale", "Codice fiscale", "text", "16 caratteri, oppure il codice provvisorio di 11 cifre."),
    ("phone", "Telefono", "tel", "Anche un numero straniero, con il prefisso del Paese."),
    ("email", "Email", "email", ""),
    ("municipality", "Comune di residenza o domicilio", "text", "Serve a scegliere il Centro per l'Impiego."),
    ("languages", "Lingue parlate", "text", "Separate da virgole, per esempio: ucraino, russo, inglese."),
    ("italian_level", "Livello di italiano", "select", "Come lo dichiara la persona."),
    ("education", "Titolo di studio", "text", ""),
    ("experiences", "Esperienze di lavoro", "textarea", "Mestieri svolti, anche nel Paese di origine."),
    ("licence", "Patente", "text", ""),
    ("permit_type", "Permesso di soggiorno", "text", "Per esempio: protezione temporanea, asilo."),
    ("permit_expiry", "Scadenza del permesso", "text", "Giorno, mese e anno: per esempio 30/06/2027."),
)
REQUIRED = frozenset({"family_name", "given_names"})
SEX_CHOICES = (("", "— non indicato —"), ("F", "femmina"), ("M", "maschio"))
LEVEL_CHOICES = (("", "— non indicato —"), *((v, v) for v in ("pre-A1", "A1", "A2", "B1", "B2", "C1", "C2")))
CONSENTS = ("consent_privacy", "consent_confindustria")
CONFIRM_DUPLICATE = "conferma_duplicato"
NO_PRIVACY = (
    "Senza il consenso della persona al trattamento dei dati la segnalazione non può essere ricevuta: "
    "leggete l'informativa alla persona e spuntate la casella se è d'accordo."
)
#: Most people compared with a new one (the SQL pre-selection by identifiers, name and date).
CANDIDATES_MAX = 200


@dataclass
class FormCheck:
    """The outcome of one submitted form: the validated row or the errors per field."""

    values: dict[str, str]
    row: ReferralRow | None = None
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DuplicateWarning:
    """A possible person already referred; ``own`` only when this organisation referred them."""

    own: bool
    name: str = ""
    case_code: str = ""
    stage: str = ""


@dataclass(frozen=True)
class Submitted:
    """What the submit did: the case code and whether the same form had been received before."""

    case_code: str
    repeated: bool = False


def check_form(form: Mapping[str, str]) -> FormCheck:
    """Validate the form as a file row (tasks/files/rows.py); errors keyed by field, in Italian."""
    values = {name: form.get(name, "").strip() for name, *_ in FIELDS}
    values.update({c: "si" if form.get(c) else "" for c in CONSENTS})
    raw: dict[str, object] = {name: values[name] for name, *_ in FIELDS}
    raw.update({c: "SI" if values[c] else "NO" for c in CONSENTS})
    row, problems = validate_row(raw, {name: name for name in raw})  # column == field name
    check = FormCheck(values=values, row=row)
    for problem in problems:
        name = problem["column"] if problem["column"] in raw else "codice_fiscale"
        reason = problem["reason"]
        if reason == "campo obbligatorio vuoto":
            reason = "Campo obbligatorio: scrivetelo come nel documento della persona."
        check.errors.setdefault(name, reason[:1].upper() + reason[1:])
    if not values["consent_privacy"]:
        check.errors["consent_privacy"] = NO_PRIVACY
    if check.errors:
        check.row = None
    return check


def find_possible_duplicates(session: Session, row: ReferralRow, org_code: str) -> list[DuplicateWarning]:
    """People with an open case who may be this one (the import's own dedup rules), as warnings
    that name a person only when ``org_code`` referred them itself; others' referrals stay neutral."""
    clauses = [col(Person.name_norm) == row.name_norm]
    if row.codice_fiscale:
        clauses.append(col(Person.codice_fiscale) == row.codice_fiscale)
    if row.phone:
        clauses.append(col(Person.phone) == row.phone)
    if row.email:
        clauses.append(col(Person.email) == row.email)
    if row.birth_date:
        clauses.append(col(Person.birth_date) == row.birth_date)
    found = session.exec(
        select(Person, Case)
        .join(Case, col(Case.person_key) == col(Person.key))
        .where(or_(*clauses), col(Case.state).not_in([s.value for s in TERMINAL]))
        .limit(CANDIDATES_MAX)
    ).all()
    if not found:
        return []
    existing = [_record(p) for p, _ in found]
    new = PersonRecord(
        key="__nuova__",
        family_name=row.family_name,
        given_names=row.given_names,
        birth_date=row.birth_date,
        codice_fiscale=row.codice_fiscale,
        phone=row.phone,
        email=row.email,
    )
    rules = load_routing().dedup
    thresholds = DedupThresholds(merge=rules.merge_threshold, review=rules.review_threshold)
    decision = find_duplicates([new], existing, thresholds)[0]
    if decision.match_key is None or decision.band == "new":
        return []
    case = next(c for p, c in found if p.key == decision.match_key)
    own = session.exec(
        select(Person)
        .join(Referral, col(Referral.person_key) == col(Person.key))
        .where(
            col(Referral.referrer_code) == org_code,
            or_(col(Referral.case_id) == case.id, col(Referral.person_key) == case.person_key),
        )
        .order_by(col(Referral.id))
    ).first()
    if own is None:
        return [DuplicateWarning(own=False)]
    return [
        DuplicateWarning(
            own=True,
            name=f"{own.family_name} {own.given_names}".strip(),
            case_code=case.code,
            stage=label(State(case.state)),
        )
    ]


def _record(p: Person) -> PersonRecord:
    return PersonRecord(
        key=p.key,
        family_name=p.family_name,
        given_names=p.given_names,
        birth_date=p.birth_date,
        codice_fiscale=p.codice_fiscale,
        phone=p.phone,
        email=p.email,
        native_family_name=p.native_family_name or None,
        native_given_names=p.native_given_names or None,
    )


def referral_csv(check: FormCheck) -> bytes:
    """The form as a one-row referral file, headed with each field's first alias in
    config/columns.yaml (what the file path reads), consents as SI/NO."""
    aliases = kinds()["referral"]
    names = [name for name, *_ in FIELDS] + list(CONSENTS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([aliases[name][0] for name in names])
    writer.writerow([("SI" if check.values[n] else "NO") if n in CONSENTS else check.values[n] for n in names])
    return out.getvalue().encode("utf-8")


def submit_referral(session: Session, check: FormCheck, org_code: str, notice: PrivacyNotice) -> tuple[Submitted, int]:
    """Import the form as a one-row referral file (ingest, dedup, acceptance, acknowledgement, in
    the caller's transaction); returns what happened and the import id (its ``finish`` step, the
    announcement to Prefect, follows the commit). The same form sent twice is the same file:
    imported once."""
    body = referral_csv(check)
    now = clock.now()
    folder = Path(get_settings().var_dir) / "segnalazioni" / org_code
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"modulo-web-{now:%Y-%m-%d-%H%M%S}-{secrets.token_hex(3)}.csv"
    path.write_bytes(body)
    try:
        summary = ingest_referral_file(session, path, org_code)
    finally:
        # The database is the record (the import keeps the file's name and digest): no copy of a
        # person's data stays on disk, out of reach of erasure. A rollback loses only the form.
        path.unlink(missing_ok=True)
    if summary.already_imported:
        return Submitted(case_code=_case_of_import(session, summary.import_id), repeated=True), summary.import_id
    import_id = summary.import_id
    source = f"partner_form:{import_id}:informativa:{notice.version}"
    keys = select(Referral.person_key).where(col(Referral.import_file_id) == import_id)
    session.connection().execute(
        update(Consent).where(col(Consent.person_key).in_(keys.scalar_subquery())).values(source=source)
    )
    session.connection().execute(
        update(Referral).where(col(Referral.import_file_id) == import_id).values(channel=Channel.FORM)
    )
    deduplicate_import(session, import_id)
    accept_import(session, import_id)
    acknowledge_import(session, import_id)
    # a merged referral now points at the case the person already had: that is the code to show
    return Submitted(case_code=_case_of_import(session, import_id)), import_id


def _case_of_import(session: Session, import_id: int) -> str:
    code = session.exec(
        select(Case.code)
        .join(Referral, col(Referral.case_id) == col(Case.id))
        .where(col(Referral.import_file_id) == import_id)
    ).first()
    return code or ""
