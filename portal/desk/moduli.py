"""Moduli: the suspended Prefect forms of my office, with the names beside the codes.

The page is drawn from the form's own schema (the same form the Prefect UI shows); the answer
goes back to Prefect with codes, levels and yes/no only, exactly once
(``tasks.runtime.prefect_api.answer_form``); who answered is recorded here, in the audit log,
never in Prefect. An intake form is pre-filled with the present/absent marks of Oggi.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, select

from models.accounts import Attendance, Role
from models.cases import Case
from models.ops import AuditLog
from portal.desk.app import DB, PREFIX, DeskRefusal, Form, SignedIn, User, actor, check_csrf, desk_of, render
from portal.desk.cases import audit_reads, office_scope, people_of
from portal.desk.forms_source import FormSchema, FormsUnavailable, PendingForm
from tasks.maintenance import FORM_LABELS
from tasks.runtime.prefect_api import FormAlreadyAnswered, FormNotReady, FormRefused

router = APIRouter()
_RUN_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: Fields shown but not changed at the desk (what the form is about).
READ_ONLY = frozenset({"case_code", "review_id", "candidate_code", "score", "options", "vacancy_code"})
#: Words for the stored values of the forms' choice lists.
VALUE_LABELS: dict[str, str] = {
    "not_needed": "non necessario",
    "not_requested": "non richiesto",
    "in_progress": "in corso",
    "recognised": "riconosciuto",
    "none": "nessuna",
    "forklift": "patentino muletto",
    "full_time": "tempo pieno",
    "part_time": "part-time",
    "shifts": "turni",
    "passed": "superato",
    "failed": "non superato",
    "dropped": "ritirato",
    "assign": "assegna la misura",
    "back_to_pool": "riproponi alle aziende",
    "defer": "rinvia",
    "close": "chiudi la pratica",
    "0": "0 – nessun titolo",
    "1": "1 – primaria",
    "2": "2 – secondaria di primo grado",
    "3": "3 – diploma",
    "4": "4 – post-diploma",
    "5": "5 – terziaria breve",
    "6": "6 – laurea triennale",
    "7": "7 – laurea magistrale",
    "8": "8 – dottorato",
    "pre-A1": "pre-A1",
}


def _mine(me: SignedIn, form: PendingForm) -> bool:
    return me.user.role is not Role.OPERATOR or form.office == me.user.office_code


def _pending(request: Request, me: SignedIn) -> list[PendingForm]:
    try:
        return [f for f in desk_of(request).forms.pending() if _mine(me, f)]
    except FormsUnavailable:
        raise DeskRefusal(
            503,
            "Moduli non disponibili",
            "Il motore delle procedure (Prefect) non risponde: riprovate tra qualche minuto.",
        ) from None


def _names(session: Session, me: SignedIn, codes: list[str]) -> dict[str, str]:
    """Case code → the person's name, for the cases this account may see."""
    if not codes:
        return {}
    cases = list(session.exec(select(Case).where(col(Case.code).in_(codes), office_scope(me.user))).all())
    people = people_of(session, cases)
    names = {}
    for case in cases:
        person = people.get(case.person_key)
        if person is not None:
            native = f"{person.native_family_name} {person.native_given_names}".strip()
            latin = f"{person.family_name} {person.given_names}".strip()
            names[case.code] = latin + (f" ({native})" if native and native != latin else "")
    return names


@router.get("/moduli", response_class=HTMLResponse)
def forms_page(request: Request, session: DB, me: User) -> HTMLResponse:
    forms = _pending(request, me)
    codes = sorted({c for f in forms for c in f.case_codes})
    names = _names(session, me, codes)
    audit_reads(session, actor(me), sorted(names), "scrivania: moduli in attesa")
    session.commit()
    rows = [
        {"form": f, "label": FORM_LABELS.get(f.form, "modulo"), "cases": [(c, names.get(c, "")) for c in f.case_codes]}
        for f in forms
    ]
    notice = "Modulo inviato: la procedura riprende." if request.query_params.get("fatto") else None
    return render(request, "forms.html", me=me, rows=rows, current="moduli", notice=notice)


def _find(request: Request, me: SignedIn, run_id: str) -> PendingForm:
    if not _RUN_ID.match(run_id):
        raise DeskRefusal(404, "Modulo non trovato", "Nessun modulo in attesa con questo identificativo.")
    form = next((f for f in _pending(request, me) if f.run_id == run_id), None)
    if form is None:
        raise DeskRefusal(
            404, "Modulo non trovato", "Il modulo non è in attesa (già compilato?) o non è del vostro CPI."
        )
    return form


def _schema(request: Request, run_id: str) -> FormSchema:
    try:
        return desk_of(request).forms.schema(run_id)
    except FormNotReady:
        raise DeskRefusal(409, "Modulo non pronto", "Il modulo non è ancora pronto: riprovate tra un minuto.") from None


def _resolve(schema: FormSchema, prop: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref") or next((p.get("$ref") for p in prop.get("allOf", []) if "$ref" in p), None)
    if ref:
        return {**schema.defs.get(ref.rsplit("/", 1)[-1], {}), **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop


def _kind(schema: FormSchema, prop: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """How a field is drawn: choice (with options), several choices (a list of choices: boxes to
    tick), yesno, optional yesno, number, list (of codes, typed) or text."""
    resolved = _resolve(schema, prop)
    if "enum" in resolved:
        return "choice", _options(resolved)
    branches = [_resolve(schema, p) for p in resolved.get("anyOf", [])] or [resolved]
    types = {p.get("type") for p in branches}
    if "boolean" in types:
        return ("maybe" if "null" in types else "yesno"), []
    if types & {"integer", "number"}:
        return "number", []
    if "array" in types:
        items = _resolve(schema, next(p for p in branches if p.get("type") == "array").get("items") or {})
        return ("several", _options(items)) if "enum" in items else ("list", [])
    return "text", []


def _options(prop: dict[str, Any]) -> list[tuple[str, str]]:
    """(value, words) of a choice list: the values are what the form takes (often words already)."""
    return [(str(v), VALUE_LABELS.get(str(v), str(v))) for v in prop["enum"]]


def _fields(schema: FormSchema) -> list[dict[str, Any]]:
    fields = []
    for name, prop in schema.row_schema.get("properties", {}).items():
        kind, options = _kind(schema, prop)
        fields.append(
            {
                "name": name,
                "title": prop.get("title") or name,
                "help": prop.get("description") or "",
                "kind": kind,
                "options": options,
                "readonly": name in READ_ONLY,
            }
        )
    return fields


def _prefill_attendance(session: Session, rows: list[dict[str, Any]]) -> None:
    """The intake form's "present" from the desk's marks (the latest mark of each case)."""
    codes = [r["case_code"] for r in rows if isinstance(r.get("case_code"), str) and "present" in r]
    if not codes:
        return
    marks: dict[str, bool] = {}
    for code, present in session.exec(
        select(Case.code, Attendance.present)
        .join(Attendance, col(Attendance.case_id) == col(Case.id))
        .where(col(Case.code).in_(codes))
        .order_by(col(Attendance.day), col(Attendance.id))
    ).all():
        marks[code] = present
    for r in rows:
        if r.get("case_code") in marks:
            r["present"] = marks[r["case_code"]]


@router.get("/moduli/{run_id}", response_class=HTMLResponse)
def form_page(request: Request, run_id: str, session: DB, me: User) -> HTMLResponse:
    pending = _find(request, me, run_id)
    schema = _schema(request, run_id)
    rows = [dict(r) for r in schema.rows]
    _prefill_attendance(session, rows)
    names = _names(session, me, [str(r.get("case_code")) for r in rows if r.get("case_code")])
    audit_reads(session, actor(me), sorted(names), f"scrivania: modulo {run_id}")
    session.commit()
    return render(
        request,
        "form.html",
        me=me,
        pending=pending,
        label=FORM_LABELS.get(pending.form, "modulo"),
        schema=schema,
        fields=_fields(schema),
        rows=rows,
        names=names,
        value_labels=VALUE_LABELS,
        current="moduli",
    )


def _read_value(kind: str, raw: str | None, original: Any) -> Any:
    text = (raw or "").strip()
    if kind == "yesno":
        return text == "si"
    if kind == "maybe":
        return {"si": True, "no": False}.get(text)
    if kind == "number":
        try:
            return float(text) if "." in text else int(text)
        except ValueError:
            return original
    if kind == "list":
        return [part.strip() for part in re.split(r"[,\s;]+", text) if part.strip()]
    return text


def read_answer(schema: FormSchema, form: dict[str, str]) -> dict[str, Any]:
    """The posted fields back into the form's rows (read-only fields as the form gave them). A
    list of choices comes as one box per choice (``r0.skills.3``: the fourth choice ticked), so
    only values of the list can be sent."""
    fields = _fields(schema)
    rows = []
    for i, original in enumerate(schema.rows):
        row = dict(original)
        for f in fields:
            name = f"r{i}.{f['name']}"
            if f["readonly"]:
                continue
            if f["kind"] == "several":
                row[f["name"]] = [value for k, (value, _) in enumerate(f["options"]) if form.get(f"{name}.{k}")]
            else:
                row[f["name"]] = _read_value(f["kind"], form.get(name), original.get(f["name"]))
        rows.append(row)
    return {schema.field: rows}


@router.post("/moduli/{run_id}")
def answer(request: Request, run_id: str, session: DB, me: User, form: Form) -> RedirectResponse:
    check_csrf(me, form)
    if me.user.role is Role.PRIVACY_OFFICER:
        raise DeskRefusal(403, "Operazione non consentita", "I moduli delle procedure sono compilati dal CPI.")
    _find(request, me, run_id)
    schema = _schema(request, run_id)
    try:
        desk_of(request).forms.answer(run_id, read_answer(schema, form))
    except FormAlreadyAnswered:
        raise DeskRefusal(409, "Modulo già compilato", "Qualcun altro ha già inviato questo modulo.") from None
    except FormRefused:
        raise DeskRefusal(
            422, "Risposta non accettata", "Il modulo contiene valori non ammessi: controllate i campi e riprovate."
        ) from None
    # who answered, in the application database only: one row per case of the form (each case's
    # access log shows it), or one for the form when it has no case rows
    codes = sorted({str(r["case_code"]) for r in schema.rows if isinstance(r.get("case_code"), str)})
    if codes:
        audit_reads(session, actor(me), codes, f"modulo {run_id}", action="form_answer")
    else:
        session.add(AuditLog(actor=actor(me), action="form_answer", case_code=None, purpose=f"modulo {run_id}"))
    session.commit()
    return RedirectResponse(f"{PREFIX}/moduli?fatto=1", status_code=303)
