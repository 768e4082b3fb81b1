"""The artifact every stage flow publishes: the transitions its run made (codes, never names)."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import func
from sqlmodel import col, select

from models.cases import Case, CaseEvent
from models.enums import State
from tasks.runtime.db import session_scope
from tasks.runtime.steps import current_flow_run_id

ARTIFACT_ROWS = 500


@task(name="publish_transitions", cache_policy=NO_CACHE, persist_result=False)
def publish_transitions(stage: str) -> int:
    """A table artifact of this run's transitions: case code, from → to, reason."""
    run_id = current_flow_run_id()
    with session_scope() as session:
        rows = session.exec(
            select(Case.code, CaseEvent.from_state, CaseEvent.to_state, CaseEvent.reason)
            .join(Case, col(Case.id) == col(CaseEvent.case_id))
            .where(CaseEvent.flow_run_id == run_id)
            .order_by(col(CaseEvent.id))
            .limit(ARTIFACT_ROWS)
        ).all()
        moves: list[tuple[Any, Any, int]] = []
        if len(rows) == ARTIFACT_ROWS:  # maybe more: count them in SQL, not by loading 100k rows
            moves = list(
                session.exec(
                    select(CaseEvent.from_state, CaseEvent.to_state, func.count())
                    .where(CaseEvent.flow_run_id == run_id)
                    .group_by(CaseEvent.from_state, CaseEvent.to_state)
                    .order_by(func.count().desc())
                ).all()  # type: ignore[arg-type]
            )
    total = sum(n for _, _, n in moves) or len(rows)
    table = [
        {"pratica": code, "da": State(f).value if f else "—", "a": State(t).value, "motivo": reason or ""}
        for code, f, t, reason in rows
    ]
    description = f"Transizioni della fase {stage} in questa esecuzione"
    if total > ARTIFACT_ROWS:  # big batches: the first rows plus counts (the full history is in case_event)
        description += f" – prime {ARTIFACT_ROWS} di {total}; totali: " + ", ".join(
            f"{State(f).value if f else '—'} → {State(t).value}: {n}" for f, t, n in moves
        )
    create_table_artifact(
        table=table or [{"pratica": "—", "da": "—", "a": "—", "motivo": "nessuna transizione"}],
        key=f"{stage}-transitions",
        description=description,
    )
    return total
