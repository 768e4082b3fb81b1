"""The monthly coordination table (tavolo Sistema Lavoro): agenda, meeting emails and its decisions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.next_steps import COORDINATORS
from models.cases import Case, CaseEvent, Enrollment
from models.clock import day_start, in_rome
from models.enums import ConsentPurpose, OutcomeKind, State
from models.exchange import Outcome
from models.forms import TavoloDecisionKind
from models.people import Organisation
from models.policy import OPEN_MEASURE, MeasureStatus, PolicyMeasure, TavoloMeeting
from tasks.core.consent_steps import consent_agenda
from tasks.core.next_steps import set_step
from tasks.core.transitions import transition
from tasks.mail.outbox import enqueue_email
from tasks.policy.measures import dmy
from tasks.policy.progress import STATUS_IT
from tasks.policy.register import add_event, choose_measure, measure_name, proposed_by_case, readable_rows
from tasks.policy.rules import load_policies

TAVOLO_ACTOR = "tavolo"
#: The next step tasks/literacy.py sets after two Italian courses without progress (by value:
#: stage packages do not import each other); such cases are on every agenda until decided.
LITERACY_TAVOLO = "literacy_tavolo"
#: What the CPIA reported for a course, in Italian (enrollment.outcome).
_COURSE_IT = {"passed": "superato", "failed": "non superato", "dropped": "ritirato"}


# --------------------------------------------------------------------------------------------
# The monthly coordination table


@dataclass(frozen=True)
class Agenda:
    """What the table discusses: case codes, measure codes, dates and counts only."""

    held_on: date
    since: date
    new_referrals: list[dict[str, str]] = field(default_factory=list)
    awaiting: list[dict[str, str]] = field(default_factory=list)
    ending: list[dict[str, str]] = field(default_factory=list)
    placements: list[dict[str, str]] = field(default_factory=list)
    literacy: list[dict[str, str]] = field(default_factory=list)
    consent: list[dict[str, str]] = field(default_factory=list)  # consents nobody asked for (issue 18)

    def codes(self) -> dict[str, list[str]]:
        return {
            "new_referrals": [r["case_code"] for r in self.new_referrals],
            "awaiting": [r["case_code"] for r in self.awaiting],
            "ending": [r["case_code"] for r in self.ending],
            "placements": [r["case_code"] for r in self.placements],
            "literacy": [r["case_code"] for r in self.literacy],
            "consent": [r["case_code"] for r in self.consent],
        }


_LITERACY_DECISIONS = frozenset(
    {TavoloDecisionKind.NEW_COURSE, TavoloDecisionKind.PROFILE, TavoloDecisionKind.DEFER, TavoloDecisionKind.CLOSE}
)


def _month_before(day: date) -> date:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _day(value: Any) -> date:
    return in_rome(value).date() if isinstance(value, datetime) else value


def build_agenda(session: Session, held_on: date) -> Agenda:
    """The agenda of the meeting on ``held_on``: window = since the previous meeting (or one
    month), end excluded. Sections: new referrals, POLICY cases waiting for a decision,
    measures ending within ``ending_within_days``, placements (hires) with their route."""
    rules = load_policies()
    previous = session.exec(
        select(TavoloMeeting).where(TavoloMeeting.held_on < held_on).order_by(col(TavoloMeeting.held_on).desc())
    ).first()
    since = previous.held_on if previous else _month_before(held_on)
    start, end = day_start(since), day_start(held_on)  # Rome days: an event at 00:30 is that day's

    created = session.exec(
        select(Case, CaseEvent.at)
        .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
        .where(col(CaseEvent.from_state).is_(None), col(CaseEvent.at) >= start, col(CaseEvent.at) < end)
        .where(Case.state != State.DUPLICATE)
        .order_by(col(Case.code))
    ).all()
    new_referrals = [
        {"case_code": c.code, "office": c.office_code or "—", "state": c.state.value, "on": dmy(_day(at))}
        for c, at in created
    ]

    busy = select(PolicyMeasure.case_id).where(col(PolicyMeasure.status).in_(OPEN_MEASURE))
    entered = (
        select(CaseEvent.case_id, func.max(CaseEvent.at).label("at"))
        .where(CaseEvent.to_state == State.POLICY)
        .group_by(col(CaseEvent.case_id))
        .subquery()
    )
    waiting = session.exec(
        select(Case, entered.c.at)
        .join(entered, entered.c.case_id == Case.id)
        .where(Case.state == State.POLICY, col(Case.id).not_in(busy), entered.c.at < end)
        .order_by(col(Case.code))
    ).all()
    proposals = proposed_by_case(session, [c.code for c, _ in waiting])
    awaiting = [
        {
            "case_code": c.code,
            "office": c.office_code or "—",
            "since": dmy(_day(at)),
            "days": str((held_on - _day(at)).days),
            "options": ", ".join(m.code for m in proposals.get(c.code, [])) or "—",
        }
        for c, at in waiting
    ]

    horizon = held_on + timedelta(days=rules.tavolo.ending_within_days)
    ending_rows = session.exec(
        select(Case, PolicyMeasure)
        .join(PolicyMeasure, col(PolicyMeasure.case_id) == col(Case.id))
        .where(
            col(PolicyMeasure.status).in_([MeasureStatus.STARTED, MeasureStatus.COMPLETED, MeasureStatus.INTERNSHIP]),
            col(PolicyMeasure.expected_end) >= held_on,
            col(PolicyMeasure.expected_end) <= horizon,
        )
        .order_by(col(PolicyMeasure.expected_end), col(Case.code))
    ).all()
    ending = [
        {
            "case_code": c.code,
            "measure": m.code,
            "status": STATUS_IT[m.status],
            "expected_end": dmy(m.expected_end) if m.expected_end else "—",
        }
        for c, m in ending_rows
    ]

    hires = session.exec(
        select(Case, CaseEvent.at)
        .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
        .where(CaseEvent.to_state == State.HIRED, col(CaseEvent.at) >= start, col(CaseEvent.at) < end)
        .order_by(col(Case.code))
    ).all()
    placements = []
    for c, at in hires:
        outcome = session.exec(
            select(Outcome)
            .where(Outcome.case_id == c.id, Outcome.kind == OutcomeKind.HIRED)
            .order_by(col(Outcome.id).desc())
        ).first()
        placements.append(
            {
                "case_code": c.code,
                "route": c.route or "—",
                "company": outcome.company_code or "—" if outcome else "—",
                "days": str(outcome.length_days) if outcome and outcome.length_days is not None else "—",
                "on": dmy(_day(at)),
            }
        )
    return Agenda(
        held_on,
        since,
        new_referrals,
        awaiting,
        ending,
        placements,
        literacy_stalled(session),
        consent_agenda(session, held_on),
    )


def literacy_stalled(session: Session) -> list[dict[str, str]]:
    """LITERACY cases sent to the table after Italian courses without progress: courses taken
    and how the last two ended (codes and Italian words only)."""
    cases = session.exec(
        select(Case).where(Case.state == State.LITERACY, Case.next_step == LITERACY_TAVOLO).order_by(col(Case.code))
    ).all()
    rows = []
    for c in cases:
        ended = [
            _COURSE_IT[o]
            for o in session.exec(
                select(Enrollment.outcome).where(Enrollment.case_id == c.id).order_by(col(Enrollment.id))
            ).all()
            if o in _COURSE_IT
        ]
        rows.append(
            {
                "case_code": c.code,
                "office": c.office_code or "—",
                "courses": str(len(ended)),
                "last": ", ".join(ended[-2:]) or "—",
                "since": dmy(c.next_due) if c.next_due else "—",
            }
        )
    return rows


_SECTIONS = (
    (
        "new_referrals",
        "Nuove segnalazioni",
        (("case_code", "Pratica"), ("office", "CPI"), ("state", "Stato"), ("on", "Segnalata il")),
    ),
    (
        "awaiting",
        "In attesa di decisione",
        (
            ("case_code", "Pratica"),
            ("office", "CPI"),
            ("since", "In politica dal"),
            ("days", "Giorni"),
            ("options", "Misure proposte"),
        ),
    ),
    (
        "ending",
        "Misure in scadenza",
        (("case_code", "Pratica"), ("measure", "Misura"), ("status", "Stato"), ("expected_end", "Fine prevista")),
    ),
    (
        "placements",
        "Inserimenti lavorativi",
        (
            ("case_code", "Pratica"),
            ("route", "Percorso"),
            ("company", "Azienda"),
            ("days", "Giorni contratto"),
            ("on", "Data"),
        ),
    ),
    (
        "literacy",
        "Corsi di italiano senza progressi",
        (
            ("case_code", "Pratica"),
            ("office", "CPI"),
            ("courses", "Corsi frequentati"),
            ("last", "Esito degli ultimi corsi"),
            ("since", "Da decidere entro"),
        ),
    ),
    (
        "consent",
        "Consensi da chiedere, in ritardo",
        (("case_code", "Pratica"), ("office", "CPI"), ("consent", "Consenso mancante"), ("due", "Da chiedere entro")),
    ),
)


def agenda_markdown(agenda: Agenda) -> str:
    """The agenda as the table reads it (and as the artifact stores it): codes only."""
    lines = [
        f"# Tavolo Sistema Lavoro – {dmy(agenda.held_on)}",
        "",
        f"Periodo: dal {dmy(agenda.since)} al {dmy(agenda.held_on - timedelta(days=1))}",
    ]
    for attr, title, columns in _SECTIONS:
        rows: list[dict[str, str]] = getattr(agenda, attr)
        lines += ["", f"## {title} ({len(rows)})", ""]
        if not rows:
            lines.append("Nessuna.")
            continue
        lines.append("| " + " | ".join(label for _, label in columns) + " |")
        lines.append("|" + "---|" * len(columns))
        lines += ["| " + " | ".join(r[key] for key, _ in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def open_meeting(session: Session, *, held_on: date) -> tuple[Agenda, int]:
    """Build the agenda, record the meeting (once per day) and email every member of the
    table (one outbox row each; a rerun sends nothing twice). Returns (agenda, emails queued)."""
    rules = load_policies()
    agenda = build_agenda(session, held_on)
    meeting = session.exec(select(TavoloMeeting).where(TavoloMeeting.held_on == held_on)).first()
    if meeting is None:
        session.add(TavoloMeeting(held_on=held_on, since=agenda.since, agenda=agenda.codes()))
    queued = 0
    members = [org for code in rules.tavolo.members if (org := session.get(Organisation, code)) is not None]
    context = {  # the members read names where the artifact keeps codes (readable_rows)
        "meeting_date": held_on,
        "since": agenda.since,
        "until": held_on - timedelta(days=1),
        "new_referrals": readable_rows(session, agenda.new_referrals),
        "awaiting": readable_rows(session, agenda.awaiting),
        "ending": readable_rows(session, agenda.ending),
        "placements": readable_rows(session, agenda.placements),
        "literacy": readable_rows(session, agenda.literacy),
        "consent": readable_rows(session, agenda.consent),
        "chair": members[0].name if members else None,
        "members": [m.name for m in members[1:]],
    }
    for code in rules.tavolo.members:
        org = session.get(Organisation, code)
        if org is None:
            continue
        if enqueue_email(
            session,
            key=f"tavolo:{held_on.isoformat()}:{code}",
            kind="tavolo_agenda",
            recipient=org.email,
            recipient_code=org.code,
            context={**context, "member_name": org.name},
        ):
            queued += 1
    return agenda, queued


def form_measures(session: Session, case_codes: list[str]) -> dict[str, str]:
    """The measures proposed to these cases, code → name: the policy and tavolo forms list them
    by name (models/forms.py: ``naming``) and store the code."""
    rules = load_policies()
    codes = dict.fromkeys(m.code for ms in proposed_by_case(session, case_codes).values() for m in ms)
    return {code: measure_name(session, code, rules) for code in codes}


def tavolo_initial(session: Session, *, held_on: date) -> list[dict[str, Any]]:
    """The decision form's rows: the meeting's waiting cases, 'defer' and the first proposal."""
    meeting = session.exec(select(TavoloMeeting).where(TavoloMeeting.held_on == held_on)).one()
    codes = meeting.agenda.get("awaiting", [])
    proposals = proposed_by_case(session, codes)
    return [
        {
            "case_code": c,
            "decision": TavoloDecisionKind.DEFER.value,
            "measure": proposals[c][0].code if proposals.get(c) else "",
        }
        for c in codes
    ] + [
        {"case_code": c, "decision": TavoloDecisionKind.DEFER.value, "measure": ""}
        for c in meeting.agenda.get("literacy", [])
    ]


def validate_tavolo(session: Session, rows: list[dict[str, Any]], *, held_on: date) -> list[str]:
    """Decisions only about the agenda's cases; assign needs a proposed measure; back to the
    pool needs the candidate's consent to share the profile again."""
    from tasks.core.consent import has_consent

    meeting = session.exec(select(TavoloMeeting).where(TavoloMeeting.held_on == held_on)).one()
    on_agenda = {c for codes in meeting.agenda.values() for c in codes}
    problems = []
    for row in rows:
        code, decision = str(row.get("case_code")), TavoloDecisionKind(row.get("decision", "defer"))
        if code not in on_agenda:
            problems.append(f"{code}: pratica non all'ordine del giorno")
            continue
        case = session.exec(select(Case).where(Case.code == code)).one()
        stalled = case.state is State.LITERACY and case.next_step == LITERACY_TAVOLO
        if stalled and decision not in _LITERACY_DECISIONS:
            words = [f"«{TavoloDecisionKind(d).label}»" for d in ("new_course", "profile", "defer", "close")]
            choices = ", ".join(words[:-1]) + " o " + words[-1]
            problems.append(f"{code}: per chi non progredisce nei corsi di italiano: {choices}")
        elif not stalled and decision in (TavoloDecisionKind.NEW_COURSE, TavoloDecisionKind.PROFILE):
            problems.append(f"{code}: «{decision.label}» vale solo per chi non progredisce nei corsi di italiano")
        elif decision is TavoloDecisionKind.ASSIGN:
            options = [m.code for m in proposed_by_case(session, [code]).get(code, [])]
            if str(row.get("measure") or "") not in options:
                problems.append(
                    f"{code}: per «{decision.label}» indicare una misura proposta "
                    f"({'; '.join(measure_name(session, m) for m in options) or 'nessuna'})"
                )
        elif decision is TavoloDecisionKind.BACK_TO_POOL:
            if case.state is not State.POLICY:
                problems.append(f"{code}: solo le pratiche in politica attiva tornano tra i profili inviati")
            elif not has_consent(session, case.person_key, ConsentPurpose.PROFILE_TO_CONFINDUSTRIA):
                problems.append(f"{code}: manca il consenso all'invio del profilo a Confindustria")
        elif (
            decision is TavoloDecisionKind.CLOSE and case.state not in (State.POLICY, State.DISPATCHED) and not stalled
        ):
            problems.append(f"{code}: chiusura dal tavolo solo per pratiche in politica attiva")
    return problems


def record_tavolo_decisions(
    session: Session, rows: list[dict[str, Any]], *, held_on: date, flow_run_id: str | None = None
) -> dict[str, int]:
    """Each decision becomes a ``tavolo_decision`` event of its case; assign chooses the
    measure (provider emailed), back_to_pool and close move the case."""
    from models.enums import CloseReason

    meeting = session.exec(select(TavoloMeeting).where(TavoloMeeting.held_on == held_on)).one()
    counts: Counter[str] = Counter()
    for row in rows:
        code, decision = str(row["case_code"]), TavoloDecisionKind(row.get("decision", "defer"))
        case = session.exec(select(Case).where(Case.code == code)).one()
        measure = None
        if decision is TavoloDecisionKind.ASSIGN:
            measure = next(m for m in proposed_by_case(session, [code])[code] if m.code == row.get("measure"))
            choose_measure(session, case, measure, held_on, actor=TAVOLO_ACTOR, flow_run_id=flow_run_id)
        elif decision is TavoloDecisionKind.BACK_TO_POOL:
            for m in proposed_by_case(session, [code]).get(code, []):
                m.status = MeasureStatus.NOT_CHOSEN
                session.add(m)
            transition(
                session,
                case,
                State.DISPATCHED,
                actor=TAVOLO_ACTOR,
                reason="tavolo:back_to_pool",
                flow_run_id=flow_run_id,
            )
        elif decision is TavoloDecisionKind.NEW_COURSE:  # the literacy flow asks the CPIA again
            set_step(case, "request_enrolment", today=held_on)
            session.add(case)
        elif decision is TavoloDecisionKind.DEFER and case.next_step and case.owner == COORDINATORS:
            # the table's own step (literacy, policy path …) is due again at its next meeting
            set_step(case, case.next_step, today=held_on, owner=COORDINATORS)
            session.add(case)
        elif decision is TavoloDecisionKind.PROFILE:
            transition(
                session, case, State.PROFILE_READY, actor=TAVOLO_ACTOR, reason="tavolo:profile", flow_run_id=flow_run_id
            )
        elif decision is TavoloDecisionKind.CLOSE:
            transition(
                session,
                case,
                State.CLOSED,
                actor=TAVOLO_ACTOR,
                reason=f"tavolo:{CloseReason.OTHER.value}",
                flow_run_id=flow_run_id,
            )
        add_event(
            session,
            case,
            "tavolo_decision",
            held_on,
            measure=measure,
            detail=f"{decision.value}:{measure.code}" if measure else decision.value,
            actor=TAVOLO_ACTOR,
            flow_run_id=flow_run_id,
        )
        counts[decision.value] += 1
    meeting.decisions_recorded += sum(counts.values())
    session.add(meeting)
    return dict(counts)
