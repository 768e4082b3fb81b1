"""The partners' pages in headless Chromium, served by the portal's uvicorn app on SQLite: a
Caritas volunteer opens the link of her organisation, reaches every field of the referral form
with Tab, sends a form with mistakes and reads the Italian errors next to the fields, refers a
woman her organisation had already referred (the duplicate warning names her), confirms, then
refers a new person and reads the status of the organisation's referrals (not another
partner's). Every page is checked with axe-core (no serious or critical violation)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from deploy.stack import free_port
from models.cases import Case
from models.enums import ConsentPurpose, State
from models.ops import Outbox
from portal.partners.referral_form import FIELDS
from portal.server import running_portal
from tasks.mail.links import sign_partner_link
from tasks.runtime import events, steps
from tests.browser.a11y import assert_accessible, tab_through
from tests.factories import make_case, seed_partners

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CARITAS, PONTE = "CARITAS-BG", "ASSOC-PONTE-UCRAINA"


@pytest.fixture
def referrals(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> dict[str, Case]:
    # no Prefect server here: the import's announcement is recorded instead of sent
    monkeypatch.setattr(steps, "emit_confirmed", lambda specs, **_kw: len(specs))
    monkeypatch.setattr(events, "emit_now", lambda _spec: None)
    told = (ConsentPurpose.CPI_PROCESSING, ConsentPurpose.REFERRER_CONTACT)
    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        return {
            "oksana": make_case(
                s, state=State.INTAKE_SCHEDULED, referrer=CARITAS, consents=told, family_name="Shevchenko",
                given_names="Oksana", birth_date=date(1987, 3, 14), phone="+380671234567",
            ),
            "hanna": make_case(s, state=State.LITERACY, referrer=CARITAS, consents=told, family_name="Bondarenko",
                               given_names="Hanna"),
            "iryna": make_case(s, state=State.DISPATCHED, referrer=PONTE, consents=told, family_name="Melnyk",
                               given_names="Iryna"),
        }  # fmt: skip


def test_a_volunteer_refers_people_and_follows_them(
    browser: Any, referrals: dict[str, Case], engine: Engine, tmp_path: Path
) -> None:
    with running_portal(port=free_port()) as portal:
        # no JavaScript on these pages; it stays enabled only so that axe-core can run in the page
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(f"{portal.url}/segnalazioni/stato", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Pagina riservata agli enti").wait_for()

        page.goto(f"{portal.url}/segnalazioni/accesso/{sign_partner_link(CARITAS)}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Segnala una persona").wait_for()
        assert "/accesso/" not in page.url  # the credential leaves the address bar
        assert_accessible(page, "modulo")
        reached = tab_through(page, "modulo")
        wanted = [f"campo-{name}" for name, *_ in FIELDS] + ["campo-consent_privacy", "campo-consent_confindustria"]
        assert [r for r in reached if r.startswith("campo-")] == wanted  # every field, in reading order
        assert "Invia la segnalazione" in reached

        # keyboard only: a form with mistakes
        page.locator("body").focus()
        while page.evaluate("document.activeElement.id") != "campo-given_names":
            page.keyboard.press("Tab")
        page.keyboard.type("Mariia")
        page.get_by_label("Email").fill("mariia.tkachenko@")
        page.get_by_label("Email").press("Enter")
        page.get_by_role("heading", name="La segnalazione non è stata inviata").wait_for()
        main = page.inner_text("main")
        assert "Campo obbligatorio" in main and "Indirizzo e-mail non valido" in main
        assert "Senza il consenso della persona" in main
        assert page.locator("#campo-given_names").input_value() == "Mariia"  # nothing to type again
        assert_accessible(page, "errori")
        page.screenshot(path=str(tmp_path / "segnalazione-errori.png"), full_page=True)

        # a person already referred by this organisation: named in the warning, sent on confirmation
        page.get_by_label("Cognome").fill("Shevchenko")
        page.locator("#campo-given_names").fill("Oksana")
        page.get_by_label("Data di nascita").fill("14/03/1987")
        page.get_by_label("Telefono").fill("067 123 4567")
        page.get_by_label("Email").fill("")
        page.get_by_label("Comune di residenza o domicilio").fill("Seriate")
        page.get_by_label("Ho letto l'informativa").check()
        page.get_by_role("button", name="Invia la segnalazione").click()
        page.get_by_role("heading", name="Possibile persona già segnalata").wait_for()
        warning = page.inner_text("#duplicato")
        assert "Shevchenko Oksana" in warning and referrals["oksana"].code in warning
        assert_accessible(page, "duplicato")
        page.get_by_label("Ho controllato: inviate comunque la segnalazione").check()
        page.get_by_role("button", name="Invia la segnalazione").click()
        page.get_by_role("heading", name="Segnalazione ricevuta").wait_for()
        assert referrals["oksana"].code in page.inner_text("main")  # merged into the case she has

        # a new person
        page.get_by_role("link", name="Segnala un'altra persona").click()
        page.get_by_label("Cognome").fill("Tkachenko")
        page.locator("#campo-given_names").fill("Mariia")
        page.get_by_label("Data di nascita").fill("02/07/1994")
        page.get_by_label("Telefono").fill("+39 351 204 7781")
        page.get_by_label("Comune di residenza o domicilio").fill("Dalmine (BG)")
        page.get_by_label("Livello di italiano").select_option("A2")
        page.get_by_label("Esperienze di lavoro").fill("magazziniera, addetta alle pulizie")
        page.get_by_label("Ho letto l'informativa").check()
        page.get_by_role("button", name="Invia la segnalazione").click()
        page.get_by_role("heading", name="Segnalazione ricevuta").wait_for()
        assert_accessible(page, "ricevuta")
        new_code = page.inner_text("strong >> nth=0")

        page.get_by_role("link", name="Le nostre segnalazioni").first.click()
        page.get_by_role("heading", name="Le persone segnalate da").wait_for()
        table = page.inner_text("table")
        assert "Tkachenko Mariia" in table and new_code in table and "presa in carico" in table
        assert "Bondarenko Hanna" in table and "corso di italiano" in table
        assert "Melnyk" not in page.content() and referrals["iryna"].code not in page.content()
        assert_accessible(page, "stato")
        assert "Salva la scelta" in tab_through(page, "stato")
        page.screenshot(path=str(tmp_path / "segnalazioni-stato.png"), full_page=True)
        page.close()

    with Session(engine) as s:
        acks = s.exec(select(Outbox).where(Outbox.kind == "referral_ack")).all()
        assert {a.recipient_code for a in acks} == {CARITAS} and len(acks) == 2
        new = s.exec(select(Case).where(Case.code == new_code)).one()
        assert new.state is State.ACCEPTED and new.office_code is not None
    print(f"\nscreenshots in {tmp_path}")
