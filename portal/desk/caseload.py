"""Pratiche: my caseload, searched by name (any script), tax code, phone or case code, and filtered.

The search box is sent by POST: what was typed (a name, a phone) stays out of URLs, browser
history and access logs. The filters (state, next step, overdue) are codes and go by GET.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from config.next_steps import load_next_steps
from models import clock
from models.enums import State
from portal.desk.app import DB, Form, User, actor, check_csrf, render
from portal.desk.cases import audit_reads, search_cases
from portal.desk.labels import STATE_ONE

router = APIRouter()


def _filters(values: dict[str, str]) -> dict[str, Any]:
    state = values.get("stato") or ""
    step = values.get("passo") or ""
    return {
        "state": State(state) if state in {s.value for s in State} else None,
        "next_step": step if step in load_next_steps().steps else None,
        "overdue": values.get("scadute") == "1",
    }


def _page(request: Request, session: Session, me: User, text: str, values: dict[str, str]) -> HTMLResponse:
    filters = _filters(values)
    rows = search_cases(session, me.user, text, today=clock.today(), **filters)
    audit_reads(session, actor(me), [r.case.code for r in rows], "scrivania: ricerca pratiche")
    session.commit()
    return render(
        request,
        "caseload.html",
        me=me,
        rows=rows,
        text=text,
        searched=bool(text.strip()),
        chosen=values,
        states=[(s.value, label) for s, label in STATE_ONE.items()],
        steps=sorted(((code, step.label) for code, step in load_next_steps().steps.items()), key=lambda x: x[1]),
        today=clock.today(),
        current="pratiche",
    )


@router.get("/pratiche", response_class=HTMLResponse)
def caseload(request: Request, session: DB, me: User) -> HTMLResponse:
    return _page(request, session, me, "", dict(request.query_params))


@router.post("/pratiche", response_class=HTMLResponse)
def search(request: Request, session: DB, me: User, form: Form) -> HTMLResponse:
    check_csrf(me, form)
    return _page(request, session, me, form.get("q", "")[:200], form)
