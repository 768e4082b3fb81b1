"""Coordinators' and operators' view: the Prefect UI lists every Incontro deployment, titles the
run form's fields in Italian and shows a suspended intake run with its Italian form description."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from deploy.client import start, wait_paused
from deploy.specs import DEPLOYMENTS
from deploy.stack import Stack
from models import clock
from models.enums import State
from tasks.mail.smtp_sink import MailSink
from tasks.runtime.db import get_engine
from tests.factories import make_case

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def _open(page: Any, url: str, wait_text: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_text(wait_text, exact=False).first.wait_for(timeout=45_000)


def test_ui_lists_deployments_and_shows_the_suspended_intake_form(
    browser: Any, live_env: tuple[Stack, MailSink, Path], tmp_path: Path
) -> None:
    stack, _sink, _var = live_env
    with Session(get_engine(), expire_on_commit=False) as s:
        for _ in range(2):
            case = make_case(s, state=State.INTAKE_SCHEDULED, office="CPI-LOV")
            case.intake_at = datetime.now(UTC) + timedelta(days=3)
            s.add(case)
        s.commit()
    run_id = start(
        "intake-form/intake-form", {"office": "CPI-LOV", "up_to": (clock.today() + timedelta(days=30)).isoformat()}
    )
    wait_paused(run_id)

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _open(page, f"{stack.ui_url}/deployments", "intake-form")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(tmp_path / "deployments.png"), full_page=True)
    assert f"{len(DEPLOYMENTS)} Deployments" in page.inner_text("body")
    missing = []
    for spec in DEPLOYMENTS:  # the list is paginated: look each one up with the search box
        page.get_by_placeholder("Search deployments").fill(spec.name)
        try:
            page.get_by_role("link", name=spec.name, exact=True).first.wait_for(timeout=10_000)
        except Exception:
            missing.append(spec.name)
    assert not missing, f"deployments not listed in the UI: {missing}"

    from prefect import get_client

    with get_client(sync_client=True) as client:
        deployment_id = client.read_deployment_by_name("intake/intake").id
    _open(page, f"{stack.ui_url}/deployments/deployment/{deployment_id}/run", "Codici pratica (Optional)")
    page.screenshot(path=str(tmp_path / "intake-run-form.png"), full_page=True)
    form = page.inner_text("body")
    for label in ("Centro per l'Impiego (Optional)", "Codici pratica (Optional)", "Data di riferimento (Optional)"):
        assert label in form, f"run form lacks the Italian field title {label!r}"
    assert "case_codes" not in form

    _open(page, f"{stack.ui_url}/runs/flow-run/{run_id}", "Suspended")
    page.screenshot(path=str(tmp_path / "suspended-run.png"), full_page=True)
    page.get_by_role("button", name="Resume").first.click()
    page.get_by_text("Colloqui di presa in carico", exact=False).first.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "intake-form.png"), full_page=True)
    body = page.inner_text("body")
    assert "Lovere" in body  # the form names the office (its code is a parameter)
    assert "Esiti dei colloqui" in body
    page.close()
    print(f"\nscreenshots in {tmp_path}")
