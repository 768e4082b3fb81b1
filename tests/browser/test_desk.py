"""The desk in headless Chromium, served by the portal's uvicorn app on SQLite: an operator signs
in with the keyboard alone, finds a person whose name was referred in Cyrillic by typing it in
Latin, records the consent that releases her contacts to the company that asked (the release
email is queued), and closes another case with a reason (the referrer's email is queued).
Every page is checked with axe-core (no serious or critical violation) and for labels and focus."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from deploy.stack import free_port
from models import clock
from models.accounts import Role
from models.cases import Case
from models.enums import ConsentPurpose, InterestAnswer, State
from models.exchange import Interest
from models.ops import Outbox
from portal.desk.security import add_user
from portal.server import running_portal
from tasks.files.normalize import normalize_name
from tests.browser.a11y import assert_accessible, tab_through
from tests.factories import SHAREABLE, make_case, seed_partners

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "Sportello-Bergamo-2026"
COMPANY = "COMP-OFFICINE-VALSERIANA"
COMPANY_NAME = "Officine Meccaniche Valseriana S.r.l."


@pytest.fixture
def office(engine: Engine) -> dict[str, Case]:
    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        add_user(s, username="a.locatelli", password=PASSWORD, role=Role.OPERATOR, office_code="CPI-BG",
                 full_name="Anna Locatelli")  # fmt: skip
        s.commit()
        everyone = (*SHAREABLE, ConsentPurpose.REFERRER_CONTACT)
        olena = make_case(
            s, state=State.INTERVIEW, consents=everyone, profile={}, family_name="Коваленко", given_names="Олена",
            name_norm=normalize_name("Коваленко Олена"), phone="+393331234567",
        )  # fmt: skip
        s.add(Interest(company_code=COMPANY, case_id=olena.id, answer=InterestAnswer.INTERVIEW, processed=True))
        moved = make_case(
            s, state=State.INTAKE_SCHEDULED, consents=everyone, family_name="Haddad", given_names="Yusuf",
            name_norm=normalize_name("Haddad Yusuf"),
        )  # fmt: skip
        at = datetime.combine(clock.today(), time(9, 30), tzinfo=clock.ROME).astimezone(UTC)
        moved.intake_at = at + timedelta(0)
        s.add(moved)
        s.commit()
    return {"olena": olena, "moved": moved}


def test_an_operator_works_a_morning_at_the_desk(browser: Any, office: dict[str, Case], engine: Engine,
                                                 tmp_path: Path) -> None:  # fmt: skip
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # no Prefect server for this desk, whatever an earlier test of this worker set up (the portal
    # thread runs in a copy of this context)
    with temporary_settings(restore_defaults={PREFECT_API_URL}), running_portal(port=free_port()) as portal:
        # the desk has no JavaScript; it stays enabled only so that axe-core can run in the page
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(f"{portal.url}/scrivania/", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Accesso alla scrivania").wait_for()
        assert_accessible(page, "accesso")
        reached = set(tab_through(page, "accesso", presses=40))
        assert {"username", "password"} <= reached

        # keyboard only: skip link, user name, password, Enter
        page.locator("body").focus()
        while page.evaluate("document.activeElement.id") != "username":
            page.keyboard.press("Tab")
        page.keyboard.type("a.locatelli")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Appuntamenti di oggi").wait_for()
        assert "Haddad Yusuf" in page.inner_text("main") and "09:30" in page.inner_text("main")
        assert_accessible(page, "oggi")
        tab_through(page, "oggi", presses=40)
        page.screenshot(path=str(tmp_path / "desk-oggi.png"), full_page=True)

        page.get_by_role("link", name="Pratiche").click()
        page.get_by_label("Nome, codice fiscale, telefono o codice pratica").fill("Kovalenko Olena")
        page.get_by_role("button", name="Cerca").click()
        page.get_by_role("heading", name="Risultati della ricerca (1)").wait_for()
        assert "Коваленко Олена" in page.inner_text("main")
        assert "Kovalenko" not in page.url
        assert_accessible(page, "pratiche")
        tab_through(page, "pratiche", presses=40)
        page.screenshot(path=str(tmp_path / "desk-pratiche.png"), full_page=True)

        code = office["olena"].code
        page.get_by_role("link", name=code).click()
        page.get_by_role("heading", name=f"Pratica {code}: Коваленко Олена").wait_for()
        assert_accessible(page, "scheda")
        tab_through(page, "scheda")
        page.get_by_label("Scopo").select_option(label="comunicazione dei recapiti all'azienda interessata")
        page.get_by_label("Destinatario").select_option(label=COMPANY_NAME)
        page.get_by_label("Raccolto").select_option(label="di persona, allo sportello")
        page.get_by_role("button", name="Registra il consenso").click()
        page.get_by_text("i recapiti sono stati messi in invio all'azienda").wait_for()
        assert "di persona, allo sportello, registrato da a.locatelli" in page.inner_text("main")
        page.screenshot(path=str(tmp_path / "desk-scheda.png"), full_page=True)

        moved = office["moved"].code
        page.goto(f"{portal.url}/scrivania/pratiche/{moved}", wait_until="domcontentloaded")
        page.get_by_label("Motivo della chiusura").select_option(label="ha trovato lavoro autonomamente")
        page.get_by_role("button", name="Chiudi la pratica").click()
        page.get_by_text("Pratica chiusa.").wait_for()
        assert "Stato: chiusa" in page.inner_text("main")
        assert_accessible(page, "scheda chiusa")

        page.get_by_role("link", name="Moduli").click()  # no Prefect server here: the page says so
        page.get_by_role("heading", name="Moduli non disponibili").wait_for()
        assert_accessible(page, "moduli")
        page.get_by_role("button", name="Esci").click()
        page.get_by_text("Siete usciti dalla scrivania.").wait_for()
        page.close()

    with Session(engine) as s:
        mails = {(o.kind, o.case_code, o.recipient_code) for o in s.exec(select(Outbox)).all()}
        assert ("contact_release", code, COMPANY) in mails
        assert ("case_closed", moved, "CARITAS-BG") in mails
        assert s.exec(select(Case.state).where(Case.code == moved)).one() is State.CLOSED
    print(f"\nscreenshots in {tmp_path}")
