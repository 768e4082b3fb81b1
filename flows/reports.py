"""Reports: the daily coordinator artifacts and the monthly "Sistema Lavoro" report (counts only)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import Field

from flows._params import AsOf, label
from flows._stage import stage_flow
from models import clock
from tasks.mail.notify import send_outbox
from tasks.reports.artifacts import publish_funnel, publish_kpis, publish_monthly_summary
from tasks.reports.funnel import funnel_rows
from tasks.reports.monthly import MonthlyReport, build_monthly_report, enqueue_monthly_report, write_report_files
from tasks.runtime.steps import db_step

rows = db_step(funnel_rows)
build = db_step(build_monthly_report, retries=1)
enqueue = db_step(enqueue_monthly_report)

#: ``2026-10``; checked by the parameter form before the run starts.
Month = Annotated[Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None, label("Mese del rapporto")]


@task(name="write_report_files", cache_policy=NO_CACHE, persist_result=False)
def write_files(report: MonthlyReport) -> int:
    """Replace ``var/reports/<yyyy-mm>/`` at once; returns how many files it holds."""
    return sum(1 for _ in write_report_files(report).iterdir())


def previous_month(today: date) -> str:
    """The month that ended before ``today`` (``2026-11-03`` → ``2026-10``)."""
    return f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"


@stage_flow("reports")
def reports(as_of: AsOf = None) -> dict[str, Any]:
    """Refresh the funnel, KPI and overdue artifacts; return the counts per state.

    Args:
        as_of: Data di riferimento per i ritardi e gli indicatori del mese; vuoto = oggi.
    """
    publish_funnel()
    publish_kpis(as_of or clock.today())
    return {str(r["state"]): r["now"] for r in rows() if r["now"]}


@stage_flow("monthly-report")
def monthly_report(month: Month = None) -> dict[str, Any]:
    """Build the monthly report, save it under var/reports/ and email it to the coordinators.

    Args:
        month: Mese del rapporto nel formato AAAA-MM (per esempio 2026-10); vuoto = il mese appena concluso.
    """
    key = month or previous_month(clock.today())
    report = build(key)
    files = write_files(report)
    queued = enqueue(report)
    publish_monthly_summary(report.month, report.highlights())
    sent = send_outbox()
    return {"month": report.month, "files": files, "queued": len(queued), "emails": sent}
