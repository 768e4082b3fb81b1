"""Grey-band duplicates: what the operator is asked, and applying the decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from models.cases import Case
from models.clock import utcnow
from models.enums import State
from models.forms import DedupDecisionRow
from models.ops import DedupReview
from tasks.referral.ingest import accept_case
from tasks.referral.merge import merge_case
from tasks.runtime.event_names import REFERRAL_ACCEPTED
from tasks.runtime.events import EventSpec, queue_event


def pending_reviews(session: Session) -> list[dict[str, Any]]:
    """Open grey-band pairs (case codes and score only) for the operator's form."""
    rows = session.exec(
        select(DedupReview).where(col(DedupReview.decision).is_(None)).order_by(col(DedupReview.id))
    ).all()
    out = []
    for r in rows:
        case, other = session.get(Case, r.case_id), session.get(Case, r.candidate_case_id)
        if case is None or other is None or case.state is not State.REFERRED:
            continue
        out.append(
            {
                "review_id": r.id,
                "case_code": case.code,
                "candidate_code": other.code,
                "score": round(r.score, 1),
                "same_person": False,
            }
        )
    return out


@dataclass
class ReviewOutcome:
    merged: list[str] = field(default_factory=list)
    separate: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def validate_decisions(session: Session, rows: list[dict[str, Any]]) -> list[str]:
    """Problems with a submitted form, in Italian (empty = acceptable)."""
    problems = []
    for raw in rows:
        d = DedupDecisionRow.model_validate(raw)
        review = session.get(DedupReview, d.review_id)
        case = session.exec(select(Case).where(Case.code == d.case_code)).first()
        if review is None or case is None or review.case_id != case.id:
            problems.append(f"verifica {d.review_id}: non corrisponde alla pratica {d.case_code}")
    return problems


def resolve_reviews(
    session: Session, rows: list[dict[str, Any]], *, actor: str = "operator", flow_run_id: str | None = None
) -> ReviewOutcome:
    """Same person → merge into the existing case; different → accept as a new case. Idempotent."""
    outcome = ReviewOutcome()
    for raw in rows:
        d = DedupDecisionRow.model_validate(raw)
        review = session.get(DedupReview, d.review_id)
        if review is None or review.decision is not None:
            outcome.skipped.append(d.case_code)
            continue
        case, target = session.get(Case, review.case_id), session.get(Case, review.candidate_case_id)
        assert case is not None and target is not None
        review.decision = "same" if d.same_person else "different"
        review.decided_at = utcnow()
        session.add(review)
        if case.state is not State.REFERRED:
            outcome.skipped.append(case.code)
        elif d.same_person:
            merge_case(session, case, target, f"operator:{actor}", flow_run_id)
            outcome.merged.append(case.code)
        else:
            if accept_case(session, case, flow_run_id=flow_run_id) is State.ACCEPTED:
                outcome.separate.append(case.code)
    if outcome.separate:  # the same event as an import: intake scheduling picks them up
        queue_event(
            session,
            EventSpec(
                name=REFERRAL_ACCEPTED,
                resource_id=f"incontro.import.review-{outcome.separate[0]}",
                payload={"accepted": len(outcome.separate)},
            ),
        )
    return outcome
