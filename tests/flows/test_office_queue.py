"""A partner file's comuni as written by someone else: every row imported, what names no CPI waits
for the coordinators, and ``incontro assign-office`` lets it continue to intake (real Prefect test
server, real SQLite/PostgreSQL app database, real SMTP sink)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cli.main import main
from flows._params import OfficeCode
from models.cases import Case
from models.enums import State
from models.ops import ImportRow
from models.people import Referral
from tasks.core.routing import ASSIGN_OFFICE
from tasks.mail.smtp_sink import MailSink

# An "ambito" exports from its case software: upper-case names, the comune with its sigla or not.
HEADER = "COGNOME,NOME,DATA NASCITA,COMUNE,CONSENSO PRIVACY,CONSENSO CONFINDUSTRIA"
ROWS = [
    "HUSSAIN,ALI,14/05/1988,Bergamo (BG),SI,SI",
    "OKAFOR,GRACE,02/11/1994,Dalmine (Bg),SI,NO",
    "LOPEZ,CARMEN,23/07/1979,Romano di Lomb.,SI,SI",
    "MOROZ,ANDRII,30/01/1991,Zingonia,SI,SI",
    "KANE,MOUSSA,11/09/1985,,SI,NO",
    "FERRARI,GIULIA,05/03/1990,Milano,SI,SI",
    "BERETTA,PAOLO,19/12/1982,Torre de' Busi,SI,SI",
]


def test_every_comune_imports_and_the_unresolved_wait_for_an_office_then_go_to_intake(
    engine: Engine, mail: MailSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL

    from flows.intake import intake
    from flows.referral import referral

    path = tmp_path / "segnalazioni_ambito.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    result = referral(str(path), "AMBITO-BG")
    assert (result["rows_accepted"], result["rows_rejected"]) == (7, 0)
    assert result["accepted"] == 5 and result["waiting_office"] == 2
    with Session(engine, expire_on_commit=False) as s:
        assert s.exec(select(ImportRow)).all() == []
        by_row = {
            r.row_number: c
            for r, c in s.exec(select(Referral, Case).join(Case, col(Case.id) == col(Referral.case_id))).all()
        }
    offices = {row: c.office_code for row, c in by_row.items()}
    assert offices == {2: "CPI-BG", 3: "CPI-BG", 4: "CPI-ROM", 5: "CPI-BG", 6: None, 7: None, 8: "CPI-PSP"}
    empty, milano = by_row[6], by_row[7]
    for case, reason in ((empty, "empty"), (milano, "out_of_province")):
        assert (case.state, case.next_step, case.next_step_reason) == (State.REFERRED, ASSIGN_OFFICE, reason)
        assert case.next_due is not None
    (ack,) = [m for m in mail.messages if m.kind == "referral_ack"]
    body = ack.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Di queste, 2 attendono l'assegnazione del Centro per l'Impiego" in body

    # the coordinator assigns the offices (the CLI finds the test server as it finds `make serve`)
    for var, value in {
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }.items():
        monkeypatch.setenv(var, value)
    assert main(["assign-office", empty.code, "--office", "CPI-BG", "--actor", "coord.test"]) == 0
    assert main(["assign-office", milano.code, "--office", "CPI-TRV", "--actor", "coord.test"]) == 0

    scheduled = intake(as_of=date(2026, 9, 7))["scheduled"]
    assert scheduled["CPI-BG"] == 4 and scheduled["CPI-TRV"] == 1  # Bergamo, Dalmine, Zingonia + the empty one
    with Session(engine) as s:
        states = {c.code: (c.state, c.office_code, c.next_step) for c in s.exec(select(Case)).all()}
    assert states[empty.code] == (State.INTAKE_SCHEDULED, "CPI-BG", "intake")
    assert states[milano.code] == (State.INTAKE_SCHEDULED, "CPI-TRV", "intake")
    assert all(state is State.INTAKE_SCHEDULED for state, _, _ in states.values())
    assert intake(office=OfficeCode("CPI-TRV"), as_of=date(2026, 9, 7))["scheduled"] == {}
