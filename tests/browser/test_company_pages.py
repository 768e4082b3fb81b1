"""Confindustria's batch page and a company's shortlist in headless Chromium, with the keyboard
alone: Confindustria sends one company its link, the company opens its profiles and the answer
form, then answers on its vacancy's shortlist (not interested with a reason, an interview with
its date) through to a hire. axe-core checks every page: 0 serious or critical violations."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from deploy.stack import free_port
from models import clock
from models.cases import Case
from models.enums import OutcomeKind, State
from models.exchange import CompanyLink, Outcome
from portal.server import running_portal
from tasks.mail.links import PURPOSE_BATCH, PURPOSE_SHORTLIST, page_url
from tasks.runtime import events
from tests.browser.a11y import assert_accessible
from tests.unit.test_company_pages import CONFINDUSTRIA, WELDING, _batch, _local, _shortlist

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

WELDING_NAME = "Officine Meccaniche Valseriana S.r.l."


def _tab_to(page: Any, wanted: str, presses: int = 120) -> None:
    """Press Tab until the focused control has ``wanted`` as id or accessible text (keyboard only)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const el = document.activeElement;
                 return [el.id, el.getAttribute('aria-label') || '', (el.textContent || '').trim()]; }"""
        )
        if wanted in focused:
            return
    raise AssertionError(f"{wanted!r} not reachable with Tab")


def _keys_for(page: Any, day: date) -> str:
    """What a person types in this browser's date field: its segments follow the browser's own
    locale (day first in Italian, month first in a US build), found once with a probe field."""
    page.evaluate(
        "() => { const i = document.createElement('input'); i.type = 'date'; i.id = 'sonda';"
        " document.body.append(i); i.focus(); }"
    )
    page.keyboard.type("01022026")
    probe = page.evaluate(
        "() => { const i = document.getElementById('sonda'); const v = i.value; i.remove(); return v; }"
    )
    return day.strftime("%d%m%Y" if probe == "2026-02-01" else "%m%d%Y")


def test_batch_page_then_shortlist_to_a_hire_with_the_keyboard(
    browser: Any, engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "emit_now", [].append)  # no Prefect here: events stop at the door
    with Session(engine, expire_on_commit=False) as s:
        _batch(s, 6)
        vacancy, olena, mykola, third = _shortlist(s, tmp_path)
    batch_path = _local(page_url(PURPOSE_BATCH, CONFINDUSTRIA, "DSP-20261204-01"))
    shortlist_path = _local(page_url(PURPOSE_SHORTLIST, WELDING, vacancy))
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="it-IT")
    page = context.new_page()
    with running_portal(port=free_port()) as portal:
        # Confindustria: one click (Enter) sends the welding shop its link, recorded
        page.goto(portal.url + batch_path, wait_until="domcontentloaded")
        page.get_by_role("heading", name="Lotto DSP-20261204-01: profili per le aziende associate").wait_for()
        assert_accessible(page, "pagina del lotto")
        _tab_to(page, f"Invia il link a {WELDING_NAME}")
        page.keyboard.press("Enter")
        page.get_by_text("Inviati 1 link alle aziende").wait_for()
        assert_accessible(page, "pagina del lotto dopo l'invio")
        with Session(engine) as s:
            (sent,) = s.exec(select(CompanyLink).where(CompanyLink.kind == "batch")).all()
        assert sent.company_code == WELDING and sent.case_codes

        # the company's page of the batch opens the existing answer form
        from tasks.mail.links import PURPOSE_COMPANY_BATCH

        page.goto(portal.url + _local(page_url(PURPOSE_COMPANY_BATCH, WELDING, "DSP-20261204-01")))
        page.get_by_role("heading", name=f"Profili per {WELDING_NAME}").wait_for()
        assert_accessible(page, "profili dell'azienda")
        _tab_to(page, f"Rispondi sul profilo {sent.case_codes[0]}")
        page.keyboard.press("Enter")
        page.get_by_role("heading", name=f"Risposta di {WELDING_NAME}").wait_for()

        # the shortlist: "no" without a reason is refused, in Italian, accessibly
        page.goto(portal.url + shortlist_path, wait_until="domcontentloaded")
        page.get_by_role("heading", name="Candidati per «Saldatore a filo continuo»").wait_for()
        assert_accessible(page, "rosa della posizione")
        n = {
            code: page.locator(f"section:has(h2:text-is('Profilo {code}'))").get_attribute("id")
            for code in (olena.code, mykola.code, third.code)
        }
        _tab_to(page, f"colloquio-{n[third.code][1:]}")
        page.keyboard.press("ArrowDown")  # within the radio group: "Non siamo interessati"
        _tab_to(page, f"Invia la risposta sul profilo {third.code}")
        page.keyboard.press("Enter")
        page.get_by_text("scegliete il motivo dall'elenco").wait_for()
        assert_accessible(page, "rosa con errore")
        _tab_to(page, f"motivo-{n[third.code][1:]}")
        page.keyboard.press("ArrowDown")  # the first reason of the closed list
        _tab_to(page, f"Invia la risposta sul profilo {third.code}")
        page.keyboard.press("Enter")
        page.get_by_text("Risposta registrata. Grazie.").wait_for()

        # an interview for Olena, then its date, then the hire
        k = n[olena.code][1:]
        _tab_to(page, f"colloquio-{k}")
        page.keyboard.press("Space")
        _tab_to(page, f"Invia la risposta sul profilo {olena.code}")
        page.keyboard.press("Enter")
        page.get_by_text("Risposta registrata. Grazie.").wait_for()
        assert "recapiti della persona vi sono stati inviati" in page.inner_text(f"#p{k}")
        interview = clock.today() + timedelta(days=5)
        keys = _keys_for(page, interview)
        _tab_to(page, f"data-colloquio-{k}")
        page.keyboard.type(keys)
        _tab_to(page, "Salva la data del colloquio")
        page.keyboard.press("Enter")
        page.get_by_text(f"colloquio il {interview:%d/%m/%Y}").wait_for()
        assert_accessible(page, "rosa dopo il colloquio")
        start = clock.today() + timedelta(days=20)
        _tab_to(page, f"assunta-{k}")
        page.keyboard.press("Space")
        keys = _keys_for(page, start)
        _tab_to(page, f"inizio-{k}")
        page.keyboard.type(keys)
        _tab_to(page, "Registra l'esito")
        page.keyboard.press("Enter")
        page.get_by_text(f"assunta dal {start:%d/%m/%Y}").wait_for()
        assert_accessible(page, "rosa dopo l'assunzione")
        page.screenshot(path=str(tmp_path / "rosa-assunta.png"), full_page=True)
    context.close()
    with Session(engine) as s:
        hired = s.get(Case, olena.id)
        assert hired is not None and hired.state is State.HIRED
        hire = s.exec(select(Outcome).where(Outcome.kind == OutcomeKind.HIRED)).one()
        assert (hire.vacancy_code, hire.start) == (vacancy, start)
        other = s.get(Case, mykola.id)
        assert other is not None and other.state is State.DISPATCHED  # untouched
