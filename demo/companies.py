"""The demo's scripted Confindustria and member companies on their pages (portal/companies):
Confindustria sends every batch to the companies of its sectors in one click ("tutte"), and each
vacancy's company answers its shortlist profile by profile through the same code the page runs
(:func:`portal.companies.app.apply_answer`): an interview with a date for the best two, "not
interested" with a reason for the rest, then a hire and a non-selection after the interviews."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from models.exchange import CompanyLink, DispatchBatch
from portal.companies.app import apply_answer
from tasks.dispatch import company_shares, send_company_links
from tasks.mail.links import PURPOSE_SHORTLIST, sign_link, verify_page_link
from tasks.vacancies import company_shortlist

ACTOR = "demo:confindustria"
INTERVIEWS = 2


def send_batches_to_companies(session: Session) -> int:
    """Confindustria presses "Invia a tutte" on every batch page; returns the links sent."""
    sent = 0
    for code in session.exec(select(DispatchBatch.code).order_by(col(DispatchBatch.id))).all():
        companies = [s.company_code for s in company_shares(session, code)]
        sent += len(send_company_links(session, code, companies, actor=ACTOR))
    return sent


def companies_answer_shortlists(session: Session, today: date) -> dict[str, int]:
    """Each company with a shortlist page answers it; counts of what was recorded (codes only)."""
    counts = {"interviews": 0, "not_interested": 0, "hired": 0, "not_selected": 0}
    links = session.exec(select(CompanyLink).where(CompanyLink.kind == "shortlist").order_by(col(CompanyLink.id))).all()
    for sent in links:
        link = verify_page_link(
            sign_link(sent.company_code, sent.subject_code, purpose=PURPOSE_SHORTLIST), PURPOSE_SHORTLIST
        )
        _vacancy, entries = company_shortlist(session, sent.subject_code, sent.company_code)
        interviewed = []
        for n, entry in enumerate(entries):
            if entry.interest is not None:
                continue  # answered already (a rerun of the demo step)
            if n < INTERVIEWS:
                form = {"azione": "colloquio", "data": (today + timedelta(days=3 + n)).isoformat()}
                if apply_answer(session, link, entry, form) is None:
                    counts["interviews"] += 1
                    interviewed.append(entry.case.code)
            elif apply_answer(session, link, entry, {"azione": "no", "motivo": "profilo_non_adatto"}) is None:
                counts["not_interested"] += 1
        session.flush()
        _vacancy, entries = company_shortlist(session, sent.subject_code, sent.company_code)
        for entry in entries:
            if entry.case.code not in interviewed:
                continue
            hire = entry.case.code == interviewed[0]
            form = {"azione": "assunta" if hire else "non_selezionata"}
            if hire:
                form["data"] = (today + timedelta(days=15)).isoformat()
            if apply_answer(session, link, entry, form) is None:
                counts["hired" if hire else "not_selected"] += 1
    return counts
