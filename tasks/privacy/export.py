"""Art. 15 access export: the person's data as JSON and HTML under var/private, never through Prefect."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_
from sqlmodel import Session, SQLModel, col, select

from config.settings import get_settings
from models.cases import Assessment, Case, CaseEvent, Enrollment, Profile
from models.clock import utcnow
from models.enums import OutboxStatus
from models.exchange import DispatchBatch, DispatchItem, Interest, Match, Outcome
from models.ops import AuditLog, Outbox
from models.people import Consent, Person, Referral
from tasks.core.audit import audit_read
from tasks.privacy.identifiers import ACTOR, cases_of, find_case, linked_keys

if TYPE_CHECKING:
    from jinja2 import Template

# --------------------------------------------------------------------------------------------
# Art. 15 access export


def private_dir(*parts: str) -> Path:
    """``var/private/...``: files with personal data, kept with the database, never with Prefect."""
    path = get_settings().var_dir.joinpath("private", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _plain(obj: SQLModel, drop: Sequence[str] = ()) -> dict[str, Any]:
    return {k: v for k, v in obj.model_dump(mode="json").items() if k not in drop}


_ACCESS_PAGE = """<!doctype html>
<html lang="it"><head><meta charset="utf-8"><title>Accesso ai dati – {{ data.richiesta.pratica }}</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th{background:#f3f3f3}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}</style></head>
<body><h1>Copia dei dati personali (art. 15 GDPR)</h1>
<p>Pratica {{ data.richiesta.pratica }} · generata il {{ data.richiesta.generata_il }}.
I dati sono trattati dal Centro per l'Impiego per il percorso «Incontro al lavoro».</p>
{% macro table(rows) -%}
{% if rows is mapping %}{% set rows = [rows] %}{% endif %}
{% if rows %}<table><tr>{% for k in rows[0] %}<th>{{ k }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for k in rows[0] %}<td>{{ r[k] if r[k] is not none else "" }}</td>{% endfor %}</tr>
{% endfor %}
</table>{% else %}<p><em>nessun dato</em></p>{% endif %}
{%- endmacro %}
{% for title, key in sections %}<h2>{{ title }}</h2>{{ table(data[key]) }}{% endfor %}
</body></html>
"""


@cache
def _html_template() -> Template:
    """The access page, compiled once per process (Jinja2 is imported here, not at flow start)."""
    from jinja2 import Environment

    return Environment(autoescape=True).from_string(_ACCESS_PAGE)


_SECTIONS = [
    ("Dati anagrafici e di contatto", "persona"),
    ("Pratiche", "pratiche"),
    ("Storia delle pratiche", "storia"),
    ("Segnalazioni", "segnalazioni"),
    ("Consensi", "consensi"),
    ("Valutazioni della lingua italiana", "valutazioni"),
    ("Corsi CPIA", "corsi"),
    ("Profilo professionale", "profili"),
    ("Invii a Confindustria", "invii"),
    ("Abbinamenti con posizioni aperte", "abbinamenti"),
    ("Risposte delle aziende", "interessi"),
    ("Esiti", "esiti"),
    ("Comunicazioni", "comunicazioni"),
    ("Registro degli accessi", "accessi"),
]


@dataclass
class ExportResult:
    json_path: Path
    html_path: Path
    sections: dict[str, int]


def collect_personal_data(session: Session, case: Case) -> dict[str, Any]:
    """Everything the application holds about the person behind ``case``, grouped for reading."""
    keys = linked_keys(session, case)
    cases = cases_of(session, keys)
    ids = [c.id for c in cases]
    codes = {c.id: c.code for c in cases}

    def per_case(model: type[SQLModel], drop: Sequence[str] = ("id",)) -> list[dict[str, Any]]:
        rows = session.exec(select(model).where(col(model.case_id).in_(ids))).all()  # type: ignore[attr-defined]
        return [{"pratica": codes.get(getattr(r, "case_id", None)), **_plain(r, (*drop, "case_id"))} for r in rows]

    batches = {b.id: b.code for b in session.exec(select(DispatchBatch)).all()}
    mail = session.exec(
        select(Outbox).where(
            or_(col(Outbox.person_key).in_(list(keys)), col(Outbox.case_code).in_(list(codes.values())))
        )
    ).all()
    return {
        "richiesta": {"pratica": case.code, "generata_il": utcnow().isoformat(timespec="seconds")},
        "persona": [
            _plain(p, ("id", "key")) for p in session.exec(select(Person).where(col(Person.key).in_(list(keys)))).all()
        ],
        "pratiche": [_plain(c, ("id", "person_key", "merged_into_id", "version")) for c in cases],
        "storia": per_case(CaseEvent, ("id", "flow_run_id")),
        "segnalazioni": [
            _plain(r, ("id", "person_key", "case_id", "import_file_id"))
            for r in session.exec(select(Referral).where(col(Referral.person_key).in_(list(keys)))).all()
        ],
        "consensi": [
            _plain(c, ("id", "person_key"))
            for c in session.exec(select(Consent).where(col(Consent.person_key).in_(list(keys)))).all()
        ],
        "valutazioni": per_case(Assessment),
        "corsi": per_case(Enrollment),
        "profili": per_case(Profile),
        "invii": [
            {"pratica": codes.get(i.case_id), "invio": batches.get(i.batch_id)}
            for i in session.exec(select(DispatchItem).where(col(DispatchItem.case_id).in_(ids))).all()
        ],
        "abbinamenti": per_case(Match),
        "interessi": per_case(Interest),
        "esiti": per_case(Outcome),
        "comunicazioni": [
            {
                "pratica": m.case_code,
                "tipo": m.kind,
                "destinatario": m.recipient_code or "interessato",
                "stato": OutboxStatus(m.status).value,
                "creata": m.created_at.isoformat(timespec="seconds"),
                "inviata": m.sent_at.isoformat(timespec="seconds") if m.sent_at else None,
            }
            for m in mail
        ],
        "accessi": [
            _plain(a, ("id",))
            for a in session.exec(select(AuditLog).where(col(AuditLog.case_code).in_(list(codes.values())))).all()
        ],
    }


def access_export(session: Session, case_code: str, *, actor: str = ACTOR, out_dir: Path | None = None) -> ExportResult:
    """Art. 15: write the person's data as JSON and as a readable HTML page under ``var/private/exports``."""
    case = find_case(session, case_code)
    audit_read(
        session,
        actor=actor,
        case_code=case.code,
        purpose="Art. 15 GDPR: copia dei dati all'interessato",
        action="access_export",
    )
    data = collect_personal_data(session, case)
    target = out_dir or private_dir("exports")
    target.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    json_path = target / f"accesso-{case.code}-{stamp}.json"
    html_path = json_path.with_suffix(".html")
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    html_path.write_text(_html_template().render(data=data, sections=_SECTIONS), encoding="utf-8")
    sections = {k: len(v) if isinstance(v, list) else 1 for k, v in data.items() if k != "richiesta"}
    return ExportResult(json_path=json_path, html_path=html_path, sections=sections)
