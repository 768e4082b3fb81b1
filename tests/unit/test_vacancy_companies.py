"""The company of a vacancy as outsiders write it, found in the member registry (tasks/files/companies.py).

Table-driven over a small registry with look-alike members (Rossi Meccanica and Rossi
Meccatronica, two "Orobica" companies), then over the real config/organisations.yaml.
"""

from __future__ import annotations

import pytest

from tasks.files.companies import (
    MARGIN,
    THRESHOLD,
    Registry,
    RegistryEntry,
    company_words,
    default_registry,
    normalize_vat,
    resolve_company,
    vat_is_valid,
)

ROSSI_VAT = "02345670166"  # fictional, check digit valid (Bergamo office code 016)
REGISTRY = Registry.of(
    [
        RegistryEntry("COMP-ROSSI-MECCANICA", "Rossi Meccanica S.r.l.", ROSSI_VAT),
        RegistryEntry("COMP-ROSSI-MECCATRONICA", "Rossi Meccatronica S.p.A.", "04455660169"),
        RegistryEntry("COMP-CARPENTERIA-OROBICA", "Carpenteria Metallica Orobica S.n.c. di Bianchi & C.", None),
        RegistryEntry("COMP-TRASPORTI-OROBICA", "Orobica Trasporti Società Cooperativa", "01122330168"),
        RegistryEntry("COMP-MOBILIFICIO-VALLE", "Mobilificio Valle Imagna s.a.s.", None, ("Mobili Imagna",)),
    ]
)


def test_registry_fixtures_carry_valid_vat_numbers() -> None:
    assert all(vat_is_valid(e.vat) for e in REGISTRY.entries if e.vat)


# name, vat, expected code, how
CASES: list[tuple[str | None, object, str | None, str]] = [
    # the legal name as registered, and in every spelling of the legal form
    ("Rossi Meccanica S.r.l.", None, "COMP-ROSSI-MECCANICA", "exact"),
    ("ROSSI MECCANICA SRL", None, "COMP-ROSSI-MECCANICA", "normalised"),
    ("Rossi Meccanica s.r.l", None, "COMP-ROSSI-MECCANICA", "normalised"),
    ("Rossi Meccanica Srl.", None, "COMP-ROSSI-MECCANICA", "normalised"),
    ("Rossi Meccanica S. R. L.", None, "COMP-ROSSI-MECCANICA", "normalised"),
    ("rossi meccanica", None, "COMP-ROSSI-MECCANICA", "normalised"),
    ("Rossi Meccanica S.r.l. unipersonale", None, "COMP-ROSSI-MECCANICA", "normalised"),
    ("Rossi Meccanica - Società a responsabilità limitata", None, "COMP-ROSSI-MECCANICA", "normalised"),
    ("Rossi Meccanica SpA", None, "COMP-ROSSI-MECCANICA", "normalised"),  # wrong legal form: still the name
    ("Meccanica Rossi", None, "COMP-ROSSI-MECCANICA", "reordered"),
    ("Meccanica Rossi S.r.l.", None, "COMP-ROSSI-MECCANICA", "reordered"),
    ("Rossi Meccanica srl - stabilimento di Dalmine", None, "COMP-ROSSI-MECCANICA", "normalised"),
    # a place, a sigla or partners after the name, in brackets or after a dash
    ("Rossi Meccanica S.r.l. - Albino (BG)", None, "COMP-ROSSI-MECCANICA", "normalised"),
    ("ROSSI MECCANICA SRL DALMINE", None, "COMP-ROSSI-MECCANICA", "normalised"),
    ("Rossi Meccanica (Dalmine)", None, "COMP-ROSSI-MECCANICA", "normalised"),
    ("Orobica Trasporti Soc. Coop. - Bergamo", None, "COMP-TRASPORTI-OROBICA", "normalised"),
    ("Bianchi Costruzioni / Rossi Meccanica", None, None, "unknown"),  # two companies in one cell
    # typos
    ("Rosi Meccanica Srl", None, "COMP-ROSSI-MECCANICA", "fuzzy"),
    ("Rossi Mecanica S.R.L.", None, "COMP-ROSSI-MECCANICA", "fuzzy"),
    ("Rossi Meccatronika", None, "COMP-ROSSI-MECCATRONICA", "fuzzy"),
    # accents, apostrophes, "& C.", cooperatives, descriptors
    ("CARPENTERIA METALLICA OROBICA SNC", None, "COMP-CARPENTERIA-OROBICA", "normalised"),
    ("Carpenteria Metallica Orobica di Bianchi & C. s.n.c.", None, "COMP-CARPENTERIA-OROBICA", "normalised"),
    ("Orobica Trasporti Soc. Coop.", None, "COMP-TRASPORTI-OROBICA", "normalised"),
    ("Orobica Trasporti Società Cooperativa a r.l.", None, "COMP-TRASPORTI-OROBICA", "normalised"),
    ("Mobilificio Valle Imagna S.A.S. di Locatelli", None, "COMP-MOBILIFICIO-VALLE", "normalised"),  # partners
    ("Mobili Imagna", None, "COMP-MOBILIFICIO-VALLE", "alias"),
    ("Mobilificio Imagna", None, "COMP-MOBILIFICIO-VALLE", "partial"),
    # the VAT: alone, with IT prefix, spaced, in the name cell, in a number cell that lost its zero
    (None, ROSSI_VAT, "COMP-ROSSI-MECCANICA", "vat"),
    ("", f"IT{ROSSI_VAT}", "COMP-ROSSI-MECCANICA", "vat"),
    ("", "IT 02345 670 166", "COMP-ROSSI-MECCANICA", "vat"),
    (f"IT{ROSSI_VAT}", None, "COMP-ROSSI-MECCANICA", "vat"),
    (f"Meccanica Rossi - P.IVA {ROSSI_VAT}", None, "COMP-ROSSI-MECCANICA", "vat"),
    ("Rossi Meccanica", int(ROSSI_VAT), "COMP-ROSSI-MECCANICA", "vat"),  # Excel: 2345670166
    ("Rossi Meccanica", float(ROSSI_VAT), "COMP-ROSSI-MECCANICA", "vat"),
    ("Ditta X (nome di fantasia)", ROSSI_VAT, "COMP-ROSSI-MECCANICA", "vat"),
    # a wrong check digit is ignored, the name still counts
    ("Rossi Meccanica srl", "02345670167", "COMP-ROSSI-MECCANICA", "normalised"),
    # the name says one member, the VAT another: nobody guesses
    ("Rossi Meccanica srl", "04455660169", None, "conflict"),
    # a valid VAT that is not the registered one of the company named
    ("Rossi Meccanica srl", "00743110157", None, "conflict"),
    # the internal code still works
    ("COMP-ROSSI-MECCANICA", None, "COMP-ROSSI-MECCANICA", "code"),
    ("comp-rossi-meccanica", None, "COMP-ROSSI-MECCANICA", "code"),
    # companies that are not members, or names that could be either
    ("Bianchi Costruzioni S.r.l.", None, None, "unknown"),
    ("Rossi S.r.l.", None, None, "unknown"),
    ("Rossi", None, None, "unknown"),
    ("Meccanica", None, None, "unknown"),
    ("Orobica", None, None, "unknown"),
    ("Rossi Mecca", None, None, "unknown"),
    ("Rossi Meccaronica", None, None, "ambiguous"),  # one letter from either member
    ("Officine Meccaniche", None, None, "unknown"),  # generic words alone name nobody
    ("COMP-INESISTENTE", None, None, "unknown"),
    (None, "00743110157", None, "unknown"),  # a real VAT of a company not in the registry
    ("S.r.l.", None, None, "empty"),
    ("", None, None, "empty"),
    (None, None, None, "empty"),
]


@pytest.mark.parametrize(("name", "vat", "code", "how"), CASES)
def test_company_as_written_is_found_or_waits(name: str | None, vat: object, code: str | None, how: str) -> None:
    found = resolve_company(name, vat, REGISTRY)
    assert (found.code, found.how) == (code, how), found.explanation
    assert found.explanation  # always a reason, in Italian
    if code is not None:
        assert found.confidence >= THRESHOLD and found.resolved
    else:
        assert found.confidence == 0 and not found.resolved


def test_the_reason_says_how_and_how_sure() -> None:
    typo = resolve_company("Rosi Meccanica Srl", None, REGISTRY)
    assert "Rossi Meccanica S.r.l." in typo.explanation and "nome simile" in typo.explanation
    assert f"{typo.confidence}%" in typo.explanation and typo.label == f"nome simile (refusi) ({typo.confidence}%)"
    assert resolve_company(None, ROSSI_VAT, REGISTRY).label == "partita IVA"
    both = resolve_company("Rossi Meccaronica", None, REGISTRY)
    assert set(both.suggestions) == {"COMP-ROSSI-MECCANICA", "COMP-ROSSI-MECCATRONICA"}
    assert "tanto a" in both.explanation
    unknown = resolve_company("Carpenteria Orobica Bergamo", None, REGISTRY)
    assert unknown.code is None and unknown.suggestions[0] == "COMP-CARPENTERIA-OROBICA"
    wrong = resolve_company("Rossi Meccanica", "02345670167", REGISTRY)
    assert wrong.code == "COMP-ROSSI-MECCANICA" and "cifra di controllo" in wrong.explanation and wrong.vat is None
    conflict = resolve_company("Rossi Meccanica srl", "04455660169", REGISTRY)
    assert "Rossi Meccatronica" in conflict.explanation and "Rossi Meccanica" in conflict.explanation


@pytest.mark.parametrize(
    ("written", "vat", "note"),
    [
        ("IT02345670166", ROSSI_VAT, None),
        ("02345 670 166", ROSSI_VAT, None),
        ("02.345.670.166", ROSSI_VAT, None),
        (2345670166, ROSSI_VAT, None),  # Excel number cell
        ("P.IVA 02345670166", ROSSI_VAT, None),
        ("02345670167", None, "cifra di controllo"),
        ("0234567016", None, "10 cifre"),
        ("n.d.", None, "non leggibile"),
        ("", None, None),
        (None, None, None),
    ],
)
def test_vat_numbers_as_written(written: object, vat: str | None, note: str | None) -> None:
    got, why = normalize_vat(written)
    assert got == vat
    assert (why is None) if note is None else (note in str(why))


def test_vat_check_digit_and_office_code() -> None:
    assert vat_is_valid("00743110157")  # a real published partita IVA
    assert not vat_is_valid("00743110158")
    assert not vat_is_valid("00000000000")
    assert not vat_is_valid("12345671500")  # office code 150 does not exist


def test_legal_forms_punctuation_and_accents_fold_away() -> None:
    assert company_words("Rossi Meccanica & C. S.n.c.") == ("rossi", "meccanica")
    assert company_words("S.N.C. di Rossi Mario & C.") == ("rossi", "mario")
    assert company_words("Rossi Mario & C. s.a.s.") == ("rossi", "mario")
    assert company_words("F.lli Rossi s. r. l.") == ("fratelli", "rossi")
    assert company_words("Soc. Coop. Sociale Curainsieme a r.l. Onlus") == ("curainsieme",)
    assert company_words("Gomma Tecnica dell’Isola S.p.A.") == ("gomma", "tecnica", "isola")
    assert company_words("Città Alta Caffè SRLS") == ("citta", "alta", "caffe")
    assert company_words("Az. Agr. Cascina Fontanile") == ("cascina", "fontanile")


def test_the_real_registry_finds_each_member_by_its_names_and_vat() -> None:
    registry = default_registry()
    assert len(registry.entries) >= 10
    for entry in registry.entries:
        for name in (entry.name, entry.name.upper(), *entry.aliases):
            assert resolve_company(name, None, registry).code == entry.code, name
        if entry.vat:
            assert vat_is_valid(entry.vat), entry.code
            assert resolve_company(None, f"IT{entry.vat}", registry).code == entry.code
    vats = [e.vat for e in registry.entries if e.vat]
    assert len(vats) == len(set(vats))


def test_members_of_the_real_registry_are_never_within_the_margin_of_each_other() -> None:
    """Each registered name, misspelt by one letter, still names its own company only."""
    registry = default_registry()
    for entry in registry.entries:
        typo = entry.name[:3] + entry.name[4:]
        found = resolve_company(typo, None, registry)
        assert found.code in (entry.code, None), (typo, found.explanation)
    assert MARGIN > 0
