"""The demo's scripted partner volunteers (demo/partners.py) on the referral page, on a migrated
SQLite database with the demo's partners: two partner files arrive first (the demo's step 1),
then volunteers refer people one form each through the page's HTTP path. The people enter as
the page's imports (channel "form", consents with the notice's version, acknowledgement, the
intake's event), the page's errors and its duplicate warning are met and acted on, the intake
takes the new cases, and each partner's status page shows its own referrals only."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.privacy_notice import load_privacy_notice
from demo.partners import PEOPLE, PagesOutcome, partners_refer_through_page
from demo.synthetic.dataset import DemoDataset, build_demo_dataset
from models import clock
from models.cases import Case
from models.enums import Channel, State
from models.ops import AuditLog, ImportFile, Outbox
from models.people import Consent, Referral
from tasks.files.imports import finish_import
from tasks.intake import schedule_intakes
from tasks.referral.ingest import accept_import, acknowledge_import, deduplicate_import, ingest_referral_file
from tasks.runtime import events, steps
from tasks.runtime.event_names import REFERRAL_ACCEPTED
from tests.factories import seed_partners

FILES_FROM = ("CARITAS-BG", "CPIA-BG")  # the file referrals that precede the page (demo step 1)


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> list[events.EventSpec]:
    """What leaves for Prefect (import announcements and case events): the network hop is cut."""
    out: list[events.EventSpec] = []

    def confirmed(specs: Any, **_kw: Any) -> int:
        out.extend(specs)
        return len(specs)

    monkeypatch.setattr(steps, "emit_confirmed", confirmed)
    monkeypatch.setattr(events, "emit_now", out.append)
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DemoDataset:
    return build_demo_dataset(tmp_path_factory.mktemp("demo") / "inbox", seed=2026, n_people=40)


@pytest.fixture
def dataset(built: DemoDataset) -> DemoDataset:
    """The demo dataset as built (the volunteers register their people in it)."""
    return copy.deepcopy(built)


def _import_files(engine: Engine, dataset: DemoDataset) -> None:
    """The partner files of step 1, through the referral stage's own steps."""
    for spec in dataset.referral_files:
        if spec.referrer not in FILES_FROM:
            continue
        with Session(engine) as s:
            summary = ingest_referral_file(s, spec.path, spec.referrer)
            deduplicate_import(s, summary.import_id)
            accept_import(s, summary.import_id)
            acknowledge_import(s, summary.import_id)
            finish_import(s, summary.import_id)
            s.commit()


@pytest.fixture
def outcome(engine: Engine, dataset: DemoDataset, announced: list[events.EventSpec]) -> PagesOutcome:
    with Session(engine) as s:
        seed_partners(s)
    _import_files(engine, dataset)
    announced.clear()
    return partners_refer_through_page(engine, dataset, random.Random(2026), clock.today())


def _form_referrals(engine: Engine) -> list[tuple[Referral, Case]]:
    with Session(engine, expire_on_commit=False) as s:
        return list(
            s.exec(
                select(Referral, Case)
                .join(Case, col(Case.id) == col(Referral.case_id))
                .where(Referral.channel == Channel.FORM)
                .order_by(col(Referral.id))
            ).all()
        )


def _opened_by_page(engine: Engine) -> list[tuple[Referral, Case]]:
    """The page's referrals that opened a case (not merged into a case a file had opened)."""
    with Session(engine) as s:
        by_file = set(s.exec(select(Referral.case_id).where(Referral.channel == Channel.FILE)).all())
    return [(r, c) for r, c in _form_referrals(engine) if c.id not in by_file]


def test_volunteers_refer_people_through_the_page(
    outcome: PagesOutcome, engine: Engine, announced: list[events.EventSpec]
) -> None:
    referred = _form_referrals(engine)
    orgs = {r.referrer_code for r, _ in referred}
    assert orgs == {"CARITAS-BG", "ASSOC-PONTE-UCRAINA", "AMBITO-BG"}  # a volunteer of each kind
    assert outcome.counts["submitted"] == len(referred) == PEOPLE + 1  # eight new people and one known
    assert outcome.counts["corrected"] == 2  # a wrong date and a box not ticked, corrected after the errors
    version = load_privacy_notice().version
    with Session(engine) as s:
        imports = s.exec(
            select(ImportFile).where(col(ImportFile.id).in_([r.import_file_id for r, _ in referred]))
        ).all()
        assert len(imports) == PEOPLE + 1 and all(i.finished_at is not None for i in imports)  # one import per form
        for referral, _case in referred:
            consents = s.exec(select(Consent).where(Consent.person_key == referral.person_key)).all()
            assert consents and all(c.source.endswith(f":informativa:{version}") for c in consents)
            assert all(c.source.startswith("partner_form:") for c in consents)
        for referral, _case in referred:  # each form acknowledged to its organisation, as a file is
            ack = s.exec(select(Outbox).where(Outbox.key == f"import:{referral.import_file_id}:ack")).one()
            assert ack.kind == "referral_ack" and ack.recipient_code == referral.referrer_code
    resources = {e.resource_id for e in announced if e.name == REFERRAL_ACCEPTED}
    opened = _opened_by_page(engine)
    assert len(opened) == PEOPLE and all(c.state is State.ACCEPTED and c.office_code for _, c in opened)
    new_imports = {f"incontro.import.{r.import_file_id}" for r, _ in opened}
    assert len(new_imports) == PEOPLE and new_imports <= resources  # the intake's trigger, per form


def test_the_intake_takes_the_pages_referrals(outcome: PagesOutcome, engine: Engine) -> None:
    fresh = [c.code for _, c in _opened_by_page(engine)]
    assert len(fresh) == PEOPLE
    with Session(engine) as s:
        scheduled = schedule_intakes(s, today=clock.today())  # what the intake deployment runs
        s.commit()
    assert set(fresh) <= {code for codes in scheduled.values() for code in codes}


def test_a_person_already_referred_by_file_is_warned_then_merged(outcome: PagesOutcome, engine: Engine) -> None:
    assert outcome.counts["duplicate_warnings"] == 1 and outcome.counts["duplicates_confirmed"] == 1
    with Session(engine) as s:
        merged = s.exec(
            select(Referral, Case)
            .join(Case, col(Case.id) == col(Referral.case_id))
            .where(Referral.channel == Channel.FORM, Referral.referrer_code == "ASSOC-PONTE-UCRAINA")
        ).all()
        earlier = {
            case.code: s.exec(
                select(Referral.referrer_code, Referral.channel).where(
                    Referral.case_id == case.id, Referral.channel == Channel.FILE
                )
            ).all()
            for _, case in merged
        }
    # the confirmed form joined the case a file of another partner had opened: no second case
    known = {code: rows for code, rows in earlier.items() if rows}
    assert len(known) == 1
    ((_code, rows),) = known.items()
    assert {org for org, _ in rows} <= set(FILES_FROM)


def test_each_partner_sees_its_own_referrals_only(outcome: PagesOutcome, engine: Engine, dataset: DemoDataset) -> None:
    assert set(outcome.stages) == {"CARITAS-BG", "ASSOC-PONTE-UCRAINA", "AMBITO-BG"}
    with Session(engine) as s:
        for org, stages in outcome.stages.items():
            own = set(
                s.exec(
                    select(Case.code)
                    .join(Referral, col(Referral.case_id) == col(Case.id))
                    .where(Referral.referrer_code == org)
                ).all()
            )
            shown = set(
                s.exec(
                    select(AuditLog.case_code).where(AuditLog.actor == f"partner:{org}", AuditLog.action == "read")
                ).all()
            )
            assert shown == own and sum(stages.values()) == len(own)  # every page read, nothing of others
    assert all(stages["presa in carico"] >= 1 for stages in outcome.stages.values())  # Italian words
    assert not {"accepted", "referred", "duplicate"} & {s for st in outcome.stages.values() for s in st}
    lines = outcome.status_lines()
    assert len(lines) == 3 and all(line.split(":")[0] in outcome.stages for line in lines)
    assert "persone segnalate dalla pagina" in outcome.summary()
    printed = " ".join([outcome.summary(), *lines, repr(dict(outcome.counts))])  # what the demo prints
    names = {w for p in dataset.people for w in (*p.family_name.split(), *p.given_names.split()) if len(w) > 3}
    assert not [n for n in names if n in printed]  # counts, codes and stage words: nobody's name
