"""An intake form answered at the desk, end to end: a real Prefect server runs the served
``intake-form`` deployment for one CPI, which suspends waiting for its form; an operator of that
office signs in with the keyboard, opens Moduli, sees the names beside the case codes, fills the
form and sends it. The Prefect run resumes and completes, the cases move as the state machine
says (present with B1 → profile ready; absent → no-show), the application's audit log records
which operator answered for each case, and what Prefect stored has codes and levels only.
Both Moduli pages are checked with axe-core and walked with the keyboard."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlmodel import Session, col, select

from deploy.client import start, wait_done, wait_paused
from deploy.stack import Stack, free_port
from models.accounts import Role
from models.cases import Case, CaseEvent
from models.clock import utcnow
from models.enums import State
from models.ops import AuditLog
from portal.desk.security import add_user
from portal.server import running_portal
from tasks.files.normalize import normalize_name
from tasks.mail.smtp_sink import MailSink
from tasks.runtime.db import get_engine
from tasks.runtime.prefect_api import form_inputs
from tests.browser.a11y import assert_accessible, tab_through
from tests.factories import make_case

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

OFFICE = "CPI-ZOG"  # an office no other live test schedules intakes for
OPERATOR = "l.pesenti"
PASSWORD = "Sportello-Zogno-2026"
#: Everything that names the two people, in both scripts: none of it may reach Prefect.
NAMES = ("Мельник", "Андрій", "melnyk", "andrii", "Traoré", "traore", "Aminata")


def _person(family: str, given: str, **extra: Any) -> dict[str, Any]:
    return {"family_name": family, "given_names": given, "name_norm": normalize_name(f"{family} {given}"), **extra}


@pytest.fixture
def intake_day(live_env: tuple[Stack, MailSink, Path]) -> dict[str, Case]:
    """Two intake appointments at the office in two days' time, and an operator of that office."""
    with Session(get_engine(), expire_on_commit=False) as s:
        add_user(s, username=OPERATOR, password=PASSWORD, role=Role.OPERATOR, office_code=OFFICE,
                 full_name="Laura Pesenti")  # fmt: skip
        s.commit()
        cyrillic = _person("Мельник", "Андрій", native_family_name="Мельник", native_given_names="Андрій")
        people = {
            "andrii": make_case(s, state=State.INTAKE_SCHEDULED, office=OFFICE, **cyrillic),
            "aminata": make_case(s, state=State.INTAKE_SCHEDULED, office=OFFICE, **_person("Traoré", "Aminata")),
        }
        for case in people.values():
            case.intake_at = utcnow() + timedelta(days=2)
            s.add(case)
        s.commit()
    return people


def _sign_in(page: Any, url: str) -> None:
    """User name, password, Enter: the keyboard alone."""
    page.goto(f"{url}/scrivania/", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Accesso alla scrivania").wait_for()
    page.locator("body").focus()
    while page.evaluate("document.activeElement.id") != "username":
        page.keyboard.press("Tab")
    page.keyboard.type(OPERATOR)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Appuntamenti di oggi").wait_for()


def _row(page: Any, code: str) -> Any:
    """The form's fieldset of one case (its legend names the case code and the person)."""
    return page.locator("fieldset.formrow").filter(has=page.locator("legend", has_text=code))


def test_an_operator_answers_the_intake_form_and_the_run_moves_on(
    browser: Any, intake_day: dict[str, Case], tmp_path: Path
) -> None:
    andrii, aminata = intake_day["andrii"].code, intake_day["aminata"].code
    run_id = str(start("intake-form/intake-form", {"office": OFFICE, "case_codes": [andrii, aminata]}))
    wait_paused(run_id)
    assert sorted(r["case_code"] for r in form_inputs(run_id)) == sorted([andrii, aminata])  # schema saved

    # the portal thread runs in a copy of this context: it talks to the live Prefect server
    with running_portal(port=free_port()) as portal:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        _sign_in(page, portal.url)

        page.get_by_role("link", name="Moduli").click()
        page.get_by_role("heading", name="Moduli in attesa").wait_for()
        listing = page.inner_text("main")
        assert f"{andrii} – Мельник Андрій" in listing and f"{aminata} – Traoré Aminata" in listing
        assert "esiti dei colloqui" in listing
        assert_accessible(page, "moduli")
        tab_through(page, "moduli", presses=40)
        page.screenshot(path=str(tmp_path / "desk-moduli.png"), full_page=True)

        compile_link = page.locator(f'a[href$="/moduli/{run_id}"]')
        compile_link.focus()
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Modulo: esiti dei colloqui").wait_for()
        assert_accessible(page, "modulo")
        tab_through(page, "modulo")
        present = _row(page, andrii)
        assert "Мельник Андрій" in present.locator(":scope > legend").inner_text()
        present.get_by_label("Presente al colloquio").select_option(label="Sì")
        for skill in ("ascolto", "lettura", "interazione", "produzione orale", "scrittura"):
            present.get_by_label(f"Italiano: {skill}").select_option(label="B1")
        present.get_by_label("Mansioni (codici delle professioni)").fill("7212")
        present.get_by_label("Consenso invio profilo a Confindustria").select_option(label="Sì")
        _row(page, aminata).get_by_label("Presente al colloquio").select_option(label="No")
        page.screenshot(path=str(tmp_path / "desk-modulo.png"), full_page=True)
        page.get_by_role("button", name="Invia il modulo").click()
        page.get_by_text("Modulo inviato: la procedura riprende.").wait_for()
        assert_accessible(page, "moduli dopo l'invio")
        page.close()

    wait_done(run_id)  # left PAUSED, ran to the end with the desk's answer
    with Session(get_engine()) as s:
        states = dict(s.exec(select(Case.code, Case.state).where(col(Case.code).in_([andrii, aminata]))).all())
        assert states == {andrii: State.PROFILE_READY, aminata: State.NO_SHOW}
        case_id = s.exec(select(Case.id).where(Case.code == andrii)).one()
        moves = [
            (e.from_state, e.to_state)
            for e in s.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))).all()
        ]
        assert moves[-2:] == [(State.INTAKE_SCHEDULED, State.INTAKE_DONE), (State.INTAKE_DONE, State.PROFILE_READY)]
        answered = s.exec(select(AuditLog).where(AuditLog.action == "form_answer")).all()
        assert {(a.actor, a.case_code, a.purpose) for a in answered} == {
            (f"scrivania:{OPERATOR}", code, f"modulo {run_id}") for code in (andrii, aminata)
        }

    from prefect import get_client

    with get_client(sync_client=True) as client:
        stored = client.filter_flow_run_input(UUID(run_id), key_prefix="", limit=200, exclude_keys=set())
        run = client.read_flow_run(UUID(run_id))
    answers = [i.value for i in stored if i.key.endswith("-response")]
    assert answers and andrii in answers[-1] and aminata in answers[-1] and '"B1"' in answers[-1]
    kept = " ".join([*(i.value for i in stored), run.name, str(run.parameters)]).casefold()
    assert not [name for name in NAMES if name.casefold() in kept], "a name reached Prefect"
    assert not re.search(r"pesenti|laura", kept), "the operator's identity reached Prefect"
    print(f"\nscreenshots in {tmp_path}")
