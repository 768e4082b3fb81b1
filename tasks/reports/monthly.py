"""The monthly "Sistema Lavoro" report: KPI tables, inline PNG charts and an XLSX attachment,
emailed to the coordinators through the outbox and written to ``var/reports/<yyyy-mm>/``.

Everything in it is aggregated (counts, rates, case codes for overdue steps): no personal data.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from config.settings import get_settings
from models import clock
from models.enums import OrgKind
from tasks.core.partners import org_of_kind
from tasks.files.sheets import MAX_WIDTH, MIN_WIDTH, safe_cell
from tasks.mail.formatting import format_month, format_number
from tasks.mail.outbox import enqueue_email
from tasks.mail.templates import render_email
from tasks.reports.charts import funnel_chart, placements_chart, time_in_stage_chart
from tasks.reports.kpis import FUNNEL_STATES, Period, PeriodError
from tasks.reports.tables import STATE_LABELS, TABLES, collect_kpis, labelled_rows, organisation_names

KIND = "monthly_report"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHART_ALTS = {
    "funnel.png": "Casi entrati in ogni fase nel mese",
    "tempo-per-fase.png": "Giorni lavorativi per fase",
    "inserimenti-per-cpi.png": "Tasso di inserimento per CPI rispetto al 15%",
}


@dataclass
class MonthlyReport:
    """One month's figures and the files made from them (no personal data)."""

    period: Period
    tables: dict[str, list[dict[str, Any]]]
    charts: dict[str, bytes] = field(default_factory=dict)
    xlsx: bytes = b""

    @property
    def month(self) -> str:
        return self.period.key

    @property
    def xlsx_name(self) -> str:
        return f"sistema-lavoro-{self.month}.xlsx"

    def funnel(self) -> list[dict[str, Any]]:
        """Cases that entered each stage of the main path in the month (``{state, count}``)."""
        entered = {str(r["state"]): int(r["entered"]) for r in self.tables["flows"]}
        return [{"state": s.value, "count": entered.get(s.value, 0)} for s in FUNNEL_STATES]

    def context(self) -> dict[str, Any]:
        """The ``monthly_report`` email context: Italian labels, images by content id."""
        return {
            "month": self.month,
            "funnel": [{"state": STATE_LABELS[r["state"]], "count": r["count"]} for r in self.funnel()],
            "images": [{"cid": cid, "alt": CHART_ALTS[cid]} for cid in self.charts],
            "highlights": self.highlights(),
            "notes": f"Le tabelle complete sono nel file allegato {self.xlsx_name}.",
        }

    def highlights(self) -> list[str]:
        """A few sentences a coordinator reads first."""
        total = self.tables["placement_office"][-1]
        lines = [
            f"Tasso di inserimento dall'avvio: {_percent(total['rate'])} "
            f"({total['hired']} assunti su {total['taken_in_charge']} presi in carico; riferimento 15%).",
        ]
        names = organisation_names()
        below = [
            names.get(r["group"], r["group"])
            for r in self.tables["placement_office"][:-1]
            if r["vs_baseline"] == "sotto"
        ]
        if below:
            lines.append("CPI sotto il 15%: " + ", ".join(below) + ".")
        kept = self.tables["retention"][-1]
        if kept["hires_due"]:
            lines.append(
                f"Assunti ancora occupati a 180 giorni: {kept['employed_180']} su {kept['hires_due']} "
                f"({_percent(kept['rate'])}); non più occupati {kept['left_180']}, non verificabili "
                f"{kept['unknown_180']}, ancora da verificare {kept['not_checked']}."
            )
        else:
            lines.append("Assunti ancora occupati a 180 giorni: nessuna assunzione ha compiuto 180 giorni nel mese.")
        interest = self.tables["interest"][-1]
        if interest["profiles"]:
            lines.append(
                f"Profili inviati a Confindustria: {interest['profiles']}, con interesse di almeno "
                f"un'azienda: {interest['with_interest']} ({_percent(interest['rate'])})."
            )
        courses = self.tables["literacy"][-1]
        if courses["passed"] + courses["failed"] + courses["dropped"]:
            lines.append(
                f"Corsi di italiano conclusi: {courses['passed']} superati, {courses['failed']} non "
                f"superati, {courses['dropped']} abbandonati."
            )
        lines.append(f"Prossimi passi scaduti a fine mese: {len(self.tables['overdue'])} pratiche.")
        return lines


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{format_number(round(value * 100, 1))}%"


def build_monthly_report(session: Session, month: str, *, today: date | None = None) -> MonthlyReport:
    """Figures, charts and XLSX of ``month`` (``2026-10``); a month not yet begun is refused."""
    period = Period.month(month)
    if period.start > (today or clock.today()):
        raise PeriodError(f"il mese {period.key} non è ancora iniziato: nessun rapporto da produrre")
    report = MonthlyReport(period=period, tables=collect_kpis(session, period))
    name = format_month(period.key)
    report.charts = {
        "funnel.png": funnel_chart(report.funnel(), title=f"Casi entrati in ogni fase – {name}"),
        "tempo-per-fase.png": time_in_stage_chart(
            report.tables["time_in_stage"], title=f"Tempo per fase (giorni lavorativi) – {name}"
        ),
        "inserimenti-per-cpi.png": placements_chart(
            report.tables["placement_office"], title=f"Tasso di inserimento per CPI – fino a {name}"
        ),
    }
    report.xlsx = tables_xlsx(report.tables, title=f"Sistema Lavoro {period.key}")
    return report


def tables_xlsx(tables: dict[str, list[dict[str, Any]]], *, title: str) -> bytes:
    """One sheet per KPI table with Italian headers (inert cells, as for the profile sheets)."""
    from openpyxl import Workbook  # type: ignore[import-untyped]  # here: the flow starts without it
    from openpyxl.styles import Font  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = title
    wb.properties.creator = "Incontro al lavoro"
    bold = Font(bold=True)
    for name, rows in tables.items():
        spec = TABLES[name]
        ws = wb.create_sheet(title=spec.sheet)
        headers = [label for _key, label in spec.columns]
        ws.append(headers)
        for cell in ws[1]:
            cell.font = bold
        for row in labelled_rows(name, rows, by_name=True):
            ws.append([safe_cell(row[h]) for h in headers])
        for index, header in enumerate(headers, start=1):
            width = max([len(header)] + [len(str(c.value or "")) for c in ws[get_column_letter(index)]])
            ws.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def report_dir(month: str, var_dir: Path | None = None) -> Path:
    return (var_dir or get_settings().var_dir) / "reports" / month


def write_report_files(report: MonthlyReport, var_dir: Path | None = None) -> Path:
    """Write HTML, XLSX and PNGs to ``var/reports/<yyyy-mm>/`` all at once (a rerun replaces them;
    a crash midway leaves the previous version, never a half-written folder)."""
    target = report_dir(report.month, var_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    html = render_email(KIND, "it", report.context()).html
    for cid in report.charts:
        html = html.replace(f'src="cid:{cid}"', f'src="{cid}"')
    staging = Path(tempfile.mkdtemp(prefix=f".{report.month}-", dir=target.parent))
    try:
        (staging / f"sistema-lavoro-{report.month}.html").write_text(html, encoding="utf-8")
        (staging / report.xlsx_name).write_bytes(report.xlsx)
        for cid, png in report.charts.items():
            (staging / cid).write_bytes(png)
        if target.exists():
            old = target.with_name(f".{report.month}-old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def enqueue_monthly_report(session: Session, report: MonthlyReport) -> list[str]:
    """One outbox row per coordinator organisation, keyed by month (a rerun sends nothing new).

    Returns the keys actually queued now."""
    coordinators = org_of_kind(session, OrgKind.COORDINATOR)
    if not coordinators:
        raise LookupError("nessun coordinatore in config/organisations.yaml: a chi mandare il rapporto?")
    attachments = [(cid, "image/png", png) for cid, png in report.charts.items()]
    attachments.append((report.xlsx_name, XLSX_TYPE, report.xlsx))
    queued: list[str] = []
    for org in coordinators:
        key = f"{KIND}:{report.month}:{org.code}"
        row = enqueue_email(
            session,
            key=key,
            kind=KIND,
            recipient=org.email,
            recipient_code=org.code,
            context=report.context(),
            attachments=attachments,
        )
        if row is not None:
            queued.append(key)
    return queued
