"""Confindustria's batch page and the companies' pages (portal/companies) through FastAPI's test
client on a real migrated SQLite database: the dispatch email stays small, each company's send
is recorded once, links are bound to their page and expire, forms need their CSRF token, a
company answers per profile of its vacancy's shortlist, and a person's contacts reach it only
with her consent for that company; then a hire, counted in the per-vacancy KPI."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import clock
from models.cases import Case
from models.enums import Cefr, ConsentPurpose, InterestAnswer, Licence, OutcomeKind, State
from models.exchange import CompanyLink, Interest, Outcome
from models.ops import Outbox, OutboxAttachment
from models.people import Person
from portal.app import create_app
from tasks.core.consent import grant_consent
from tasks.dispatch import dispatch_profiles
from tasks.mail.links import (
    PURPOSE_BATCH,
    PURPOSE_COMPANY_BATCH,
    PURPOSE_SHORTLIST,
    page_url,
    sign_link,
)
from tasks.mail.message import build_message
from tasks.reports.kpis import Period
from tasks.reports.vacancy_kpis import vacancy_pipeline
from tasks.runtime import events
from tasks.vacancies import ingest_vacancy_file, match_vacancies, send_shortlists
from tests.factories import SHAREABLE, make_case, seed_partners

with warnings.catch_warnings():  # Starlette prefers the httpx2 fork, which is not in the lock
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

CONFINDUSTRIA = "CONFINDUSTRIA-BG"
WELDING = "COMP-OFFICINE-VALSERIANA"  # sectors 7212, 7223, 7233, 8211, 3115
HOTEL = "COMP-ALBERGO-COLLE"  # sectors 5120 (cooks), 5131, 9412, ...
#: A partner batch as the CPIs build it: welders, cooks, drivers, cleaners, builders, warehouse staff.
OCCUPATIONS = (["7212"], ["5120", "9412"], ["8322"], ["9112"], ["7112", "9313"], ["9333"], ["7223"], ["5131"])
AREAS = ("Seriate", "Dalmine", "Treviglio", "Albino", "Zingonia", "Ponte San Pietro")


@pytest.fixture(autouse=True)
def emitted(monkeypatch: pytest.MonkeyPatch) -> list[events.EventSpec]:
    """Events as they leave for Prefect after commit (the network hop is the only thing cut)."""
    out: list[events.EventSpec] = []
    monkeypatch.setattr(events, "emit_now", out.append)
    return out


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as c:
        yield c


def _local(url: str) -> str:
    """The path of a link as the email carries it (the test client speaks to the app directly)."""
    return re.sub(r"^https?://[^/]+", "", url)


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _batch(session: Session, n: int, code: str = "DSP-20261204-01") -> list[Case]:
    seed_partners(session)
    cases = []
    for i in range(n):
        cases.append(
            make_case(
                session,
                state=State.PROFILE_READY,
                consents=SHAREABLE,
                profile={
                    "occupations": OCCUPATIONS[i % len(OCCUPATIONS)],
                    "italian": (Cefr.A2, Cefr.B1, Cefr.A1)[i % 3],
                    "licence": (Licence.B, Licence.NONE)[i % 2],
                    "area": AREAS[i % len(AREAS)],
                },
                family_name=("Kovalenko", "Bondarenko", "Russo", "Shevchenko", "Bianchi")[i % 5] + f"{i}",
                given_names=("Olena", "Mykola", "Giulia", "Oksana", "Marco")[i % 5],
            )
        )
    dispatch_profiles(session, batch_code=code, today=date(2026, 12, 4), max_profiles=n + 1)
    session.commit()
    return cases


# ------------------------------------------------------------------------------------ dispatch email


def test_dispatch_email_of_200_profiles_is_a_summary_under_100_kb(session: Session, client: TestClient) -> None:
    cases = _batch(session, 200)
    row = session.exec(select(Outbox).where(Outbox.kind == "dispatch_confindustria")).one()
    files = session.exec(select(OutboxAttachment).where(OutboxAttachment.outbox_id == row.id)).all()
    session.commit()
    size = len(build_message(row, files, mail_from="incontro@provincia.bergamo.example").as_bytes())
    assert size < 100_000, size  # mail clients clip above ~100 KB (the old email: 490 KB for 187)
    assert [f.filename for f in files] == ["profili-DSP-20261204-01.xlsx"]
    urls = re.findall(r'href="([^"]+)"', row.body_html or "")
    assert len(urls) == 1 and "/profili/lotto/" in urls[0] and urls[0] in row.body_text  # one link, no /r/
    assert "200 profili" in row.body_text and all(c.code in row.body_text for c in cases)
    page = client.get(_local(urls[0]))
    assert page.status_code == 200
    text = _text(page.text)
    assert all(c.code in text for c in cases)
    assert "Saldatori e tagliatori a fiamma" in text or "(7212)" in text
    assert "full_time" not in page.text and "none" not in text.split()  # labels, never stored values
    with Session(session.get_bind()) as s:
        person = s.exec(select(Person).where(Person.key == cases[0].person_key)).one()
    assert person.family_name not in page.text and person.email not in page.text


# ------------------------------------------------------------------------------------ batch page


def test_one_click_per_company_then_all_each_recorded_once(
    engine: Engine, session: Session, client: TestClient
) -> None:
    cases = _batch(session, 16)
    path = _local(page_url(PURPOSE_BATCH, CONFINDUSTRIA, "DSP-20261204-01"))
    response = client.post(path, data={"csrf": _csrf(client, path), "azienda": WELDING})
    assert response.status_code == 303 and "inviate=1" in response.headers["location"]
    with Session(engine) as s:
        (link,) = s.exec(select(CompanyLink)).all()
        welders = {c.code for c in cases if c.id is not None and (OCCUPATIONS.index(_occ(s, c)) in (0, 6))}
        assert (link.kind, link.subject_code, link.company_code) == ("batch", "DSP-20261204-01", WELDING)
        assert welders <= set(link.case_codes)
        mail = s.exec(select(Outbox).where(Outbox.kind == "company_profiles")).one()
        assert mail.recipient_code == WELDING and mail.recipient == "selezione@officine-valseriana.example"
    assert "Inviato il" in _text(client.get(path).text)
    response = client.post(path, data={"csrf": _csrf(client, path), "azienda": "tutte"})
    assert response.status_code == 303
    with Session(engine) as s:
        sent = {link.company_code: link for link in s.exec(select(CompanyLink)).all()}
        assert WELDING in sent and HOTEL in sent and len(sent) >= 4
        assert len(s.exec(select(Outbox).where(Outbox.kind == "company_profiles")).all()) == len(sent)
    again = client.post(path, data={"csrf": _csrf(client, path), "azienda": "tutte"})
    assert "inviate=0" in again.headers["location"]  # nothing goes twice
    with Session(engine) as s:
        assert len(s.exec(select(Outbox).where(Outbox.kind == "company_profiles")).all()) == len(sent)
    # the company's own link shows its profiles only, each opening the existing answer flow
    mine = client.get(_local(page_url(PURPOSE_COMPANY_BATCH, HOTEL, "DSP-20261204-01")))
    assert mine.status_code == 200
    assert set(re.findall(r"BG-2026-9\d{5}", mine.text)) == set(sent[HOTEL].case_codes)
    answer = re.search(r'href="(/r/[^"]+)"', mine.text)
    assert answer is not None and client.get(answer.group(1)).status_code == 200


def _occ(session: Session, case: Case) -> list[str]:
    from models.cases import Profile

    profile = session.exec(select(Profile).where(Profile.case_id == case.id)).one()
    return list(profile.occupations)


def test_company_not_in_the_list_is_refused_and_nothing_sent(
    engine: Engine, session: Session, client: TestClient
) -> None:
    _batch(session, 8)
    path = _local(page_url(PURPOSE_BATCH, CONFINDUSTRIA, "DSP-20261204-01"))
    response = client.post(path, data={"csrf": _csrf(client, path), "azienda": "COMP-NON-ESISTE"})
    assert response.status_code == 422 and "Scegliete un'azienda" in _text(response.text)
    with Session(engine) as s:
        assert s.exec(select(CompanyLink)).all() == []


def test_batch_page_refuses_tampered_expired_foreign_links_and_missing_csrf(
    engine: Engine, session: Session, client: TestClient
) -> None:
    _batch(session, 8)
    good = _local(page_url(PURPOSE_BATCH, CONFINDUSTRIA, "DSP-20261204-01"))
    token = good.rsplit("/", 1)[1]
    head, body, mac = token.split(".")
    tampered = f"{head}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{mac}"
    assert client.get(f"/profili/lotto/{tampered}").status_code == 400
    old = sign_link(CONFINDUSTRIA, "DSP-20261204-01", purpose=PURPOSE_BATCH, now=0)
    expired = client.get(f"/profili/lotto/{old}")
    assert expired.status_code == 410 and "Link scaduto" in expired.text
    # the refusal page is the companies' own: what was (not) done, and who may read the page
    assert "Nessuna operazione è stata registrata." in expired.text and "Nessuna risposta è stata" not in expired.text
    assert "Pagina riservata a chi ha ricevuto il link per email" in expired.text
    # a link of another purpose never opens this page (nor the answer form)
    company_token = sign_link(WELDING, "DSP-20261204-01", purpose=PURPOSE_COMPANY_BATCH)
    assert client.get(f"/profili/lotto/{company_token}").status_code == 400
    assert client.get(f"/r/{token}").status_code == 400
    # a company's token with the batch purpose is still not Confindustria's page
    assert (
        client.get(f"/profili/lotto/{sign_link(WELDING, 'DSP-20261204-01', purpose=PURPOSE_BATCH)}").status_code == 404
    )
    # no CSRF token, or one from another link: refused, nothing recorded
    _csrf(client, good)
    assert client.post(good, data={"azienda": "tutte"}).status_code == 403
    other = _local(page_url(PURPOSE_BATCH, CONFINDUSTRIA, "DSP-20261204-01", now=clock.utcnow().timestamp() - 5))
    assert client.post(good, data={"csrf": _csrf(client, other), "azienda": "tutte"}).status_code == 403
    with Session(engine) as s:
        assert s.exec(select(CompanyLink)).all() == []


def test_batch_page_post_is_rate_limited(engine: Engine, session: Session) -> None:
    _batch(session, 4)
    with TestClient(create_app(post_limit=(2, 60.0)), follow_redirects=False) as c:
        path = _local(page_url(PURPOSE_BATCH, CONFINDUSTRIA, "DSP-20261204-01"))
        for _ in range(2):
            c.post(path, data={"csrf": _csrf(c, path), "azienda": "tutte"})
        refused = c.post(path, data={"csrf": _csrf(c, path), "azienda": "tutte"})
        assert refused.status_code == 429 and "retry-after" in refused.headers


# ------------------------------------------------------------------------------------ vacancy pipeline


def _shortlist(session: Session, tmp_path: Path) -> tuple[str, Case, Case, Case]:
    """Three welders in the pool and a welding shop's position; the operator approves all three."""
    seed_partners(session)
    consenting = make_case(
        session,
        state=State.PROFILE_READY,
        consents=SHAREABLE,
        profile={"occupations": ["7212"], "italian": Cefr.B1, "area": "Albino"},
        family_name="Kovalenko",
        given_names="Olena",
        phone="+39 333 1234567",
    )
    grant_consent(
        session, consenting.person_key, ConsentPurpose.CONTACT_TO_COMPANY, recipient=WELDING, source="modulo CPI"
    )
    session.commit()
    other_company = make_case(
        session,
        state=State.DISPATCHED,
        consents=SHAREABLE,
        profile={"occupations": ["7212"], "area": "Nembro"},
        family_name="Bondarenko",
        given_names="Mykola",
    )
    grant_consent(
        session, other_company.person_key, ConsentPurpose.CONTACT_TO_COMPANY, recipient=HOTEL, source="modulo CPI"
    )
    session.commit()
    third = make_case(
        session, state=State.PROFILE_READY, consents=SHAREABLE, profile={"occupations": ["7212"], "area": "Gazzaniga"}
    )
    file = tmp_path / "posizioni.csv"
    deadline = (clock.today() + timedelta(days=90)).strftime("%d/%m/%Y")
    file.write_text(
        "Ragione sociale;Mansione;Sede di lavoro;Posti;Scadenza\n"
        f"Officine Meccaniche Valseriana S.r.l.;Saldatore a filo continuo;Albino (BG);2;{deadline}\n",
        encoding="utf-8",
    )
    import_id, counts = ingest_vacancy_file(session, file, CONFINDUSTRIA)
    assert import_id is not None and counts["accepted"] == 1
    match_vacancies(session, import_id, today=clock.today())
    code = counts["companies"][0]["vacancy"]
    approved = [consenting.code, other_company.code, third.code]
    assert send_shortlists(session, import_id, [{"vacancy_code": code, "approved": approved}]) == 1
    session.commit()
    return code, consenting, other_company, third


def _state(engine: Engine, case: Case) -> State:
    with Session(engine) as s:
        row = s.get(Case, case.id)
        assert row is not None
        return State(row.state)


def _act(client: TestClient, path: str, case: Case, action: str, **fields: str) -> Any:
    return client.post(path, data={"csrf": _csrf(client, path), "profilo": case.code, "azione": action, **fields})


def test_shortlist_goes_to_the_company_and_it_answers_per_profile_to_a_hire(
    engine: Engine, session: Session, client: TestClient, tmp_path: Path
) -> None:
    vacancy, olena, mykola, third = _shortlist(session, tmp_path)
    with Session(engine) as s:
        mail = s.exec(select(Outbox).where(Outbox.kind == "company_shortlist")).one()
        (link,) = s.exec(select(CompanyLink).where(CompanyLink.kind == "shortlist")).all()
    assert mail.recipient_code == WELDING and link.company_code == WELDING and link.subject_code == vacancy
    assert set(link.case_codes) == {olena.code, mykola.code, third.code}
    url = re.search(r'href="([^"]+/profili/posizione/[^"]+)"', mail.body_html or "")
    assert url is not None
    path = _local(url.group(1))
    page = client.get(path)
    assert page.status_code == 200
    assert all(c.code in page.text for c in (olena, mykola, third))
    assert "Kovalenko" not in page.text and "333" not in page.text
    # "not interested" needs a reason from the closed list
    refused = _act(client, path, third, "no")
    assert refused.status_code == 422 and "motivo" in refused.text
    assert _act(client, path, third, "no", motivo="patente_mancante").status_code == 303
    # interview for two profiles, with a date: contacts go only where the person consented
    day = (clock.today() + timedelta(days=7)).isoformat()
    assert _act(client, path, olena, "colloquio", data=day).status_code == 303
    assert _act(client, path, mykola, "colloquio").status_code == 303
    assert _state(engine, olena) is State.INTERVIEW and _state(engine, mykola) is State.INTERVIEW
    with Session(engine) as s:
        releases = s.exec(select(Outbox).where(Outbox.kind == "contact_release")).all()
        assert [r.case_code for r in releases] == [olena.code]  # Mykola consented to the hotel only
        assert releases[0].recipient_code == WELDING and "+39 333 1234567" in releases[0].body_text
        answers = {i.case_id: i for i in s.exec(select(Interest)).all()}
        assert answers[olena.id].interview_on == date.fromisoformat(day)
        assert answers[third.id].answer is InterestAnswer.NO and answers[third.id].reason == "patente_mancante"
    text = _text(client.get(path).text)
    assert "non ha ancora dato il consenso" in text and "recapiti della persona vi sono stati inviati" in text
    # the hire comes after the interview; the other is not selected
    start = (clock.today() + timedelta(days=14)).isoformat()
    assert _act(client, path, olena, "assunta", data=start).status_code == 303
    assert _act(client, path, mykola, "non_selezionata").status_code == 303
    assert _state(engine, olena) is State.HIRED and _state(engine, mykola) is State.NOT_SELECTED
    with Session(engine) as s:
        hire = s.exec(select(Outcome).where(Outcome.kind == OutcomeKind.HIRED)).one()
        assert (hire.vacancy_code, hire.company_code, hire.start) == (vacancy, WELDING, date.fromisoformat(start))
        hired = s.get(Case, olena.id)
        assert hired is not None and hired.next_step == "follow_up_180"
        rows = vacancy_pipeline(s, Period.month_to_date(clock.today()))
    (row, total) = rows
    assert (row["vacancy"], row["sent"], row["interviews"], row["not_interested"], row["hired"]) == (
        vacancy,
        3,
        2,
        1,
        1,
    )
    assert row["not_selected"] == 1 and row["days_to_fill"] == 0 and total["hired"] == 1
    # a hired profile's decision cannot be changed, and the same form sent again records nothing
    again = _act(client, path, olena, "no", motivo="altro")
    assert again.status_code == 422
    replay = _act(client, path, olena, "assunta", data=start)
    assert replay.status_code == 422 and "già registrato" in _text(replay.text)
    with Session(engine) as s:
        assert len(s.exec(select(Outcome).where(Outcome.kind == OutcomeKind.HIRED)).all()) == 1


def test_decision_before_an_interview_is_refused(
    engine: Engine, session: Session, client: TestClient, tmp_path: Path
) -> None:
    _vacancy, olena, _m, _t = _shortlist(session, tmp_path)
    with Session(engine) as s:
        link = s.exec(select(CompanyLink)).one()
    path = _local(page_url(PURPOSE_SHORTLIST, WELDING, link.subject_code))
    refused = _act(client, path, olena, "assunta")
    assert refused.status_code == 422 and "colloquio" in refused.text
    assert _state(engine, olena) is State.PROFILE_READY


def test_shortlist_link_of_another_company_or_a_case_outside_it_is_refused(
    engine: Engine, session: Session, client: TestClient, tmp_path: Path
) -> None:
    vacancy, olena, _m, _t = _shortlist(session, tmp_path)
    stranger = make_case(session, state=State.DISPATCHED, consents=SHAREABLE, profile={})
    assert client.get(_local(page_url(PURPOSE_SHORTLIST, HOTEL, vacancy))).status_code == 404
    path = _local(page_url(PURPOSE_SHORTLIST, WELDING, vacancy))
    response = _act(client, path, stranger, "colloquio")
    assert response.status_code == 422 and "non è tra quelli proposti" in response.text
    assert client.post(path, data={"profilo": olena.code, "azione": "colloquio"}).status_code == 403
    assert _state(engine, stranger) is State.DISPATCHED and _state(engine, olena) is State.PROFILE_READY


def test_the_demo_companies_use_the_pages_code_through_to_a_hire(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    from demo.companies import companies_answer_shortlists, send_batches_to_companies

    _batch(session, 6)
    vacancy, *_people = _shortlist(session, tmp_path)
    assert send_batches_to_companies(session) >= 2
    counts = companies_answer_shortlists(session, clock.today())
    session.commit()
    assert counts == {"interviews": 2, "not_interested": 1, "hired": 1, "not_selected": 1}
    assert send_batches_to_companies(session) == 0 and companies_answer_shortlists(session, clock.today())["hired"] == 0
    hire = session.exec(select(Outcome).where(Outcome.kind == OutcomeKind.HIRED)).one()
    assert hire.vacancy_code == vacancy
