"""A company answers from the email, in headless Chromium, against the live stack: the dispatch
flow (run through its deployment) writes a real .eml with signed links; the company opens its
link, answers "colloquio" and sees the confirmation; the incontro.interest.recorded event
triggers the interest flow, which moves the case to INTEREST and then INTERVIEW."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, col, select

from config.settings import get_settings
from deploy.client import start, wait_done, wait_until
from deploy.stack import Stack, free_port
from models.cases import Case, CaseEvent
from models.enums import State
from models.exchange import DispatchBatch, Interest
from models.people import Person
from portal.server import running_portal
from tasks.mail.smtp_sink import MailSink
from tasks.runtime.db import get_engine
from tests.factories import SHAREABLE, make_case

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

COMPANY_NAME = "Officine Meccaniche Valseriana S.r.l."  # sectors include 7212, the profiles' code


def _dispatch_eml(mail_dir: Path, case_code: str) -> Path:
    """The .eml the sink saved for the dispatch email that lists ``case_code``."""
    for path in sorted(mail_dir.glob("*-dispatch_confindustria.eml")):
        if case_code.encode() in path.read_bytes() or case_code in _html(path):
            return path
    raise AssertionError(f"no dispatch email for {case_code} in {mail_dir}")


def _html(path: Path) -> str:
    message = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def _batch_link(body: str) -> str:
    """The one link of the dispatch email: Confindustria's page of the batch (issue 20)."""
    match = re.search(r'<a href="([^"]+/profili/lotto/[^"]+)"', body)
    assert match is not None, "no batch page link in the dispatch email"
    return html.unescape(match.group(1))


def _flow_run(run_id: Any) -> Any:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


@contextmanager
def _prefect_client_of(stack: Stack) -> Iterator[None]:
    """Prefect freezes its settings when first imported (maybe before the live stack existed):
    point this thread's client at the stack. The portal's threads read the environment anew."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    updates: dict[Any, Any] = {PREFECT_API_URL: stack.api_url}
    if "PREFECT_API_AUTH_STRING" in stack.env:
        updates[PREFECT_API_AUTH_STRING] = stack.env["PREFECT_API_AUTH_STRING"]
    with temporary_settings(updates=updates):
        yield


def test_company_answers_colloquio_from_the_dispatch_email(
    browser: Any, live_env: tuple[Stack, MailSink, Path], tmp_path: Path
) -> None:
    stack, _sink, var = live_env
    with _prefect_client_of(stack):
        _answer_from_the_email(browser, stack, var, tmp_path)


def _answer_from_the_email(browser: Any, stack: Stack, var: Path, tmp_path: Path) -> None:
    engine = get_engine()
    with Session(engine, expire_on_commit=False) as s:
        answered, other = (
            make_case(s, state=State.PROFILE_READY, consents=SHAREABLE, profile={"occupations": ["7212"]})
            for _ in range(2)
        )
        person = s.exec(select(Person).where(Person.key == answered.person_key)).one()
    batch = f"DSP-PORTAL-{int(time.time())}"
    wait_done(start("dispatch/dispatch", {"batch_code": batch, "case_codes": [answered.code, other.code]}))
    with Session(engine) as s:
        assert s.exec(select(DispatchBatch).where(DispatchBatch.code == batch)).one().profile_count == 2

    eml = _dispatch_eml(var / "mail", answered.code)
    link = _batch_link(_html(eml))
    base = get_settings().portal_base_url
    assert link.startswith(f"{base}/profili/lotto/"), link  # signed by the serve process for the configured portal

    with running_portal(port=free_port()) as portal:
        # the configured address is where `make serve` puts the portal; this test's portal runs
        # on a free port, so the link's path (the signed token) is opened there. Confindustria
        # sends the company its page from the batch page; the company opens its answer form there.
        page = browser.new_page(viewport={"width": 1000, "height": 900}, java_script_enabled=False)
        page.goto(portal.url + urlsplit(link).path, wait_until="domcontentloaded")
        page.get_by_role("button", name=f"Invia il link a {COMPANY_NAME}").click()
        page.get_by_text("Inviati 1 link alle aziende").wait_for(timeout=15_000)
        from tasks.mail.links import PURPOSE_COMPANY_BATCH, page_url

        company_page = urlsplit(page_url(PURPOSE_COMPANY_BATCH, "COMP-OFFICINE-VALSERIANA", batch)).path
        page.goto(portal.url + company_page, wait_until="domcontentloaded")
        page.get_by_role("link", name=f"Rispondi sul profilo {answered.code}").click()
        page.get_by_role("heading", name=f"Risposta di {COMPANY_NAME}").wait_for(timeout=15_000)
        body = page.inner_text("body")
        assert answered.code in body and "7212" in body
        for value in (person.family_name, person.given_names, person.email):
            assert value and value not in page.content()  # no personal data on the page
        page.screenshot(path=str(tmp_path / "portal-form.png"), full_page=True)
        answered_at = time.time()
        page.get_by_label("Vogliamo fissare un colloquio").check()
        page.get_by_role("button", name="Invia la risposta").click()
        page.get_by_role("heading", name="Risposta registrata").wait_for(timeout=15_000)
        confirmation = page.inner_text("body")
        assert "colloquio" in confirmation and answered.code in confirmation
        assert page.url.endswith("/conferma")
        page.screenshot(path=str(tmp_path / "portal-confirmation.png"), full_page=True)

    with Session(engine) as s:
        interest = s.exec(select(Interest).where(Interest.case_id == answered.id)).one()
        assert (interest.company_code, interest.channel) == ("COMP-OFFICINE-VALSERIANA", "portal")

    def moved() -> bool:
        with Session(engine) as s:
            return s.get(Case, answered.id).state is State.INTERVIEW  # type: ignore[union-attr]

    wait_until(moved, "case moved to INTERVIEW by the triggered interest flow", timeout=180)
    with Session(engine) as s:
        history = s.exec(select(CaseEvent).where(CaseEvent.case_id == answered.id).order_by(col(CaseEvent.id))).all()
        assert s.get(Case, other.id).state is State.DISPATCHED  # type: ignore[union-attr]
    moves = [(e.from_state, e.to_state, e.actor) for e in history[-2:]]
    assert moves == [
        (State.DISPATCHED, State.INTEREST, "flow:interest"),
        (State.INTEREST, State.INTERVIEW, "flow:interest"),
    ]
    run_id = history[-1].flow_run_id
    assert run_id is not None and history[-2].flow_run_id == run_id
    wait_done(run_id)
    flow_run = _flow_run(run_id)
    assert flow_run.created_by is not None and flow_run.created_by.type == "AUTOMATION"  # the trigger
    assert flow_run.created.timestamp() >= answered_at - 5
    assert flow_run.state is not None and flow_run.state.is_completed()

    ui = browser.new_page(viewport={"width": 1400, "height": 1000})
    ui.goto(f"{stack.ui_url}/runs/flow-run/{run_id}", wait_until="domcontentloaded")
    ui.get_by_text("interest", exact=False).first.wait_for(timeout=45_000)
    ui.get_by_text("Completed", exact=False).first.wait_for(timeout=45_000)
    ui.screenshot(path=str(tmp_path / "interest-run.png"), full_page=True)
    ui.close()
    page.close()
    print(f"\nscreenshots in {tmp_path}")


def test_portal_pages_are_accessible(browser: Any, engine: Any) -> None:
    """axe-core on the company's pages (home, answer form, its error and a refused link): no serious
    or critical violation, every field labelled (WCAG 2.1 AA, AgID guidelines)."""
    from tasks.mail.links import sign_link
    from tests.browser.a11y import assert_accessible
    from tests.factories import seed_partners

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        case = make_case(s, state=State.DISPATCHED, consents=SHAREABLE, profile={"occupations": ["7212"]})
    token = sign_link("COMP-OFFICINE-VALSERIANA", case.code)
    with running_portal(port=free_port()) as portal:
        page = browser.new_page(viewport={"width": 1000, "height": 900})  # JavaScript only for axe-core
        for path, heading in (
            ("/", "Risposte delle aziende ai profili"),
            (f"/r/{token}", f"Risposta di {COMPANY_NAME}"),
            ("/r/non-un-link-valido", None),
        ):
            page.goto(portal.url + path, wait_until="domcontentloaded")
            if heading:
                page.get_by_role("heading", name=heading).wait_for(timeout=30_000)
            assert_accessible(page, path)
        page.goto(portal.url + f"/r/{token}", wait_until="domcontentloaded")
        page.get_by_role("button", name="Invia la risposta").click()  # no answer chosen: the error version
        assert_accessible(page, "risposta senza scelta")
        page.close()
