"""Privacy flows under Prefect (test harness) with a real SQLite app database and a real SMTP
server: consent gates and withdrawal through the stage flows, erasure/export/rectification, and
a scan of the harness's Prefect database and result storage afterwards."""

from __future__ import annotations

from pathlib import Path

from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, PREFECT_SERVER_DATABASE_CONNECTION_URL
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.cases import Case
from models.enums import ConsentPurpose, InterestAnswer, OutboxStatus, State
from models.exchange import Interest
from models.ops import Outbox
from models.people import Person
from tasks.core.consent import grant_consent
from tasks.interest import release_contacts
from tasks.mail.smtp_sink import MailSink
from tasks.privacy.rectification import rectification_request_path, save_rectification_request
from tests.factories import make_case, seed_partners
from tests.flows.test_stages import HEADER
from tests.pii_scan import app_db_rows, collect_identifiers, scan, search

P = ConsentPurpose
COMPANY = "COMP-GOMMA-ISOLA"
ROWS = [
    "Shevchenko;Taras;09/03/1987;M;Ucraina;Ucraina;;+39 347 123 4567;taras.shev@posta.example;Bergamo;ucraino;"
    "diploma;saldatore;B;B1;SI;SI",
    "Шевченко;Тарас;09/03/1987;M;Ucraina;Ucraina;;347 1234567;;Bergamo;ucraino;diploma;зварювальник;B;B1;SI;SI",
    "Shevchenko;Taras;31/02/1987;M;Ucraina;Ucraina;;3471234567;;Bergamo;ucraino;diploma;saldatore;B;B1;SI;SI",
    "Okafor;Chidi;01/01/1990;M;Nigeria;Nigeria;;;chidi.okafor@posta.example;Seriate;inglese;diploma;magazziniere;"
    "B;A2;SI;SI",
]


def _kinds(mail: MailSink) -> list[str]:
    return sorted(m.kind or "" for m in mail.messages)


def test_stage_flows_share_nothing_without_consent_and_withdrawal_stops_a_queued_release(
    engine: Engine, mail: MailSink
) -> None:
    from flows.dispatch import dispatch
    from flows.interest import interest
    from flows.literacy import literacy
    from flows.privacy import consent_withdrawal

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        ready = make_case(s, state=State.PROFILE_READY, consents=(P.CPI_PROCESSING,), profile={})
        learner = make_case(s, state=State.LITERACY, consents=(P.CPI_PROCESSING,), profile={})
        candidate = make_case(s, state=State.INTEREST, consents=(P.CPI_PROCESSING,), family_name="Shevchenko")
        assert candidate.id is not None
        s.add(Interest(company_code=COMPANY, case_id=candidate.id, answer=InterestAnswer.INTERESTED, processed=True))
        s.commit()
    assert dispatch()["profiles"] == 0
    assert literacy()["requested"] == {}
    assert interest()["contacts_released"] == 0
    assert _kinds(mail) == []
    with Session(engine, expire_on_commit=False) as s:
        assert s.get(Case, ready.id).state is State.PROFILE_READY  # type: ignore[union-attr]
        assert s.get(Case, learner.id).state is State.LITERACY  # type: ignore[union-attr]
        grant_consent(s, candidate.person_key, P.CONTACT_TO_COMPANY, recipient=COMPANY, source="test")
        s.commit()
        assert release_contacts(s) == [candidate.code]  # queued; nothing drained yet
        s.commit()

    result = consent_withdrawal(candidate.code, P.CONTACT_TO_COMPANY, COMPANY)
    assert (result["consents"], result["cancelled"]) == (1, 1)
    assert "contact_release" not in _kinds(mail)
    with Session(engine) as s:
        row = s.exec(select(Outbox).where(Outbox.kind == "contact_release")).one()
        assert row.status is OutboxStatus.CANCELLED and row.sent_at is None
    assert interest()["contacts_released"] == 0  # released once, withdrawn: never again
    assert _kinds(mail) == []


def test_privacy_flows_leave_no_identifier_in_prefect(engine: Engine, mail: MailSink, tmp_path: Path) -> None:
    from flows.privacy import access_export, erasure, rectification, retention
    from flows.referral import referral

    path = tmp_path / "segnalazioni.csv"
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("utf-8-sig"))
    imported = referral(str(path), "CARITAS-BG")
    assert (imported["rows_accepted"], imported["rows_rejected"], imported["merged"]) == (3, 1, 1)
    with Session(engine, expire_on_commit=False) as s:
        everyone = collect_identifiers(s)
        taras_ids = {p.id for p in s.exec(select(Person).where(col(Person.name_norm).contains("shevchenko"))).all()}
        taras = [n for n in everyone if n.person_id in taras_ids]
        code = s.exec(select(Case.code).where(Case.state == State.ACCEPTED).order_by(col(Case.id))).first()
        other = s.exec(
            select(Case).join(Person, col(Person.key) == col(Case.person_key)).where(Person.family_name == "Okafor")
        ).one()
    assert code is not None and len(taras_ids) == 2 and {"тарас", "+393471234567"} <= {n.value for n in taras}

    export = access_export(code)
    assert export["files"] == [f for f in export["files"] if f.startswith(f"accesso-{code}-")]
    assert export["sections"]["persona"] == 2  # the Latin row and its Cyrillic duplicate

    save_rectification_request(other.code, {"phone": "333 765 4321"})
    assert rectification(other.code) == {"fields_changed": 1}
    assert not rectification_request_path(other.code).exists()

    erased = erasure(code)
    assert erased["people"] == 2 and erased["cases"] == 2 and erased["import_rows"] == 1
    assert retention()["cases"] == 0  # the other cases are open
    with Session(engine) as s:
        assert search(taras, app_db_rows(s)) == []
        assert s.exec(select(Person).where(Person.key == other.person_key)).one().phone == "+393337654321"

    harness_db = Path(str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value()).split("///", 1)[1])
    report = scan(everyone, prefect_home=harness_db.parent, storage_dirs=[Path(PREFECT_LOCAL_STORAGE_PATH.value())])
    assert report.scanned["prefect_db_rows"] > 100
    assert report.hits == [], report.summary()
