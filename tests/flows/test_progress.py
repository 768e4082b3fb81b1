"""Progress artifacts under Prefect: a long batch shows a bar that reaches 100, a short one none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import get_settings
from models.enums import State
from tasks.runtime.progress import Progress
from tests.factories import make_case, seed_partners


def _artifacts(flow_run_id: Any) -> list[Any]:
    with get_client(sync_client=True) as client:
        return list(
            client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
            )
        )


@task
def _work(items: int) -> int:
    with Progress("prova", items, "Elementi di prova") as progress:
        for _ in progress.track(range(items)):
            pass
    return progress.done


@flow
def _batch(items: int) -> int:
    return _work(items)


def test_a_batch_over_the_threshold_shows_a_bar_that_reaches_100() -> None:
    assert get_settings().progress_min_items == 200
    state = _batch(250, return_state=True)
    assert state.result() == 250
    (artifact,) = _artifacts(state.state_details.flow_run_id)
    assert (artifact.type, artifact.key, artifact.data) == ("progress", "prova-progress", 100.0)
    assert artifact.description == "Elementi di prova: 250 di 250"
    assert artifact.task_run_id is not None

    small = _batch(199, return_state=True)
    assert small.result() == 199 and _artifacts(small.state_details.flow_run_id) == []


def test_retention_flow_reports_its_progress(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.privacy import retention

    monkeypatch.setenv("INCONTRO_PROGRESS_MIN_ITEMS", "3")
    get_settings.cache_clear()
    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        codes = {make_case(s, state=State.REFERRED).code for _ in range(4)}
        s.commit()
    state = retention(return_state=True)
    assert state.result()["cases"] == 0  # open cases: nobody anonymised, every person examined
    bars = [a for a in _artifacts(state.state_details.flow_run_id) if a.type == "progress"]
    assert [(a.key, a.data) for a in bars] == [("retention-progress", 100.0)]
    assert bars[0].description == "Persone esaminate per la conservazione: 4 di 4"
    assert not any(code in (bars[0].description or "") for code in codes)


def test_referral_import_reports_its_progress(
    engine: Engine, mail: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.referral import referral
    from tests.flows.test_stages import HEADER, ROWS

    monkeypatch.setenv("INCONTRO_PROGRESS_MIN_ITEMS", "5")
    get_settings.cache_clear()
    path = tmp_path / "segnalazioni.csv"
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("utf-8"))
    state = referral(str(path), "CARITAS-BG", return_state=True)
    assert state.result()["rows_accepted"] == 5  # Milano too: it waits for a CPI
    bars = [a for a in _artifacts(state.state_details.flow_run_id) if a.type == "progress"]
    assert ("referral-progress", 100.0, "Righe del file importate: 8 di 8") in [
        (a.key, a.data, a.description) for a in bars
    ]
