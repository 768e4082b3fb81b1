"""The reports flows under Prefect: keyed artifacts (counts and case codes only) and the monthly
report emailed once to the coordinators through a real SMTP sink, with inline charts and XLSX."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import get_settings
from models.cases import Case
from models.people import Person
from tasks.mail.smtp_sink import MailSink
from tests.factories import seed_partners
from tests.unit.test_kpis import seed


def _identifiers(engine: Engine) -> set[str]:
    """Every direct identifier in the person table, as it could leak into text."""
    found: set[str] = set()
    with Session(engine) as s:
        for p in s.exec(select(Person)).all():
            for value in (p.family_name, p.given_names, p.email, p.phone, p.codice_fiscale):
                if value:
                    found.add(str(value))
            if p.birth_date:
                found |= {p.birth_date.isoformat(), p.birth_date.strftime("%d/%m/%Y")}
    return found


def _artifacts(flow_run_id: Any) -> list[Any]:
    with get_client(sync_client=True) as client:
        return list(
            client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
            )
        )


def test_reports_flow_publishes_funnel_kpi_and_overdue_artifacts(engine: Engine) -> None:
    from flows.reports import reports

    with Session(engine, expire_on_commit=False) as s:
        cases = seed(s)
    state = reports(as_of=date(2026, 10, 31), return_state=True)
    counts = state.result()
    with Session(engine) as s:
        now = {c.state.value for c in s.exec(select(Case)).all()}
    assert set(counts) == now and sum(counts.values()) == len(cases)
    assert counts["hired"] == 4  # A C D E

    artifacts = {a.key: a for a in _artifacts(state.state_details.flow_run_id)}
    assert {
        "funnel",
        "overdue",
        "kpi-flows",
        "kpi-flows-office",
        "kpi-conversion",
        "kpi-time-in-stage",
        "kpi-placement-office",
        "kpi-placement-referrer",
        "kpi-retention",
        "kpi-literacy",
        "kpi-interest",
    } <= set(artifacts)
    funnel = str(artifacts["funnel"].data)
    assert "## CPI-BG" in funnel and "## CPI-TRE" in funnel and "| Assunti | 4 | 4 |" in funnel
    overdue = json.loads(artifacts["overdue"].data) if isinstance(artifacts["overdue"].data, str) else None
    assert overdue is not None
    # H due 20 Oct: 21 22 23 26 27 28 29 30 → 8 business days late on Saturday 31; M due Friday 30 → 0
    assert [(r["Pratica"], r["Ritardo gg lav."]) for r in overdue] == [(cases["H"].code, 8), (cases["M"].code, 0)]
    placement = json.loads(artifacts["kpi-placement-office"].data)
    assert placement[-1] == {
        "CPI": "Totale",
        "Presi in carico": 9,
        "Assunti": 4,
        "Tasso %": 44.4,
        "Scarto dal 15% (punti)": 29.4,
        "Rispetto al 15%": "sopra",
    }

    text = json.dumps(counts) + "".join(str(a.data) + str(a.description) for a in artifacts.values())
    leaks = sorted(i for i in _identifiers(engine) if i in text)
    assert leaks == []


def test_monthly_report_flow_emails_coordinators_once_with_charts_and_xlsx(engine: Engine, mail: MailSink) -> None:
    from flows.reports import monthly_report

    with Session(engine, expire_on_commit=False) as s:
        seed(s)
    result = monthly_report(month="2026-10")
    assert result["month"] == "2026-10" and result["queued"] == 1 and result["files"] == 5
    assert result["emails"]["sent"] == 1

    (message,) = mail.messages
    assert message.kind == "monthly_report"
    assert message.rcpt_tos == ("coordinamento.incontro@provincia.bergamo.example",)
    assert message.key == "monthly_report:2026-10:COORD-INCONTRO"
    parts = list(message.message.walk())
    html = next(p for p in parts if p.get_content_type() == "text/html").get_content()
    assert "ottobre 2026" in html and "Tasso di inserimento dall&#39;avvio: 44,4%" in html
    inline = {p["Content-ID"]: p.get_payload(decode=True) for p in parts if p.get_content_type() == "image/png"}
    assert set(inline) == {"<funnel.png>", "<tempo-per-fase.png>", "<inserimenti-per-cpi.png>"}
    for cid in ("funnel.png", "tempo-per-fase.png", "inserimenti-per-cpi.png"):
        assert f'src="cid:{cid}"' in html
        assert bytes(inline[f"<{cid}>"])[:8] == b"\x89PNG\r\n\x1a\n"
    (xlsx,) = [p for p in parts if p.get_filename() == "sistema-lavoro-2026-10.xlsx"]
    book = load_workbook(io.BytesIO(bytes(xlsx.get_payload(decode=True))))
    assert "Inserimenti per CPI" in book.sheetnames and "Passi scaduti" in book.sheetnames
    sheet = book["Inserimenti per CPI"]
    assert [c.value for c in sheet[sheet.max_row]][:4] == ["Totale", 9, 4, 44.4]

    folder = get_settings().var_dir / "reports" / "2026-10"
    assert sorted(p.name for p in folder.iterdir()) == [
        "funnel.png",
        "inserimenti-per-cpi.png",
        "sistema-lavoro-2026-10.html",
        "sistema-lavoro-2026-10.xlsx",
        "tempo-per-fase.png",
    ]
    page = (folder / "sistema-lavoro-2026-10.html").read_text(encoding="utf-8")
    assert 'src="funnel.png"' in page and "cid:" not in page

    raw = message.raw.decode("utf-8", errors="replace")
    assert sorted(i for i in _identifiers(engine) if i in raw or i in page) == []

    again = monthly_report(month="2026-10")  # a rerun rewrites the files but never mails twice
    assert again["queued"] == 0 and again["emails"]["sent"] == 0
    assert len(mail.messages) == 1


def test_monthly_report_refuses_a_month_not_begun_in_italian(engine: Engine, mail: MailSink) -> None:
    from flows.reports import monthly_report

    with Session(engine) as s:
        seed_partners(s)
    with pytest.raises(ValueError, match="non è ancora iniziato"):
        monthly_report(month="2999-01")
    assert not (get_settings().var_dir / "reports" / "2999-01").exists()
    assert [m.kind for m in mail.messages] == ["failure_alert"]  # coordinators learn the run failed


def test_monthly_report_rejects_a_malformed_month_before_running() -> None:
    from prefect.exceptions import ParameterTypeError

    from flows.reports import monthly_report

    with pytest.raises(ParameterTypeError, match="month"):
        monthly_report(month="10/2026")
