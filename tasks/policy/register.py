"""Proposals and the operator's decision: measures stored per case, chosen, and sent to the provider."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.data import municipality_coords, office_for_municipality
from config.next_steps import COORDINATORS
from config.operators import OPERATOR_MEASURES, OperatorSite, load_operators
from models.cases import Case, Profile
from models.clock import utcnow
from models.enums import OrgKind, State
from models.exchange import Vacancy
from models.people import Organisation
from models.policy import OPEN_MEASURE, MeasureKind, MeasureStatus, PolicyEvent, PolicyMeasure, TrainingOffer
from tasks.core.next_steps import set_step
from tasks.mail.outbox import enqueue_email
from tasks.matching.scoring import VacancyFacts
from tasks.policy.facts import case_facts
from tasks.policy.measures import Verdict, evaluate_measures, permit_check
from tasks.policy.operators import choose_operator, nearest_site, operator_load
from tasks.policy.rules import PolicyRules, load_policies
from tasks.policy.training import courses_for_gap, training_gaps, training_verdict
from tasks.runtime.events import EventSpec, queue_event
from tasks.runtime.progress import Progress

ACTOR = "flow:policy"
#: The step of a POLICY case left to the coordination table (config/next_steps.yaml).
POLICY_TAVOLO = "policy_tavolo"


# --------------------------------------------------------------------------------------------
# Proposals and the operator's decision


def add_event(
    session: Session,
    case: Case,
    kind: str,
    day: date,
    *,
    measure: PolicyMeasure | None = None,
    detail: str | None = None,
    actor: str = ACTOR,
    flow_run_id: str | None = None,
) -> None:
    """One row of the case's policy history, plus a Prefect event (codes only) after commit."""
    assert case.id is not None
    session.add(
        PolicyEvent(
            case_id=case.id,
            measure_id=measure.id if measure else None,
            kind=kind,
            detail=detail,
            occurred_on=day,
            actor=actor,
            flow_run_id=flow_run_id,
        )
    )
    queue_event(
        session,
        EventSpec(
            name=f"incontro.policy.{kind}",
            resource_id=f"incontro.case.{case.code}",
            labels={"incontro.office": case.office_code or "none"},
            payload={"measure": measure.code if measure else None, "detail": detail},
        ),
    )


def _seats_left(session: Session) -> dict[str, int]:
    taken = dict(
        session.exec(
            select(TrainingOffer.code, func.count(col(PolicyMeasure.id)))
            .join(PolicyMeasure, col(PolicyMeasure.training_offer_id) == col(TrainingOffer.id))
            .where(col(PolicyMeasure.status).in_([*OPEN_MEASURE, MeasureStatus.HIRED]))
            .group_by(col(TrainingOffer.code))
        ).all()
    )
    return {o.code: o.seats - taken.get(o.code, 0) for o in session.exec(select(TrainingOffer)).all()}


def _open_vacancies(session: Session, day: date) -> list[VacancyFacts]:
    from tasks.matching.facts import vacancy_facts

    rows = session.exec(
        select(Vacancy).where((col(Vacancy.valid_until).is_(None)) | (col(Vacancy.valid_until) >= day))
    ).all()
    return [vacancy_facts(v) for v in rows if v.occupation_code]


def measures_for_case(
    session: Session, case: Case, day: date, rules: PolicyRules, vacancies: Sequence[VacancyFacts]
) -> list[Verdict]:
    """Every eligible measure for one case: programmes, projects, and courses for its gaps."""
    from tasks.matching.facts import profile_facts

    facts = case_facts(session, case)
    verdicts = [v for v in evaluate_measures(facts, day, rules) if v.eligible]
    profile = session.exec(select(Profile).where(Profile.case_id == case.id)).first()
    if profile is not None and permit_check(facts, day, rules).ok:
        offers = list(session.exec(select(TrainingOffer).order_by(col(TrainingOffer.id))).all())
        seats = _seats_left(session)
        seen: set[str] = set()
        for gap in training_gaps(profile_facts(case, profile), vacancies, rules):
            for offer in courses_for_gap(gap, offers, profile.italian, day, seats, rules):
                if offer.code not in seen:
                    seen.add(offer.code)
                    verdicts.insert(len(seen) - 1, training_verdict(facts, day, rules, offer, gap))
    return verdicts


def propose_measures(
    session: Session, *, as_of: date, case_codes: list[str] | None = None, flow_run_id: str | None = None
) -> dict[str, list[str]]:
    """Store the eligible measures (with reasons) of every POLICY case that has none pending
    or running; courses for a skills/Italian gap come first. Idempotent. Returns codes only."""
    rules = load_policies()
    busy = select(PolicyMeasure.case_id).where(col(PolicyMeasure.status).in_([MeasureStatus.PROPOSED, *OPEN_MEASURE]))
    stmt = select(Case).where(Case.state == State.POLICY, col(Case.id).not_in(busy)).order_by(col(Case.code))
    if case_codes:
        stmt = stmt.where(col(Case.code).in_(case_codes))
    cases = session.exec(stmt).all()
    vacancies = _open_vacancies(session, as_of) if cases else []
    out: dict[str, list[str]] = {}
    progress = Progress("policy", len(cases), "Pratiche valutate per le politiche attive")
    registry, load = load_operators(), operator_load(session)
    for case in progress.track(cases):
        assert case.id is not None
        verdicts = measures_for_case(session, case, as_of, rules, vacancies)
        area = _area(session, case)
        for rank, verdict in enumerate(verdicts, start=1):
            if verdict.kind in OPERATOR_MEASURES:  # an accredited operator with room, near the person
                chosen = choose_operator(
                    registry, verdict.kind, municipality=area, office_code=case.office_code, load=load
                )
                verdict = replace(verdict, provider=chosen.code if chosen else None)
                if chosen is not None:
                    load[(chosen.code, verdict.kind)] += 1
            session.add(
                PolicyMeasure(
                    case_id=case.id,
                    kind=verdict.kind,
                    code=verdict.code,
                    pathway=verdict.pathway,
                    training_offer_id=verdict.offer_id,
                    provider_code=verdict.provider,
                    status=MeasureStatus.PROPOSED,
                    rank=rank,
                    reasons=verdict.reasons,
                )
            )
        add_event(
            session,
            case,
            "proposed",
            as_of,
            detail=",".join(v.code for v in verdicts)[:200] or "nessuna misura ammissibile",
            flow_run_id=flow_run_id,
        )
        if not verdicts and case.next_step != POLICY_TAVOLO:  # nothing for the CPI to choose from
            _to_tavolo(session, case, as_of)
        out[case.code] = [v.code for v in verdicts]
    progress.finish()
    return out


def _to_tavolo(session: Session, case: Case, day: date) -> None:
    """The case waits for the monthly coordination table (its agenda lists POLICY cases
    without a running measure): the coordinators' step, due about a month on."""
    set_step(case, POLICY_TAVOLO, today=day, owner=COORDINATORS)
    session.add(case)


def _area(session: Session, case: Case) -> str | None:
    """The person's comune as the profile keeps it (coarse location, no identifier)."""
    return session.exec(select(Profile.area).where(Profile.case_id == case.id)).first()


def _operator_site(session: Session, case: Case, code: str | None) -> OperatorSite | None:
    """The site of accredited operator ``code`` the person goes to: nearest to the person's
    comune, else one in the CPI's area, else its first (None: not an operator of the registry)."""
    operator = load_operators().by_code(code)
    if operator is None:
        return None
    place = municipality_coords(_area(session, case) or "")
    if place is not None:
        return nearest_site(operator, place)[0]
    local = [
        s
        for s in operator.sites
        if (office := office_for_municipality(s.municipality)) is not None and office.code == case.office_code
    ]
    return (local or list(operator.sites))[0]


def proposed_by_case(session: Session, case_codes: Iterable[str] | None = None) -> dict[str, list[PolicyMeasure]]:
    stmt = (
        select(Case.code, PolicyMeasure)
        .join(PolicyMeasure, col(PolicyMeasure.case_id) == col(Case.id))
        .where(PolicyMeasure.status == MeasureStatus.PROPOSED, Case.state == State.POLICY)
        .order_by(col(Case.code), col(PolicyMeasure.rank))
    )
    if case_codes is not None:
        stmt = stmt.where(col(Case.code).in_(list(case_codes)))
    out: dict[str, list[PolicyMeasure]] = defaultdict(list)
    for code, measure in session.exec(stmt).all():
        out[code].append(measure)
    return dict(out)


def pending_decisions(session: Session, case_codes: list[str] | None = None) -> list[dict[str, Any]]:
    """The decision form's starting rows: per case its proposals, the first one pre-selected."""
    return [
        {"case_code": code, "options": [m.code for m in ms], "choice": ms[0].code, "provider_code": ""}
        for code, ms in proposed_by_case(session, case_codes).items()
    ]


def _provider_problem(session: Session, measure: PolicyMeasure, provider: str) -> str | None:
    if not provider:
        return None
    org = session.get(Organisation, provider)
    if org is None or org.kind not in (OrgKind.TRAINING_BODY, OrgKind.LABOUR_SERVICE):
        return f"ente {provider[:40]} non è un ente accreditato o di formazione della rete"
    if measure.kind is MeasureKind.TRAINING and provider != measure.provider_code:
        return f"il corso {measure.code} è erogato da {measure.provider_code}: lasciare vuoto l'ente"
    return None


def validate_decisions(session: Session, rows: list[dict[str, Any]]) -> list[str]:
    """Each choice must be one of the case's own proposals; the provider a network body."""
    proposed = proposed_by_case(session, [str(r.get("case_code")) for r in rows])
    problems = []
    for row in rows:
        code, choice = str(row.get("case_code")), str(row.get("choice") or "")
        if code not in proposed:
            problems.append(f"{code}: nessuna proposta in attesa per questa pratica")
            continue
        if not choice:
            continue
        measure = next((m for m in proposed[code] if m.code == choice), None)
        if measure is None:
            problems.append(
                f"{code}: misura «{choice[:64]}» non tra quelle proposte ({', '.join(m.code for m in proposed[code])})"
            )
            continue
        if problem := _provider_problem(session, measure, str(row.get("provider_code") or "")):
            problems.append(f"{code}: {problem}")
    return problems


def register_code(code: str) -> str:
    """How a provider names a measure in its register (tasks/policy/progress.py reads it back):
    GOL, DUL, Garanzia Giovani, the project's or the course's code; never a storage value."""
    part = code.split(":")[-1]
    if part in (MeasureKind.GOL.value, MeasureKind.DUL.value):
        return part.upper()
    if part == MeasureKind.GARANZIA_GIOVANI.value:
        return "Garanzia Giovani"
    return part


def measure_name(session: Session, code: str, rules: PolicyRules | None = None) -> str:
    """A measure code (gol, territorial:BG-RIPARTIRE, training:TRN-…) as people call it."""
    rules = rules or load_policies()
    kind, _, rest = code.partition(":")
    names = {
        MeasureKind.GOL.value: rules.gol.label,
        MeasureKind.DUL.value: rules.dul.label,
        MeasureKind.GARANZIA_GIOVANI.value: rules.garanzia_giovani.label,
    }
    if code in names:
        return names[code]
    if kind == MeasureKind.TERRITORIAL.value:
        project = next((p for p in rules.territorial if p.code == rest), None)
        return project.label if project else f"progetto territoriale {rest}"
    if kind == MeasureKind.TRAINING.value:
        offer = session.exec(select(TrainingOffer).where(TrainingOffer.code == rest)).first()
        return f"corso «{offer.title}»" if offer else f"corso {rest}"
    return code


def readable_rows(session: Session, rows: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """Agenda rows as the table's members read them: offices, companies and measures by name
    (the artifact keeps the codes); case codes stay."""
    rules = load_policies()
    names: dict[str, str] = {}

    def org(code: str) -> str:
        if code not in names:
            found = session.get(Organisation, code)
            names[code] = found.name if found else code
        return names[code]

    out = []
    for row in rows:
        new = dict(row)
        for key in ("office", "company"):
            if new.get(key) not in (None, "", "—"):
                new[key] = org(new[key])
        for key in ("measure", "route"):
            if new.get(key) not in (None, "", "—"):
                new[key] = measure_name(session, new[key], rules)
        if new.get("options") not in (None, "", "—"):
            new["options"] = "; ".join(measure_name(session, c.strip(), rules) for c in new["options"].split(","))
        out.append(new)
    return out


def _pathway_label(measure: PolicyMeasure, rules: PolicyRules) -> str | None:
    """The GOL pathway or DUL band in words (the stored pathway of GOL is a code)."""
    if measure.pathway and measure.kind is MeasureKind.GOL:
        return rules.gol.pathway_labels.get(measure.pathway, measure.pathway)
    return measure.pathway


def _measure_label(measure: PolicyMeasure, rules: PolicyRules, offer: TrainingOffer | None) -> str:
    if measure.kind is MeasureKind.GOL:
        return f"{rules.gol.label} – {rules.gol.pathway_labels.get(measure.pathway or '', measure.pathway or '')}"
    if measure.kind is MeasureKind.DUL:
        return f"{rules.dul.label} – {measure.pathway}"
    if measure.kind is MeasureKind.GARANZIA_GIOVANI:
        return rules.garanzia_giovani.label
    if measure.kind is MeasureKind.TRAINING and offer is not None:
        return f"Corso «{offer.title}»"
    project = next((p for p in rules.territorial if f"territorial:{p.code}" == measure.code), None)
    return project.label if project else measure.code


def choose_measure(
    session: Session,
    case: Case,
    measure: PolicyMeasure,
    day: date,
    *,
    provider: str = "",
    actor: str = ACTOR,
    flow_run_id: str | None = None,
) -> bool:
    """Mark ``measure`` chosen (its siblings not chosen) and email its provider; returns
    whether an email was queued (the outbox key makes a rerun harmless)."""
    rules = load_policies()
    for other in proposed_by_case(session, [case.code]).get(case.code, []):
        if other.id != measure.id:
            other.status = MeasureStatus.NOT_CHOSEN
            session.add(other)
    measure.status = MeasureStatus.CHOSEN
    measure.decided_at = measure.decided_at or utcnow()
    if provider:
        measure.provider_code = provider
    session.add(measure)
    session.flush()
    add_event(session, case, "chosen", day, measure=measure, detail=measure.code, actor=actor, flow_run_id=flow_run_id)
    # no operator with room near the person: the coordinators choose one
    set_step(case, "policy_measure", today=day, owner=measure.provider_code or COORDINATORS)
    session.add(case)
    org = session.get(Organisation, measure.provider_code) if measure.provider_code else None
    if org is None:
        return False
    site = _operator_site(session, case, org.code)
    offer = session.get(TrainingOffer, measure.training_offer_id) if measure.training_offer_id else None
    office = session.get(Organisation, case.office_code) if case.office_code else None
    context: dict[str, Any] = {
        "case_code": case.code,
        "measure_code": measure.code,
        "measure_label": _measure_label(measure, rules, offer),
        "provider_name": org.name,
        "office_name": office.name if office else None,
        "pathway": _pathway_label(measure, rules),
        "register_code": register_code(measure.code),
    }
    if site is not None:
        context["site"] = {"municipality": site.municipality, "address": site.address, "phone": site.phone}
    if offer is not None:
        context["course"] = {
            "code": offer.code,
            "title": offer.title,
            "start": offer.start,
            "hours": offer.hours,
            "internship": offer.internship,
            "allowance": offer.allowance,
            "vacancy_code": offer.vacancy_code,
        }
    return (
        enqueue_email(
            session,
            key=f"policy:{case.code}:{measure.id}:provider",
            kind="policy_proposal",
            recipient=site.email if site is not None else org.email,
            recipient_code=org.code,
            case_code=case.code,
            context=context,
        )
        is not None
    )


def record_decisions(
    session: Session, rows: list[dict[str, Any]], *, as_of: date, flow_run_id: str | None = None
) -> dict[str, int]:
    """Apply the operator's (validated) choices; an empty choice leaves the case to the table."""
    proposed = proposed_by_case(session, [str(r["case_code"]) for r in rows])
    counts: Counter[str] = Counter()
    for row in rows:
        code, choice = str(row["case_code"]), str(row.get("choice") or "")
        measures = proposed.get(code, [])
        case = session.exec(select(Case).where(Case.code == code)).one()
        measure = next((m for m in measures if m.code == choice), None)
        if measure is None:
            add_event(session, case, "deferred", as_of, detail="al tavolo", flow_run_id=flow_run_id)
            _to_tavolo(session, case, as_of)
            counts["deferred"] += 1
            continue
        counts["chosen"] += 1
        if choose_measure(
            session, case, measure, as_of, provider=str(row.get("provider_code") or ""), flow_run_id=flow_run_id
        ):
            counts["notified"] += 1
    return dict(counts)


def policy_routes(session: Session) -> dict[str, int]:
    """Hired cases per kind of the measure that led to the hire (gol, dul, garanzia_giovani,
    territorial, training): what the demo's funnel prints under the hires."""
    rows = session.exec(
        select(PolicyMeasure.kind, func.count(func.distinct(PolicyMeasure.case_id)))
        .join(Case, col(Case.id) == col(PolicyMeasure.case_id))
        .where(
            PolicyMeasure.status == MeasureStatus.HIRED,
            Case.state == State.HIRED,
            col(Case.route) == col(PolicyMeasure.code),
        )
        .group_by(col(PolicyMeasure.kind))
    ).all()
    return {MeasureKind(k).value: n for k, n in rows}
