"""Duplicates merged in bulk (issue 21) do what one merge after the other did: the same notices
with the same keys, the same consents copied (the duplicate's current ones only; withdrawn or
expired rows of the kept person renewed, a consent already held not copied twice), the same
history rows and state checks, and merges that chain inside one batch hand on what they
received. Through the import the step runs once: a crash before the commit leaves nothing, a
rerun after the commit merges nothing twice. Real SQLite, real steps."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import get_settings
from models.cases import Case, CaseEvent
from models.clock import utcnow
from models.enums import ConsentPurpose, State
from models.ops import Outbox
from models.people import Consent, Organisation, Referral
from models.state_machine import TransitionRefused
from tasks.core.consent import grant_consent, has_consent, withdraw
from tasks.core.transitions import transition
from tasks.mail.outbox import enqueue_email
from tasks.referral.ingest import ACTOR, deduplicate_import, ingest_referral_file
from tasks.referral.merge import merge_case, merge_cases
from tasks.runtime import events
from tasks.runtime.db import make_engine
from tests.factories import make_case, seed_partners

P = ConsentPurpose


@pytest.fixture(autouse=True)
def _no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "emit_now", lambda spec: None)  # no server in unit tests


def _one_by_one(session: Session, case: Case, target: Case, reason: str, flow_run_id: str | None) -> None:
    """The merge as it was before the bulk path (one case, ~15 queries): the reference."""
    from config.data import load_offices

    case.merged_into_id = target.id
    session.add(case)
    for ref in session.exec(select(Referral).where(Referral.case_id == case.id)).all():
        ref.case_id = target.id
        session.add(ref)
        referrer = session.get(Organisation, ref.referrer_code)
        if referrer is not None:
            office = next((o.name for o in load_offices() if o.code == target.office_code), "da assegnare")
            enqueue_email(
                session,
                key=f"case:{case.code}:duplicate:{ref.referrer_code}",
                kind="duplicate_notice",
                recipient=referrer.email,
                recipient_code=referrer.code,
                case_code=target.code,
                context={"case_code": target.code, "existing_office": office, "row": ref.row_number},
            )
    for consent in session.exec(select(Consent).where(Consent.person_key == case.person_key)).all():
        if not has_consent(session, case.person_key, consent.purpose, consent.recipient_code):
            continue  # withdrawn or expired on the duplicate: not given to the kept case
        if not has_consent(session, target.person_key, consent.purpose, consent.recipient_code):
            grant_consent(
                session,
                target.person_key,
                consent.purpose,
                recipient=consent.recipient_code,
                source=f"merge:{case.code}",
            )
    transition(
        session, case, State.DUPLICATE, actor=ACTOR, reason=f"merge:{target.code}:{reason}", flow_run_id=flow_run_id
    )


def _scenario(session: Session) -> list[tuple[int, int, str]]:
    """Cases to merge, as (case id, target id, reason) in the order of the step's decisions."""
    seed_partners(session)
    known = make_case(session, state=State.ACCEPTED, consents=(P.CPI_PROCESSING,), referrer="CARITAS-BG")
    grant_consent(session, known.person_key, P.CPIA_ENROLMENT, source="test")
    withdraw(session, known.person_key, P.CPIA_ENROLMENT)  # renewed by the merge that brings it
    stale = grant_consent(session, known.person_key, P.REFERRER_CONTACT, source="test")
    stale.expires_at = utcnow() - timedelta(days=1)  # expired: each merge that brings it renews it
    session.commit()
    a = make_case(session, consents=(P.CPI_PROCESSING, P.PROFILE_TO_CONFINDUSTRIA, P.CPIA_ENROLMENT))
    grant_consent(session, a.person_key, P.CONTACT_TO_COMPANY, recipient="AZ-0042", source="test")
    b = make_case(session, consents=(P.REFERRER_CONTACT,), referrer="CARITAS-TRV")  # into a, once a is merged
    c = make_case(session, consents=(P.PROFILE_TO_CONFINDUSTRIA, P.REFERRER_CONTACT), referrer="AMBITO-BG")
    g = make_case(session, office=None, consents=(P.CPI_PROCESSING, P.REFERRER_CONTACT), referrer="CARITAS-SER")
    f = make_case(session, consents=(P.CONTACT_TO_COMPANY,), referrer="CARITAS-SER")  # into g before g merges
    session.commit()
    return [
        (a.id, known.id, "codice fiscale"),
        (b.id, a.id, "nome"),
        (c.id, known.id, "telefono"),
        (f.id, g.id, "e-mail"),
        (g.id, known.id, "nome"),
    ]


def _snapshot(engine: Engine) -> dict[str, Any]:
    """What a merge leaves in the database, without the instants it was written at."""
    with Session(engine) as s:
        cases = s.exec(select(Case).order_by(col(Case.id))).all()
        consents = s.exec(select(Consent).order_by(col(Consent.person_key), col(Consent.purpose))).all()
        return {
            "cases": [
                (c.id, c.state, c.merged_into_id, c.version, c.next_step, c.owner, c.next_due, c.next_step_reason)
                for c in cases
            ],
            "referrals": s.exec(select(Referral.id, Referral.case_id).order_by(col(Referral.id))).all(),
            "consents": [
                (c.person_key, c.purpose, c.recipient_code, c.source, c.withdrawn_at is None, c.expires_at)
                for c in consents
            ],
            "outbox": s.exec(
                select(
                    Outbox.key,
                    Outbox.kind,
                    Outbox.recipient,
                    Outbox.recipient_code,
                    Outbox.case_code,
                    Outbox.reply_to,
                    Outbox.subject,
                    Outbox.body_text,
                ).order_by(col(Outbox.id))
            ).all(),
            "history": s.exec(
                select(CaseEvent.case_id, CaseEvent.from_state, CaseEvent.to_state, CaseEvent.actor, CaseEvent.reason)
                .where(col(CaseEvent.id) > 0)
                .order_by(col(CaseEvent.id))
            ).all(),
        }


def _copy(engine: Engine, dest: Path) -> Engine:
    src = sqlite3.connect(get_settings().var_dir / "incontro.db")
    with sqlite3.connect(dest) as out:
        src.backup(out)
    src.close()
    return make_engine(f"sqlite:///{dest}")


def _merged(engine: Engine, plan: list[tuple[int, int, str]], merge: Callable[[Session, list[Any]], None]) -> Any:
    with Session(engine, expire_on_commit=False) as s:
        merges = [(s.get(Case, c), s.get(Case, t), reason) for c, t, reason in plan]
        merge(s, merges)
        pending = [(e.name, e.resource_id, e.payload) for e in s.info.get("incontro_pending_events", [])]
        s.commit()
    return _snapshot(engine), pending


def test_bulk_merge_leaves_what_one_merge_after_the_other_left(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    plan = _scenario(session)
    session.close()
    engine.dispose()
    before = _snapshot(engine)
    old_engine, new_engine = _copy(engine, tmp_path / "old.db"), _copy(engine, tmp_path / "new.db")

    def one_by_one(s: Session, merges: list[Any]) -> None:
        for case, target, reason in merges:
            _one_by_one(s, case, target, reason, "run-1")

    old, old_events = _merged(old_engine, plan, one_by_one)
    new, new_events = _merged(new_engine, plan, lambda s, merges: merge_cases(s, merges, "run-1"))

    assert new == old
    assert new_events == old_events
    # and the reference did merge: the scenario exercises what it claims to
    assert new != before
    a, b, c, f, g = (_code(new_engine, cid) for cid, _, _ in plan)
    assert [k for k, *_ in new["outbox"]] == [
        f"case:{a}:duplicate:CARITAS-BG",
        f"case:{b}:duplicate:CARITAS-TRV",
        f"case:{c}:duplicate:AMBITO-BG",
        f"case:{f}:duplicate:CARITAS-SER",
        f"case:{g}:duplicate:CARITAS-SER",  # g's own referral and f's, one referrer: told once
    ]
    with Session(new_engine) as s:
        known = s.get(Case, plan[0][1])
        assert known is not None
        held = s.exec(select(Consent).where(Consent.person_key == known.person_key)).all()
        rows = {(row.purpose, row.recipient_code): row for row in held}
        # every referral ends on the case its chain ends on at the time of each merge: b's on a
        # (merged into a after a was merged), f's on the known case through g
        assert {cid for _, cid in new["referrals"]} == {known.id, plan[0][0]}
    assert rows[(P.CPI_PROCESSING, "*")].source == "test"  # held already: not copied
    assert rows[(P.PROFILE_TO_CONFINDUSTRIA, "*")].source == f"merge:{a}"  # a first, c found it held
    assert rows[(P.CPIA_ENROLMENT, "*")].withdrawn_at is None and rows[(P.CPIA_ENROLMENT, "*")].source == f"merge:{a}"
    assert rows[(P.REFERRER_CONTACT, "*")].source == f"merge:{g}"  # still expired: c renewed it, then g
    assert rows[(P.CONTACT_TO_COMPANY, "AZ-0042")].source == f"merge:{a}"
    assert rows[(P.CONTACT_TO_COMPANY, "*")].source == f"merge:{g}"  # f's, handed on through g
    for engine_ in (old_engine, new_engine):
        engine_.dispose()


def _code(engine: Engine, case_id: int) -> str:
    with Session(engine) as s:
        return s.exec(select(Case.code).where(Case.id == case_id)).one()


def test_one_refused_merge_refuses_the_batch(session: Session) -> None:
    """The state machine's checks hold in bulk: a case no longer REFERRED cannot become a duplicate,
    and nothing of the batch is written."""
    seed_partners(session)
    known = make_case(session, state=State.ACCEPTED)
    fine = make_case(session)
    closed = make_case(session, state=State.CLOSED)
    with pytest.raises(TransitionRefused):
        merge_cases(session, [(fine, known, "nome"), (closed, known, "nome")], None)
    session.rollback()
    assert session.exec(select(Outbox)).all() == []
    assert session.exec(select(Case.state).where(Case.id == fine.id)).one() == State.REFERRED


def test_single_merge_is_the_bulk_merge_of_one(session: Session) -> None:
    """The review form's merge (tasks/referral/review.py) goes through the same path."""
    seed_partners(session)
    known = make_case(session, state=State.ACCEPTED, consents=(P.CPI_PROCESSING,))
    new = make_case(session, consents=(P.CPI_PROCESSING, P.CPIA_ENROLMENT), referrer="CARITAS-TRV")
    merge_case(session, new, known, "operator:op1", None)
    session.commit()
    assert new.state == State.DUPLICATE and new.merged_into_id == known.id
    assert session.exec(select(Referral.case_id).where(Referral.person_key == new.person_key)).one() == known.id
    notice = session.exec(select(Outbox)).one()
    assert notice.key == f"case:{new.code}:duplicate:CARITAS-TRV" and notice.case_code == known.code
    assert has_consent(session, known.person_key, P.CPIA_ENROLMENT)
    history = session.exec(select(CaseEvent).where(CaseEvent.case_id == new.id, CaseEvent.to_state == "duplicate"))
    assert [e.reason for e in history] == [f"merge:{known.code}:operator:op1"]


# ------------------------------------------------------------------------------- through the import

HEADER = "Cognome;Nome;Data di nascita;Comune di residenza;Telefono;Consenso privacy"
ROWS = [
    "Savchenko;Dmytro;23/07/1992;Treviglio;+39 333 902 1187;SI",  # 2: already followed by the CPI
    "Kovalenko;Olena;12/03/1986;Bergamo;+39 351 204 7781;SI",  # 3
    "Bondarenko;Taras;02/11/1979;Zogno;+39 347 118 2290;SI",  # 4: new
    "Kovalenko;Olena;12/03/1986;Bergamo;351 2047781;SI",  # 5: row 3 again
]


def _import(session: Session, tmp_path: Path) -> tuple[int, Case]:
    seed_partners(session)
    known = make_case(
        session,
        state=State.ACCEPTED,
        office="CPI-TRV",
        family_name="Savchenko",
        given_names="Dmytro",
        birth_date=date(1992, 7, 23),
        municipality="Treviglio",
        phone="+393339021187",
        consents=(P.CPI_PROCESSING,),
        referrer="CARITAS-TRV",
    )
    path = tmp_path / "segnalazioni.csv"
    path.write_text("\r\n".join([HEADER, *ROWS]) + "\r\n", encoding="utf-8")
    summary = ingest_referral_file(session, path, "ASSOC-PONTE-UCRAINA")
    session.commit()
    return summary.import_id, known


def _row_case(session: Session, row: int) -> Case:
    """The case the import made for the file's ``row`` (a merge moves the referral, not the person)."""
    key = session.exec(select(Referral.person_key).where(Referral.row_number == row)).one()
    return session.exec(select(Case).where(Case.person_key == key)).one()


def _counts(session: Session) -> tuple[int, int, int]:
    return (
        len(session.exec(select(Outbox.id)).all()),
        len(session.exec(select(CaseEvent.id)).all()),
        len(session.exec(select(Consent.id)).all()),
    )


def test_the_import_merges_each_duplicate_once_even_after_a_crash(session: Session, tmp_path: Path) -> None:
    import_id, known = _import(session, tmp_path)
    before = _counts(session)
    deduplicate_import(session, import_id)
    session.rollback()  # killed before the commit: nothing of the step stays
    assert _counts(session) == before

    first = deduplicate_import(session, import_id)
    session.commit()
    savchenko, olena, olena_again = _row_case(session, 2), _row_case(session, 3), _row_case(session, 5)
    assert sorted(first.merged) == sorted([savchenko.code, olena_again.code])
    assert savchenko.merged_into_id == known.id and olena_again.merged_into_id == olena.id
    assert (savchenko.state, olena_again.state, olena.state) == (State.DUPLICATE, State.DUPLICATE, State.REFERRED)
    notices = session.exec(select(Outbox).where(Outbox.kind == "duplicate_notice").order_by(col(Outbox.key))).all()
    assert sorted(n.key for n in notices) == sorted(
        f"case:{c.code}:duplicate:ASSOC-PONTE-UCRAINA" for c in (savchenko, olena_again)
    )
    by_case = {n.case_code: n for n in notices}
    body = by_case[known.code].body_text
    assert known.code in body and "Centro per l'Impiego di Treviglio" in body
    history = session.exec(select(CaseEvent).where(CaseEvent.to_state == State.DUPLICATE)).all()
    assert sorted((e.case_id, e.reason.split(":")[:2]) for e in history) == sorted(  # type: ignore[union-attr]
        [(savchenko.id, ["merge", known.code]), (olena_again.id, ["merge", olena.code])]
    )
    # the consents the file gave the person join the known person's
    given = set(session.exec(select(Consent.purpose).where(Consent.person_key == savchenko.person_key)).all())
    assert given and given <= set(session.exec(select(Consent.purpose).where(Consent.person_key == known.person_key)))
    after = _counts(session)

    again = deduplicate_import(session, import_id)
    session.commit()
    assert again.merged == [] and again.review == []
    assert _counts(session) == after


def test_merges_cost_a_few_statements_not_a_few_per_case(session: Session, tmp_path: Path) -> None:
    """The statements of a batch of merges do not grow with the number of cases (no timing)."""
    seed_partners(session)
    known = make_case(session, state=State.ACCEPTED)

    def statements(n: int) -> int:
        cases = [make_case(session, consents=(P.CPI_PROCESSING, P.CPIA_ENROLMENT)) for _ in range(n)]
        sent = [0]

        def count(*_args: Any) -> None:
            sent[0] += 1

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            merge_cases(session, [(c, known, "nome") for c in cases], None)
            session.commit()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return sent[0]

    few, many = statements(3), statements(30)
    assert many <= few + 2, (few, many)


def test_a_withdrawn_or_expired_consent_of_the_duplicate_is_not_copied(session: Session) -> None:
    """A consent the person withdrew (or that expired) on the duplicate referral must not become a
    valid consent of the kept case: a share with a third party needs a current consent."""
    seed_partners(session)
    known = make_case(session, state=State.ACCEPTED, consents=(P.CPI_PROCESSING,))
    dup = make_case(session, consents=(P.CPI_PROCESSING, P.PROFILE_TO_CONFINDUSTRIA, P.CPIA_ENROLMENT))
    withdraw(session, dup.person_key, P.PROFILE_TO_CONFINDUSTRIA)
    stale = session.exec(
        select(Consent).where(Consent.person_key == dup.person_key, Consent.purpose == P.CPIA_ENROLMENT)
    ).one()
    stale.expires_at = utcnow() - timedelta(days=1)
    session.commit()
    merge_case(session, dup, known, "codice fiscale", None)
    session.commit()
    assert not has_consent(session, known.person_key, P.PROFILE_TO_CONFINDUSTRIA)
    assert not has_consent(session, known.person_key, P.CPIA_ENROLMENT)
    assert has_consent(session, known.person_key, P.CPI_PROCESSING)
