"""Closing a case by hand, with a typed reason (issue 18: no case is left where nobody looks).

An operator (desk, CLI ``incontro close``, the coordinators' Prefect form) closes open cases with
one of :data:`OPERATOR_REASONS`. The move goes through :func:`transition_many` (guards, optimistic
check, one ``case_event`` per case with the reason *code*, the next step cleared); the free-text
note of ``other`` may hold personal details, so it goes to the audit log in the application
database only, never to a ``case_event`` (whose reasons reach the run's Prefect artifact).

The referrer is told by ``tasks/mail/closure_notice.py: tell_referrers`` (this layer cannot queue
mail): the CLI and the flow call it in the same transaction, and the maintenance sweep tells the
referrers of any closure still untold (a desk closure, a run killed between the two).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from models import clock
from models.cases import Case
from models.enums import CloseReason, State
from models.state_machine import OPEN
from tasks.core.audit import audit_read
from tasks.core.transitions import transition_many

#: The reasons of a closure; the enum of models/enums.py, one list for every closing path.
ClosureReason = CloseReason

#: What a person reads for each reason (forms, CLI, emails): never the code.
CLOSURE_LABELS: dict[CloseReason, str] = {
    CloseReason.MOVED_AWAY: "trasferita fuori dal territorio",
    CloseReason.FOUND_JOB_ALONE: "ha trovato lavoro autonomamente",
    CloseReason.NOT_REACHABLE: "non più reperibile",
    CloseReason.NOT_INTERESTED: "non più interessata al percorso",
    CloseReason.NO_SHOW_REPEATED: "assenze ripetute agli appuntamenti",
    CloseReason.OTHER: "altro motivo",
    CloseReason.CONSENT_WITHDRAWN: "consenso al trattamento revocato",
    CloseReason.RETENTION: "termine di conservazione dei dati",
}

#: The reasons an operator may choose (consent withdrawal and retention have their own paths).
OPERATOR_REASONS: tuple[CloseReason, ...] = (
    CloseReason.MOVED_AWAY,
    CloseReason.FOUND_JOB_ALONE,
    CloseReason.NOT_REACHABLE,
    CloseReason.NOT_INTERESTED,
    CloseReason.NO_SHOW_REPEATED,
    CloseReason.OTHER,
)

#: Longest note kept with a closure (a sentence or two, not a file).
NOTE_MAX = 500

#: The ``audit_log.action`` of a closure (the note, when given, is in its ``purpose``).
AUDIT_ACTION = "case_closed"

_ENDED: dict[State, str] = {
    State.DUPLICATE: "è stata unita a un'altra pratica",
    State.REJECTED: "è stata respinta",
    State.HIRED: "è conclusa con un'assunzione",
    State.WITHDRAWN: "è stata ritirata",
    State.CLOSED: "è già chiusa",
    State.ERASED: "è stata cancellata",
}


class ClosureRefused(ValueError):
    """A closure that cannot be done as asked; the message says why, in Italian."""


def closure_label(reason: CloseReason | str) -> str:
    """The Italian words for a closure reason (an unknown value reads as "altro motivo")."""
    try:
        return CLOSURE_LABELS[CloseReason(reason)]
    except ValueError:
        return CLOSURE_LABELS[CloseReason.OTHER]


def parse_reason(value: CloseReason | str) -> CloseReason:
    """An operator's reason, by code or by its Italian label; refused when not one of theirs."""
    text = str(getattr(value, "value", value)).strip()
    by_label = {label.casefold(): reason for reason, label in CLOSURE_LABELS.items()}
    reason = by_label.get(text.casefold())
    if reason is None:
        try:
            reason = CloseReason(text.lower().replace("-", "_"))
        except ValueError:
            reason = None
    if reason not in OPERATOR_REASONS:
        choices = "; ".join(f"{r.value} ({CLOSURE_LABELS[r]})" for r in OPERATOR_REASONS)
        raise ClosureRefused(f"motivo di chiusura non previsto: «{text}». Motivi possibili: {choices}")
    return reason


def clean_note(reason: CloseReason, note: str | None) -> str | None:
    """The note, trimmed; required (and refused when empty) for ``other``."""
    text = " ".join((note or "").split())
    if reason is CloseReason.OTHER and not text:
        raise ClosureRefused("per il motivo «altro motivo» serve una nota che spieghi perché la pratica si chiude")
    if len(text) > NOTE_MAX:
        raise ClosureRefused(f"la nota è troppo lunga ({len(text)} caratteri, al massimo {NOTE_MAX})")
    return text or None


def closing_problems(found: dict[str, State], wanted: Sequence[str]) -> list[str]:
    """Why each code of ``wanted`` cannot be closed (``found``: the state of each known code)."""
    problems: list[str] = []
    for code in wanted:
        state = found.get(code)
        if state is None:
            problems.append(f"{code}: pratica non trovata")
        elif state not in OPEN:
            problems.append(f"{code}: la pratica {_ENDED.get(state, 'non è aperta')}")
    return problems


def normalise_codes(codes: Sequence[str]) -> list[str]:
    """Case codes as stored (upper case, no spaces), each once, in the order given."""
    return list(dict.fromkeys(c.strip().upper() for c in codes if c and c.strip()))


def check_closures(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """What is wrong with a form's rows ``{case_code, reason}`` (reason: code or Italian label),
    in Italian; empty when every row can be closed."""
    problems: list[str] = []
    codes = normalise_codes([str(r.get("case_code") or "") for r in rows])
    found = dict(session.exec(select(Case.code, Case.state).where(col(Case.code).in_(codes))).all())
    problems += closing_problems({code: State(state) for code, state in found.items()}, codes)
    for row in rows:
        code = str(row.get("case_code") or "").strip().upper() or "riga senza pratica"
        if not row.get("reason"):
            problems.append(f"{code}: scegliere il motivo della chiusura")
            continue
        try:
            parse_reason(str(row["reason"]))
        except ClosureRefused as exc:
            problems.append(f"{code}: {exc}")
    return problems


def close_cases(
    session: Session,
    codes: Sequence[str],
    reason: ClosureReason | str,
    *,
    note: str | None,
    actor: str,
    today: date | None = None,
    flow_run_id: str | None = None,
) -> list[str]:
    """Close the open cases ``codes`` with ``reason`` inside the caller's transaction; returns
    the codes closed.

    All or nothing: an unknown code, a case no longer open, an unknown reason or ``other``
    without a note raises :class:`ClosureRefused` naming every problem, and nothing moves. Each
    case gets a ``case_event`` with the reason code and loses its next step; the note (personal
    details possibly) and who closed go to the audit log. The referrer's email is queued by
    ``tasks.mail.closure_notice.tell_referrers`` (see the module docstring).
    """
    chosen = parse_reason(reason)
    text = clean_note(chosen, note)
    wanted = normalise_codes(codes)
    if not wanted:
        raise ClosureRefused("nessuna pratica indicata da chiudere")
    cases = {c.code: c for c in session.exec(select(Case).where(col(Case.code).in_(wanted))).all()}
    problems = closing_problems({code: State(c.state) for code, c in cases.items()}, wanted)
    if problems:
        raise ClosureRefused("nessuna pratica chiusa: " + "; ".join(problems))
    moves = [(cases[code], chosen.value) for code in wanted]
    transition_many(session, moves, State.CLOSED, actor=actor, flow_run_id=flow_run_id)
    day = (today or clock.today()).isoformat()
    for code in wanted:
        purpose = f"chiusura della pratica il {day}: {CLOSURE_LABELS[chosen]}"
        audit_read(
            session,
            actor=actor,
            case_code=code,
            purpose=f"{purpose}. Nota: {text}" if text else purpose,
            action=AUDIT_ACTION,
        )
    return wanted
