"""Per-vacancy KPIs of the vacancy pipeline (issue 20): what reached each vacancy's company,
how it answered, the hires and the time to fill. Same rules as tasks/reports/kpis.py: figures as
of the end of a period, codes and counts only."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime

from sqlmodel import Session, col, select

from models.enums import InterestAnswer, OutcomeKind
from models.exchange import CompanyLink, Interest, Outcome, Vacancy
from tasks.reports.kpis import NONE_LABEL, Period, Row, _as_utc, local_date


def vacancy_pipeline(session: Session, period: Period) -> list[Row]:
    """Per vacancy whose shortlist reached its company before the period's end and that was not
    filled before it began: profiles sent, interviews, not interested, hired, not selected, and
    the time to fill (calendar days from the position's arrival to its first hire). Last row =
    totals, with the median time to fill."""
    lo, hi = period.utc_bounds()
    links = session.exec(
        select(CompanyLink, Vacancy)
        .join(Vacancy, col(Vacancy.code) == col(CompanyLink.subject_code))
        .where(CompanyLink.kind == "shortlist", col(CompanyLink.sent_at) < hi)
        .order_by(col(Vacancy.code))
    ).all()
    answers: dict[int, list[InterestAnswer]] = defaultdict(list)
    outcomes: dict[str, list[tuple[OutcomeKind, datetime]]] = defaultdict(list)
    ids = [v.id for _l, v in links if v.id is not None]
    for vacancy_id, answer in session.exec(
        select(Interest.vacancy_id, Interest.answer).where(
            col(Interest.vacancy_id).in_(ids), col(Interest.answered_at) < hi
        )
    ).all():
        answers[int(vacancy_id or 0)].append(InterestAnswer(answer))
    for code, kind, at in session.exec(
        select(Outcome.vacancy_code, Outcome.kind, Outcome.recorded_at).where(
            col(Outcome.vacancy_code).in_([v.code for _l, v in links]), col(Outcome.recorded_at) < hi
        )
    ).all():
        outcomes[str(code)].append((OutcomeKind(kind), _as_utc(at)))
    rows: list[Row] = []
    for link, vacancy in links:
        hires = sorted(at for kind, at in outcomes[vacancy.code] if kind is OutcomeKind.HIRED)
        if hires and hires[0] < lo:
            continue  # filled before the period: not this month's business
        given = answers[vacancy.id or 0]
        days = (local_date(hires[0]) - local_date(_as_utc(vacancy.created_at))).days if hires else None
        rows.append(
            {
                "vacancy": vacancy.code,
                "company": vacancy.company_code or NONE_LABEL,
                "sent": len(link.case_codes),
                "interviews": sum(a is InterestAnswer.INTERVIEW for a in given),
                "not_interested": sum(a is InterestAnswer.NO for a in given),
                "hired": len(hires),
                "not_selected": sum(k is OutcomeKind.NOT_SELECTED for k, _ in outcomes[vacancy.code]),
                "days_to_fill": days,
            }
        )
    filled = [r["days_to_fill"] for r in rows if r["days_to_fill"] is not None]
    total: Row = {"vacancy": "Totale", "company": NONE_LABEL}
    for key in ("sent", "interviews", "not_interested", "hired", "not_selected"):
        total[key] = sum(r[key] for r in rows)
    total["days_to_fill"] = statistics.median(filled) if filled else None
    rows.append(total)
    return rows
