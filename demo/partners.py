"""The demo's scripted partner volunteers on the referral page (portal/partners, issue 20).

A volunteer of Caritas, of an association and of the social services opens the link the
coordinators sent to her organisation (``incontro partner-link ORG``), then refers a few people
one form each, through the page's own HTTP path: the partners' app of
:func:`portal.partners.app.create_partners_app`, mounted at ``/segnalazioni`` as portal/app.py
mounts it, driven in process by a test client (the signed link's cookie, the form token of each
page, the Italian errors, the privacy notice's checkboxes, the duplicate warning). A submitted
form is a one-row referral file of the organisation: ingest, dedup, acceptance, acknowledgement,
then the import's events (``incontro.referral.accepted`` starts the intake, as for a file).

The people are fictitious ones generated like the dataset's and known to the scripted CPI
operator (registered in the dataset), so the intake form answers for them too. One volunteer
refers a person another partner already sent by file: the page warns without naming anyone,
the volunteer ticks "inviate comunque" and the import's dedup merges the referral into the
existing case. Then each partner opens its status page ("Le nostre segnalazioni"). What is
returned and printed is counts, organisation codes and Italian stage words: never a name.
"""

from __future__ import annotations

import html
import random
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.data import load_organisations
from config.settings import get_settings
from demo.synthetic.common import CEFR_LEVELS, name_key
from demo.synthetic.dataset import DemoDataset, OperatorProfile
from demo.synthetic.people import SyntheticPerson, format_phone, generate_people
from models.cases import Case
from models.enums import Channel, OrgKind
from models.ops import DedupReview
from models.people import Person, Referral
from models.state_machine import TERMINAL
from portal.partners.app import PREFIX, create_partners_app
from portal.partners.referral_form import CONFIRM_DUPLICATE
from tasks.mail.links import partner_url
from tasks.runtime.db import get_engine

with warnings.catch_warnings():  # Starlette prefers the httpx2 fork, which is not in the lock
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

#: One volunteer per kind of referrer, in this order (the dataset's partners of these kinds).
VOLUNTEER_KINDS: tuple[OrgKind, ...] = (OrgKind.CARITAS, OrgKind.ASSOCIATION, OrgKind.AMBITO)
#: New people referred through the page (besides the one already referred by file).
PEOPLE = 8
#: Seed offset of the page's people: not the dataset's own people.
_SEED_OFFSET = 7919
#: The slips of the first two forms (the field typed wrong), corrected after the page's errors.
_SLIPS: tuple[str, ...] = ("birth_date", "consent_privacy")


@dataclass
class PagesOutcome:
    """What the volunteers did and saw (counts, organisation codes and Italian stage words only)."""

    counts: Counter[str] = field(default_factory=Counter)
    #: organisation code → Italian stage → referrals its status page shows in that stage
    stages: dict[str, Counter[str]] = field(default_factory=dict)

    def summary(self) -> str:
        """One Italian line for the demo's terminal."""
        c = self.counts
        return (
            f"persone segnalate dalla pagina /segnalazioni/: {c['submitted']} da {len(self.stages)} enti · "
            f"moduli corretti dopo gli errori della pagina: {c['corrected']} · avvisi di possibile duplicato: "
            f"{c['duplicate_warnings']} (inviati comunque: {c['duplicates_confirmed']}, "
            f"lasciati: {c['duplicates_dropped']})"
        )

    def status_lines(self) -> list[str]:
        """One line per partner: how many referrals its status page showed, by stage."""
        return status_lines(self.stages)


def status_lines(stages_by_org: dict[str, Counter[str]]) -> list[str]:
    """One Italian line per partner: the referrals its status page shows, counted by stage."""
    lines = []
    for org, stages in stages_by_org.items():
        by_stage = ", ".join(f"{stage} {n}" for stage, n in sorted(stages.items(), key=lambda s: (-s[1], s[0])))
        lines.append(f"{org}: {sum(stages.values())} persone nella pagina di stato ({by_stage or 'nessuna'})")
    return lines


def partners_refer_through_page(
    engine: Engine | None, dataset: DemoDataset, rng: random.Random, today: date
) -> PagesOutcome:
    """Volunteers of 2–3 of the dataset's partners refer people one form each on the referral
    page, one of them a person already referred by another partner's file; then each partner
    reads its status page. Each form commits and announces its import as the page does."""
    engine = engine or get_engine()
    orgs = _volunteer_orgs(dataset)
    people = _new_people(dataset, PEOPLE)
    app = _partners_app(engine)
    outcome = PagesOutcome()
    plan: dict[str, list[tuple[SyntheticPerson, str | None]]] = {org: [] for org in orgs}
    for n, person in enumerate(people):
        slip = _SLIPS[n] if n < len(_SLIPS) else None
        plan[orgs[n % len(orgs)]].append((person, slip))
    for org in orgs:
        with _volunteer(app, org) as browser:
            for person, slip in plan[org]:
                _refer(browser, _form(person, today, rng), slip, outcome)
            if org == orgs[min(1, len(orgs) - 1)]:  # the association also meets someone already referred
                known = _referred_elsewhere(engine, dataset, org, rng)
                if known is not None:
                    _refer(browser, _form(known, today, rng), None, outcome)
    outcome.stages = read_status_pages(engine, orgs)
    return outcome


def read_status_pages(engine: Engine | None, orgs: list[str]) -> dict[str, Counter[str]]:
    """Each partner opens "Le nostre segnalazioni" (every page of it): the Italian stage of each
    row it is shown, counted (the page audits every case it shows). The demo may call it again
    at its end, when the referrals have moved on."""
    app = _partners_app(engine or get_engine())
    seen: dict[str, Counter[str]] = {}
    for org in orgs:
        with _volunteer(app, org) as browser:
            stages: Counter[str] = Counter()
            pages, number = 1, 1
            while number <= pages:
                page = browser.get(f"{PREFIX}/stato", params={"pagina": number})
                _expect(page, 200, "pagina di stato")
                stages.update(_stages(page.text))
                found = re.search(r"Pagina \d+ di (\d+)", page.text)
                pages, number = (int(found.group(1)) if found else 1), number + 1
            seen[org] = stages
    return seen


# ----------------------------------------------------------------------------- the volunteers


def _partners_app(engine: Engine) -> FastAPI:
    app = FastAPI()
    app.mount(PREFIX, create_partners_app(engine=engine))  # as portal/app.py mounts it
    return app


def _volunteer_orgs(dataset: DemoDataset) -> list[str]:
    """The first of the dataset's partners of each kind in :data:`VOLUNTEER_KINDS`."""
    kinds = {o.code: o.kind for o in load_organisations()}
    chosen = [next((c for c in dataset.referrers if kinds.get(c) is kind), None) for kind in VOLUNTEER_KINDS]
    orgs = [c for c in chosen if c is not None]
    if len(orgs) < 2:
        raise RuntimeError("servono almeno due enti segnalanti nel dataset della demo")
    return orgs


@contextmanager
def _volunteer(app: FastAPI, org: str) -> Iterator[TestClient]:
    """A browser of the organisation's volunteer, signed in through the link the coordinators
    send (``incontro partner-link``): the token leaves the address bar for the pages' cookie."""
    base = urlsplit(get_settings().portal_base_url)
    with TestClient(app, base_url=f"{base.scheme}://{base.netloc}", follow_redirects=False) as browser:
        link = urlsplit(partner_url(org))
        token = link.path.rsplit("/", 1)[-1]
        entered = browser.get(f"{PREFIX}/accesso/{token}")
        if entered.status_code != 303:
            raise RuntimeError(f"accesso di {org} rifiutato ({entered.status_code})")
        yield browser


def _refer(browser: TestClient, form: dict[str, str], slip: str | None, outcome: PagesOutcome) -> None:
    """Fill the form (with ``slip`` the first time), read what the page answers and act on it:
    correct the fields it names, confirm a neutral duplicate warning, drop an own duplicate."""
    typed = _with_slip(form, slip)
    opened = browser.get(f"{PREFIX}/")
    _expect(opened, 200, "modulo")
    token = _csrf(opened.text)
    for _attempt in range(3):
        page = browser.post(f"{PREFIX}/", data={"csrf": token, **typed})
        if page.status_code == 303:
            sent = browser.get(page.headers["location"])
            _expect(sent, 200, "conferma")
            if "Segnalazione ricevuta" not in sent.text or not re.search(r"BG-\d{4}-\d{6}", sent.text):
                raise RuntimeError("la pagina di conferma non mostra il codice della pratica")
            outcome.counts["submitted"] += 1
            outcome.counts["repeated" if "ripetuta=1" in page.headers["location"] else "new_forms"] += 1
            return
        if page.status_code == 422:  # the page names each field to correct: type it as it should be
            named = set(re.findall(r'href="#campo-(\w+)"', page.text))
            if not named or not named <= set(form) | {"consent_privacy"}:
                raise RuntimeError(f"errori inattesi nel modulo: {sorted(named)}")
            outcome.counts["corrected"] += 1
            typed, token = dict(form), _csrf(page.text)  # the page shown again, with its own token
            continue
        if page.status_code == 409:
            outcome.counts["duplicate_warnings"] += 1
            if "Il vostro ente ha già segnalato" in page.text:  # "non serve una nuova segnalazione"
                outcome.counts["duplicates_dropped"] += 1
                return
            outcome.counts["duplicates_confirmed"] += 1
            typed, token = {**typed, CONFIRM_DUPLICATE: "si"}, _csrf(page.text)
            continue
        _expect(page, 303, "invio del modulo")
    raise RuntimeError("il modulo non è stato accettato dopo tre tentativi")


def _with_slip(form: dict[str, str], slip: str | None) -> dict[str, str]:
    if slip == "birth_date":  # 31 February: the page refuses the date and keeps the rest
        return {**form, "birth_date": "31/02/" + form["birth_date"][-4:]}
    if slip == "consent_privacy":  # the box not ticked: the page asks to read the notice first
        return {k: v for k, v in form.items() if k != "consent_privacy"}
    return dict(form)


def _csrf(text: str) -> str:
    """The form token of the page shown (bound to the link and to the form cookie)."""
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    if found is None:
        raise RuntimeError("il modulo non ha il token di sicurezza")
    return found.group(1)


def _expect(page: Any, status: int, what: str) -> None:
    if page.status_code != status:
        raise RuntimeError(f"{what}: risposta {page.status_code} invece di {status}")


def _stages(text: str) -> list[str]:
    """The "Stato" column of the status table (4th cell of each body row): only the stage is kept."""
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in text else ""
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows]
    return [html.unescape(c[3]).strip() for c in cells if len(c) >= 4]


# ----------------------------------------------------------------------------- the people


def _form(person: SyntheticPerson, today: date, rng: random.Random) -> dict[str, str]:
    """The referral form as the volunteer fills it from what the person tells her."""
    level = person.italian_self_level
    if level not in CEFR_LEVELS:
        level = "C2" if level == "madrelingua" else ""
    form = {
        "family_name": person.family_name,
        "given_names": person.given_names,
        "birth_date": f"{person.birth_date:%d/%m/%Y}",
        "sex": person.sex,
        "birth_place": person.birth_place,
        "citizenship": person.citizenship,
        "codice_fiscale": person.codice_fiscale,
        "phone": format_phone(person.phone, rng.randrange(6)),
        "email": person.email or "",
        "municipality": person.municipality,
        "languages": ", ".join(person.languages),
        "italian_level": level,
        "education": person.education,
        "experiences": ", ".join(person.experiences)[:300],  # the textarea's maxlength
        "licence": person.driving_licence,
        "permit_type": "protezione temporanea" if person.is_ukrainian else "",
        "permit_expiry": f"{today + timedelta(days=365):%d/%m/%Y}" if person.is_ukrainian else "",
        "consent_privacy": "si",  # the notice read, the person agrees (a checkbox sends its value)
    }
    if person.consent_confindustria:
        form["consent_confindustria"] = "si"
    return form


def _new_people(dataset: DemoDataset, n: int) -> list[SyntheticPerson]:
    """``n`` fictitious people no partner file holds, generated like the dataset's and known to
    the scripted CPI operator (registered in the dataset, as the simulation's new arrivals are)."""
    pool = generate_people(
        n * 4, dataset.seed + _SEED_OFFSET, dataset.municipalities, reference_date=dataset.reference_date
    )
    chosen: list[SyntheticPerson] = []
    for candidate in pool:
        known = name_key(candidate.family_name, candidate.given_names) in dataset._name_index
        if known or candidate.codice_fiscale in dataset._cf_index or not candidate.consent_cpi:
            continue
        person = replace(candidate, key=f"WEB-{len(chosen) + 1:04d}", consent_privacy=True)
        _register(dataset, person)
        chosen.append(person)
        if len(chosen) == n:
            break
    return chosen


def _register(dataset: DemoDataset, person: SyntheticPerson) -> None:
    codes = [dataset.occupation_code_by_job[k] for k in person.experience_keys if k in dataset.occupation_code_by_job]
    dataset.people.append(person)
    dataset.people_by_key[person.key] = OperatorProfile(
        person=person,
        italian_levels=dict(person.true_italian_skills),
        italian_overall=person.true_italian,
        occupation_codes=list(dict.fromkeys(codes)),
        experience_keys=list(person.experience_keys),
        driving_licence=person.driving_licence,
    )
    dataset._cf_index[person.codice_fiscale] = person.key
    for family, given in (
        (person.family_name, person.given_names),
        (person.native_family_name, person.native_given_names),
    ):
        bucket = dataset._name_index.setdefault(name_key(family, given), [])
        if person.key not in bucket:
            bucket.append(person.key)


def _referred_elsewhere(engine: Engine, dataset: DemoDataset, org: str, rng: random.Random) -> SyntheticPerson | None:
    """A person another partner referred by file, whose case is open, that ``org`` never referred
    (so the page's warning names nobody); None when the files brought nobody yet."""
    with Session(engine) as session:
        own = select(Referral.case_id).where(col(Referral.referrer_code) == org, col(Referral.case_id).is_not(None))
        codes = session.exec(
            select(Person.codice_fiscale)
            .join(Referral, col(Referral.person_key) == col(Person.key))
            .join(Case, col(Case.id) == col(Referral.case_id))
            .where(
                col(Referral.channel) == Channel.FILE,
                col(Referral.referrer_code) != org,
                col(Person.codice_fiscale).is_not(None),
                col(Case.id).not_in(own),
                col(Case.id).not_in(select(DedupReview.case_id).where(col(DedupReview.decision).is_(None))),
                col(Case.id).not_in(select(DedupReview.candidate_case_id).where(col(DedupReview.decision).is_(None))),
                col(Case.state).not_in([s.value for s in TERMINAL]),
                col(Case.merged_into_id).is_(None),
            )
            .order_by(col(Referral.id))
            .limit(50)
        ).all()
    people = [p.person for cf in codes if cf and (p := dataset.lookup(codice_fiscale=cf)) is not None]
    return rng.choice(people) if people else None
