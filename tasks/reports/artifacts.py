"""Coordinator artifacts: what a run changed, the funnel, KPI tables and overdue steps — by case
code and counts, never personal data."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from tasks.reports.funnel import funnel_markdown
from tasks.reports.kpis import Period
from tasks.reports.tables import TABLES, collect_kpis, labelled_rows
from tasks.runtime.db import session_scope


@task(name="publish_funnel", cache_policy=NO_CACHE, persist_result=False)
def publish_funnel() -> str:
    """Refresh the keyed ``funnel`` markdown artifact."""
    with session_scope() as session:
        text = funnel_markdown(session)
    create_markdown_artifact(markdown=text, key="funnel", description="Funnel dei casi (conteggi)")
    return "funnel"


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dates as ISO text: table artifacts are stored as JSON."""
    return [{k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()} for row in rows]


@task(name="publish_kpis", cache_policy=NO_CACHE, persist_result=False)
def publish_kpis(as_of: date) -> dict[str, int]:
    """Keyed table artifacts: one per KPI (month to date; placement and conversion since the
    start) and the overdue next steps by case code. Returns the rows per table (counts only)."""
    period = Period.month_to_date(as_of)
    with session_scope() as session:
        tables = collect_kpis(session, period, as_of=as_of)
    for name, rows in tables.items():
        spec = TABLES[name]
        labelled = _jsonable(labelled_rows(name, rows))
        if name == "overdue":
            create_table_artifact(
                table=labelled or [{"Pratica": "—", "Prossimo passo": "nessuna pratica in ritardo"}],
                key="overdue",
                description=f"{spec.title} al {as_of:%d/%m/%Y} (solo codici pratica)",
            )
            continue
        create_table_artifact(
            table=labelled or [{spec.columns[0][1]: "nessun dato"}],
            key="kpi-" + name.replace("_", "-"),
            description=f"{spec.title} – dal {period.start:%d/%m/%Y} al {as_of:%d/%m/%Y}",
        )
    return {name: len(rows) for name, rows in tables.items()}


@task(name="publish_monthly_summary", cache_policy=NO_CACHE, persist_result=False)
def publish_monthly_summary(month: str, highlights: list[str]) -> str:
    """The keyed ``monthly-report`` markdown artifact: the month's highlights (aggregates only)."""
    lines = [f"# Sistema Lavoro – {month}", "", *(f"- {h}" for h in highlights), ""]
    lines.append(f"Rapporto completo (HTML, XLSX, grafici) in `var/reports/{month}/` e inviato ai coordinatori.")
    create_markdown_artifact(markdown="\n".join(lines), key="monthly-report", description=f"Rapporto mensile {month}")
    return "monthly-report"
