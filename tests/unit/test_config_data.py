"""Sanity checks of the seed data in config/ and of its typed loaders."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from config.cpia import load_cpia_sites
from config.data import (
    ConfigError,
    OrgKind,
    load_offices,
    load_organisations,
    load_routing,
    load_taxonomy,
    municipality_key,
    normalize_text,
    office_for_municipality,
)


def test_taxonomy_has_enough_unique_four_digit_codes_with_labels() -> None:
    taxonomy = load_taxonomy()
    codes = [occ.code for occ in taxonomy.occupations]
    assert len(codes) >= 150
    assert len(codes) == len(set(codes))
    assert all(len(code) == 4 and code.isdigit() for code in codes)
    for occ in taxonomy.occupations:
        assert occ.it.strip() and occ.en.strip() and occ.uk.strip(), occ.code
        assert occ.synonyms.it and occ.synonyms.en and occ.synonyms.uk, occ.code
    assert set(taxonomy.by_code) == set(codes)


def test_no_synonym_maps_to_two_codes() -> None:
    owners: dict[str, set[str]] = {}
    for occ in load_taxonomy().occupations:
        for term in occ.synonyms.all():
            owners.setdefault(normalize_text(term), set()).add(occ.code)
    clashes = {term: codes for term, codes in owners.items() if len(codes) > 1}
    assert not clashes


@pytest.mark.parametrize(
    ("term", "code"),
    [
        ("Badante", "5322"),
        ("OSS", "5321"),
        ("mulettista", "8344"),
        ("magazziniere", "4321"),
        ("operaio generico", "9329"),
        ("lavapiatti", "9412"),
        ("saldatore", "7212"),
        ("tornitore CNC", "7223"),
        ("autista patente C", "8332"),
        ("прибиральниця", "9112"),
        ("доглядальниця", "5322"),
        ("кухар", "5120"),
        ("forklift driver", "8344"),
    ],
)
def test_common_terms_resolve(term: str, code: str) -> None:
    occ = load_taxonomy().lookup(term)
    assert occ is not None and occ.code == code


def test_duplicate_synonym_is_rejected_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "occupations.yaml"
    bad.write_text(
        'version: "t"\noccupations:\n'
        '  - {code: "7212", it: a, en: b, uk: c, synonyms: {it: [saldatore], en: [x], uk: [y]}}\n'
        '  - {code: "7213", it: a, en: b, uk: c, synonyms: {it: [Saldatore], en: [z], uk: [w]}}\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"occupations\.yaml"):
        load_taxonomy(bad)


def test_invalid_entry_error_names_file_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "occupations.yaml"
    bad.write_text(
        'version: "t"\noccupations:\n  - {code: "72A2", it: a, en: b, uk: c, synonyms: {it: [s], en: [x], uk: [y]}}\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"occupations\.yaml: occupations\[0\] \(code='72A2'\)"):
        load_taxonomy(bad)


def test_exactly_ten_offices_covering_at_least_150_distinct_comuni() -> None:
    offices = load_offices()
    assert len(offices) == 10
    assert len({office.code for office in offices}) == 10
    keys = [municipality_key(m.name) for office in offices for m in office.municipalities]
    assert len(keys) >= 150
    duplicated = [key for key, count in Counter(keys).items() if count > 1]
    assert not duplicated
    assert all(office.email.endswith(".example") for office in offices)  # seed data: never a real office
    bergamo = next(office for office in offices if office.code == "CPI-BG")
    assert bergamo.daily_capacity == max(office.daily_capacity for office in offices)
    assert all(4 <= office.daily_capacity <= 20 for office in offices)  # appointments a day, all desks


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Albino", "CPI-ALB"),
        ("albino ", "CPI-ALB"),
        ("ALBINO", "CPI-ALB"),
        ("Sant'Omobono Terme", "CPI-ZOG"),
        ("sant omobono  terme", "CPI-ZOG"),
        ("Sant’Omobono Terme", "CPI-ZOG"),
        ("alme", "CPI-ZOG"),
        ("Villa d'Almè", "CPI-ZOG"),
        ("Torre de Roveri", "CPI-BG"),
        ("Fara Gera d Adda", "CPI-TRV"),
        ("Romano di Lombardia", "CPI-ROM"),
        ("Castione della Presolana", "CPI-CLU"),
    ],
)
def test_office_lookup_is_loose(name: str, code: str) -> None:
    office = office_for_municipality(name)
    assert office is not None and office.code == code


def test_office_lookup_unknown_municipality() -> None:
    assert office_for_municipality("Milano") is None
    assert office_for_municipality("   ") is None


def test_organisations_are_consistent_with_taxonomy_and_offices() -> None:
    orgs = load_organisations()
    taxonomy = load_taxonomy()
    kinds = Counter(org.kind for org in orgs)
    assert kinds[OrgKind.CONFINDUSTRIA] == 1
    assert kinds[OrgKind.LABOUR_SERVICE] == 1
    assert kinds[OrgKind.COORDINATOR] == 1
    assert kinds[OrgKind.CARITAS] >= 4
    assert kinds[OrgKind.AMBITO] >= 4
    assert kinds[OrgKind.ASSOCIATION] >= 3
    assert kinds[OrgKind.CPIA] == len(load_cpia_sites().sites)  # one organisation per CPIA site
    assert 2 <= kinds[OrgKind.TRAINING_BODY] <= 8  # training bodies and accredited labour operators
    assert kinds[OrgKind.COMPANY] >= 12
    assert len({org.code for org in orgs}) == len(orgs)
    for org in orgs:
        assert org.email.endswith(".example"), org.code
        assert office_for_municipality(org.municipality) is not None, org.code
        if org.kind is OrgKind.COMPANY:
            assert 2 <= len(org.sectors) <= 5, org.code
            missing = [code for code in org.sectors if code not in taxonomy.by_code]
            assert not missing, (org.code, missing)


def test_routing_thresholds_load() -> None:
    rules = load_routing()
    assert rules.literacy.threshold == "A2"
    assert rules.literacy.rule == "min"
    from tasks.matching.dedup import DedupThresholds

    # the import (config) and the function's defaults (command, benches) decide alike
    assert (rules.dedup.merge_threshold, rules.dedup.review_threshold) == (80, 50)
    assert DedupThresholds() == DedupThresholds(rules.dedup.merge_threshold, rules.dedup.review_threshold)
    assert rules.intake.days_ahead_min == 2
    assert rules.dispatch.no_interest_days == 30
    assert rules.matching.top_k == 10
    assert rules.matching.weights.occupation == pytest.approx(0.40)


def test_loaders_are_cached_for_default_path() -> None:
    assert load_taxonomy() is load_taxonomy()
    assert load_offices() is load_offices()
    assert load_routing() is load_routing()


def test_production_files_take_real_addresses_and_refuse_bad_ones(tmp_path: Path) -> None:
    """Only the bundled seed files are held to ".example" (above): a deployment's own file lists
    the partners' real addresses, and a typo is refused naming the file, the entry and why."""
    seed = (Path(__file__).resolve().parents[2] / "config" / "organisations.yaml").read_text(encoding="utf-8")
    real = tmp_path / "organisations.yaml"
    real.write_text(
        seed.replace("ascolto.bergamo@caritas-bergamo.example", "ascolto.bergamo@caritasbergamo.it"), encoding="utf-8"
    )
    caritas = next(o for o in load_organisations(real) if o.code == "CARITAS-BG")
    assert caritas.email == "ascolto.bergamo@caritasbergamo.it"
    bad = tmp_path / "bad.yaml"
    bad.write_text(seed.replace("ascolto.bergamo@caritas-bergamo.example", "ascolto.bergamo@"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_organisations(bad)
    message = str(info.value)
    assert str(bad) in message and "email" in message and "not a valid address" in message
