"""The referral acknowledgement tells the truth (issue 18): a person who said no to the processing
is listed as rejected with the reason in Italian (no longer "accettata, assegnato a da
assegnare"), a person written twice or already followed is counted once, as already followed,
and the letter is addressed to the centre by its name. Real import steps, real SQLite."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models.cases import Case
from models.enums import ConsentPurpose, State
from models.ops import Outbox
from models.people import Referral
from tasks.core.consent import consenting_persons
from tasks.referral.acknowledgement import REJECTED_OTHERWISE, rejection_reason
from tasks.referral.ingest import accept_import, acknowledge_import, deduplicate_import, ingest_referral_file
from tasks.runtime import events
from tests.factories import make_case, seed_partners

HEADER = "Cognome;Nome;Data di nascita;Comune di residenza;Telefono;Consenso privacy"
# The association's spreadsheet, as its volunteers filled it in.
ROWS = [
    "Kovalenko;Olena;12/03/1986;Bergamo;+39 351 204 7781;SI",  # 2: accepted
    "Bondarenko;Taras;02/11/1979;Zogno;+39 347 118 2290;NO",  # 3: said no to the processing
    "Kovalenko;Olena;12/03/1986;Bergamo;351 2047781;SI",  # 4: row 2 again (another volunteer)
    ";Iryna;14/09/1995;Seriate;+39 328 771 0042;SI",  # 5: no family name: refused by the import
    "Savchenko;Dmytro;23/07/1992;Treviglio;+39 333 902 1187;SI",  # 6: already followed by the CPI
    "Tkachenko;Halyna;05/05/1990;Milano;+39 340 552 6310;SI",  # 7: outside the province, waits for a CPI
]


@pytest.fixture(autouse=True)
def _no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "emit_now", lambda spec: None)  # no server in unit tests


def _ack(session: Session, tmp_path: Path) -> tuple[Outbox, Case]:
    seed_partners(session)
    known = make_case(
        session,
        state=State.PROFILE_READY,
        office="CPI-TRV",
        family_name="Savchenko",
        given_names="Dmytro",
        birth_date=date(1992, 7, 23),
        phone="+393339021187",
        referrer="CARITAS-TRV",
    )
    path = tmp_path / "segnalazioni_ponte_dicembre.csv"
    path.write_text("\r\n".join([HEADER, *ROWS]) + "\r\n", encoding="utf-8")
    summary = ingest_referral_file(session, path, "ASSOC-PONTE-UCRAINA")
    deduplicate_import(session, summary.import_id)
    accept_import(session, summary.import_id)
    assert acknowledge_import(session, summary.import_id) >= 1
    session.commit()
    ack = session.exec(select(Outbox).where(Outbox.kind == "referral_ack")).one()
    return ack, known


def test_every_row_is_told_once_and_truthfully(session: Session, tmp_path: Path) -> None:
    ack, known = _ack(session, tmp_path)
    text = ack.body_text
    olena = session.exec(select(Referral.case_id).where(Referral.row_number == 2)).one()
    olena_code = session.exec(select(Case.code).where(Case.id == olena)).one()

    assert text.startswith("Gentile Associazione Ponte Italia-Ucraina Orobica,")
    assert ack.subject.endswith("accettate: 2, scartate: 2, già in carico: 2")
    assert f"riga 2: caso {olena_code}, seguito dal Centro per l'Impiego di Bergamo" in text
    assert "riga 7: caso" in text and "CPI da assegnare" in text
    # row 3 said no: rejected with the reason, never "accepted"
    accepted_part = text.split("Segnalazioni scartate")[0]
    assert "riga 3" not in accepted_part
    assert "riga 3:\n      · la persona non ha dato il consenso al trattamento dei dati" in text
    assert "riga 5:" in text.split("Segnalazioni scartate")[1]
    # row 4 is row 2's person: once, as already followed, not an extra acceptance
    assert f"riga 4: caso {olena_code}, la stessa persona della riga 2" in text
    assert text.count(f"caso {olena_code}") == 2
    assert f"riga 6: caso {known.code}, già seguito dal Centro per l'Impiego di Treviglio" in text
    for raw in ("no_consent", "rejected", "a da assegnare", "CPI-BG", "CPI-TRV", "assegnato a"):
        assert raw not in text, raw
    # names never travel in the acknowledgement: codes and row numbers only
    assert "Kovalenko" not in text and "Bondarenko" not in text
    assert "Riga" in (ack.body_html or "") and "la stessa persona della riga 2" in (ack.body_html or "")


def test_a_rejection_reason_is_never_a_code() -> None:
    assert "consenso" in rejection_reason("no_consent")
    assert rejection_reason("something_new") == REJECTED_OTHERWISE
    assert rejection_reason(None) == REJECTED_OTHERWISE


def test_the_person_who_said_no_has_no_consent_recorded(session: Session, tmp_path: Path) -> None:
    _ack(session, tmp_path)
    rejected = session.exec(select(Case).where(Case.state == State.REJECTED)).one()
    assert rejected.next_step is None
    assert not consenting_persons(session, [rejected.person_key], ConsentPurpose.CPI_PROCESSING)
