"""Active policies go to an accredited operator near the person, with room (issue 18): the registry
in config/operators.yaml, the pure choice, and the proposals and emails that use it."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import time_machine
from sqlmodel import Session, select

from config.data import ConfigError, load_organisations
from config.next_steps import COORDINATORS
from config.operators import OPERATOR_MEASURES, OPERATORS_FILE, load_operators
from models.cases import Case
from models.enums import OrgKind, State
from models.ops import Outbox
from models.policy import MeasureKind, MeasureStatus, PolicyMeasure
from tasks.policy.operators import choose_operator, distance_km
from tasks.policy.register import choose_measure, propose_measures, register_code
from tests.factories import make_case, seed_partners

TODAY = "2026-12-04 10:00 +01:00"
NOBODY: Counter[tuple[str, MeasureKind]] = Counter()


def _pick(measure: MeasureKind, municipality: str | None, office: str | None = None, load: Counter | None = None):  # type: ignore[no-untyped-def,type-arg]
    choice = choose_operator(
        load_operators(), measure, municipality=municipality, office_code=office, load=load or NOBODY
    )
    return None if choice is None else (choice.code, choice.site.municipality)


def test_the_registry_names_network_bodies_with_sites_in_the_province() -> None:
    registry = load_operators()
    orgs = {o.code: o for o in load_organisations()}
    assert len(registry.operators) >= 4
    for op in registry.operators:
        assert orgs[op.code].kind in (OrgKind.TRAINING_BODY, OrgKind.LABOUR_SERVICE)
        assert op.sites and all(s.email.endswith(".example") for s in op.sites)
    for measure in OPERATOR_MEASURES:  # every programme has operators, none the Province's own service
        takers = {op.code for op in registry.operators if measure in op.capacity}
        assert takers and "PROV-LAVORO" not in takers


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('code: "OPL-PIANURA"', 'code: "OPL-NESSUNO"', r"operators\[3\] \(code='OPL-NESSUNO'\): not an organisation"),
        ('code: "OPL-PIANURA"', 'code: "CARITAS-BG"', r"kind 'caritas', not an accredited body"),
        ('municipality: "Romano di Lombardia"', 'municipality: "Brescia"', r"sites\[1\]: comune 'Brescia'"),
        ("{dul: 25, garanzia_giovani: 20, gol: 40}", "{dul: 25, training: 20}", r"operators take only"),
    ],
)
def test_a_broken_registry_names_file_entry_and_reason(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = OPERATORS_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "operators.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as err:
        load_operators(path)
    assert str(path) in str(err.value)


def test_distance_is_in_kilometres() -> None:
    bergamo, treviglio = (45.70, 9.67), (45.52, 9.59)
    assert 19 < distance_km(bergamo, treviglio) < 22  # about 21 km as the crow flies
    assert distance_km(bergamo, bergamo) == 0


def test_the_nearest_site_with_room_takes_the_measure() -> None:
    assert _pick(MeasureKind.GOL, "Zogno") == ("OPL-VALLI", "Zogno")  # same comune
    assert _pick(MeasureKind.DUL, "San Pellegrino Terme") == ("OPL-VALLI", "Zogno")
    assert _pick(MeasureKind.GOL, "Caravaggio") == ("OPL-PIANURA", "Treviglio")
    assert _pick(MeasureKind.GOL, "Romano di Lombardia") == ("OPL-PIANURA", "Romano di Lombardia")
    assert _pick(MeasureKind.DUL, "Dalmine") == ("OPL-AGENZIA-OROBICA", "Dalmine")
    assert _pick(MeasureKind.GARANZIA_GIOVANI, "Gorle")[0] == "OPL-LAVORO-BERGAMO"  # type: ignore[index]
    # Garanzia Giovani in Dalmine: the Dalmine operator does not take it, the nearest who does
    assert _pick(MeasureKind.GARANZIA_GIOVANI, "Dalmine") in {
        ("OPL-LAVORO-BERGAMO", "Ponte San Pietro"),
        ("OPL-LAVORO-BERGAMO", "Bergamo"),
    }


def test_a_full_operator_gives_way_and_nobody_left_means_the_coordinators() -> None:
    full = Counter({("OPL-VALLI", MeasureKind.GOL): 30})
    assert _pick(MeasureKind.GOL, "Lovere", load=full) is not None
    assert _pick(MeasureKind.GOL, "Lovere", load=full)[0] != "OPL-VALLI"  # type: ignore[index]
    assert _pick(MeasureKind.GOL, "Lovere", load=Counter({("OPL-VALLI", MeasureKind.GOL): 29})) == (
        "OPL-VALLI",
        "Lovere",
    )
    everyone = Counter({(op.code, MeasureKind.DUL): 1000 for op in load_operators().operators})
    assert _pick(MeasureKind.DUL, "Bergamo", load=everyone) is None


def test_without_the_comune_the_cpi_area_decides_and_without_both_nobody() -> None:
    assert _pick(MeasureKind.GOL, None, "CPI-TRV") == ("OPL-PIANURA", "Treviglio")
    assert _pick(MeasureKind.GOL, "Paese che non esiste", "CPI-CLU") == ("OPL-VALLI", "Clusone")
    assert _pick(MeasureKind.GOL, None, None) is None
    assert _pick(MeasureKind.TERRITORIAL, "Bergamo") is None  # projects name their own provider


def test_register_codes_are_words_operators_write() -> None:
    assert [register_code(c) for c in ("gol", "dul", "garanzia_giovani", "territorial:BG-RIPARTIRE")] == [
        "GOL",
        "DUL",
        "Garanzia Giovani",
        "BG-RIPARTIRE",
    ]


@time_machine.travel(TODAY, tick=False)
def test_proposals_go_to_operators_near_the_person_and_the_email_to_their_site(session: Session) -> None:
    seed_partners(session)
    valley = make_case(session, state=State.POLICY, office="CPI-ZOG", profile={"area": "Zogno"})
    plain = make_case(session, state=State.POLICY, office="CPI-ROM", profile={"area": "Romano di Lombardia"})
    proposed = propose_measures(session, as_of=date(2026, 12, 4))
    session.commit()
    assert "gol" in proposed[valley.code] and "gol" in proposed[plain.code]
    providers: dict[tuple[int | None, str], str | None] = {
        (m.case_id, m.code): m.provider_code
        for m in session.exec(select(PolicyMeasure)).all()
        if m.kind in OPERATOR_MEASURES
    }
    assert providers[(valley.id, "gol")] == "OPL-VALLI" and providers[(plain.id, "gol")] == "OPL-PIANURA"
    assert "PROV-LAVORO" not in providers.values()

    gol = session.exec(
        select(PolicyMeasure).where(PolicyMeasure.case_id == valley.id, PolicyMeasure.code == "gol")
    ).one()
    assert choose_measure(session, valley, gol, date(2026, 12, 4))
    session.commit()
    mail = session.exec(select(Outbox).where(Outbox.kind == "policy_proposal")).one()
    assert mail.recipient == "zogno@vallialavoro.example" and mail.recipient_code == "OPL-VALLI"
    assert "sede di Zogno (Via Locatelli 5, 24019 Zogno" in mail.body_text
    assert "la misura «GOL»" in mail.body_text and "(codice gol)" not in mail.body_text
    session.refresh(valley)
    assert (valley.next_step, valley.owner) == ("policy_measure", "OPL-VALLI")


@time_machine.travel(TODAY, tick=False)
def test_a_measure_without_an_operator_waits_for_the_coordinators(session: Session) -> None:
    seed_partners(session)
    case = make_case(session, state=State.POLICY, office="CPI-BG", profile={"area": "Bergamo"})
    for op in load_operators().operators:  # every operator already full for GOL
        for n in range(op.capacity.get(MeasureKind.GOL, 0)):
            other = make_case(session, state=State.POLICY, office="CPI-BG")
            session.add(
                PolicyMeasure(
                    case_id=other.id,  # type: ignore[arg-type]
                    kind=MeasureKind.GOL,
                    code="gol",
                    provider_code=op.code,
                    status=MeasureStatus.STARTED,
                    rank=1,
                    reasons=[f"posto {n}"],
                )
            )
    session.commit()
    propose_measures(session, as_of=date(2026, 12, 4), case_codes=[case.code])
    session.commit()
    gol = session.exec(select(PolicyMeasure).where(PolicyMeasure.case_id == case.id, PolicyMeasure.code == "gol")).one()
    assert gol.provider_code is None
    assert not choose_measure(session, case, gol, date(2026, 12, 4))  # nobody to email
    session.commit()
    found = session.get(Case, case.id)
    assert found is not None and (found.next_step, found.owner) == ("policy_measure", COORDINATORS)
