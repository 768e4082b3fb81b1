"""The skills list (config/skills.yaml, config/skills.py) and the matcher that reads free text
against it (tasks/matching/skills.py): vacancy requirements, referral sheets and CV lines as
companies, volunteers and candidates write them, in Italian, English and Ukrainian."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.data import ConfigError
from config.skills import SKILL_CODE, SKILLS_FILE, load_skills
from models.forms import LANGUAGE_CODE
from models.forms import SKILL_CODE as FORM_SKILL_CODE
from tasks.matching.skills import (
    code_requirements,
    default_matcher,
    form_problems,
    profile_skill_codes,
    suggested_skills,
)

CATALOGUE = load_skills()
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


# --- the list ---------------------------------------------------------------------------------


def test_at_least_150_entries_each_with_a_unique_stable_code_and_three_languages() -> None:
    codes = [s.code for s in CATALOGUE.skills]
    assert len(codes) >= 150
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(SKILL_CODE, c) for c in codes)
    for s in CATALOGUE.skills:
        assert s.it and s.en and s.uk, s.code
        assert CYRILLIC.search(s.uk), f"{s.code}: Ukrainian label not in Ukrainian: {s.uk!r}"
        assert not CYRILLIC.search(s.it) and not CYRILLIC.search(s.en), s.code
        assert s.area in CATALOGUE.areas, s.code
    # every area has entries, and the form's pattern is the catalogue's
    assert {s.area for s in CATALOGUE.skills} == set(CATALOGUE.areas)
    assert FORM_SKILL_CODE == SKILL_CODE


def test_languages_are_iso_codes_and_italian_is_not_a_listed_language() -> None:
    langs = CATALOGUE.languages()
    assert {"en", "fr", "uk", "ru", "ar", "es", "ro", "wo", "ur", "bn"} <= set(langs)
    assert "it" not in langs  # Italian is assessed as CEFR levels, never a skill
    assert all(re.fullmatch(LANGUAGE_CODE, k) for k in langs)


def test_implications_follow_licence_and_safety_levels() -> None:
    assert CATALOGUE.with_implied(["patenti.ce"]) == ["patenti.ce", "patenti.c", "patenti.c1", "patenti.b"]
    assert set(CATALOGUE.with_implied(["sicurezza.rischio-alto"])) == {
        "sicurezza.rischio-alto",
        "sicurezza.rischio-medio",
        "sicurezza.rischio-basso",
        "sicurezza.generale",
    }
    assert "cura.asa" in CATALOGUE.with_implied(["cura.oss"])
    assert CATALOGUE.with_implied(["patenti.b"]) == ["patenti.b"]


def test_labels_are_italian_and_an_unknown_code_is_shown_as_is() -> None:
    assert CATALOGUE.label("abilitazioni.carrello-elevatore") == "Carrello elevatore (muletto)"
    assert CATALOGUE.labels(["ristorazione.haccp", "lingua.uk"]) == ["HACCP (igiene e sicurezza alimentare)", "Ucraino"]
    assert CATALOGUE.label("vecchio.codice") == "vecchio.codice"


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = SKILLS_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "skills.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # a synonym that another entry already has: which one would "muletto" be?
        ('"picking", "preparazione ordini"', '"picking", "muletto"', r"muletto.*abilitazioni\.carrello-elevatore"),
        # the same words in another order of stopwords and accents are the same term
        ('"picking", "preparazione ordini"', '"picking", "Carrèllo  ELEVATORE"', "carrello elevatore"),
        ("code: logistica.wms,", "code: logistica.picking,", "code repeated"),
        ("code: logistica.wms,", "code: magazzino.wms,", "area 'magazzino'"),
        ("implies: [patenti.b]", "implies: [patenti.bb]", "patenti.bb"),
        ("code: lingua.en,", "code: lingua.eng,", "ISO 639-1"),
        ('"picking", "preparazione ordini"', '"picking", "uso del"', "only stopwords or fillers"),
        ('"chiave inglese", ', '"inglese", ', "not_skills"),
    ],
)
def test_a_broken_list_fails_loudly_naming_the_entry(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_skills(_variant(tmp_path, old, new))


# --- the matcher: outsiders' texts ----------------------------------------------------------------

MATCHER = default_matcher()


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        # Italian vacancy requirements, as HR departments write them
        ("Patentino muletto in corso di validità, HACCP", ["abilitazioni.carrello-elevatore", "ristorazione.haccp"]),
        (
            "Richiesta esperienza come saldatore TIG e buona lettura del disegno tecnico",
            ["saldatura.tig", "meccanica.disegno-tecnico"],
        ),
        ("Saldatura MIG/MAG; patentino EN ISO 9606-1", ["saldatura.mig-mag", "saldatura.iso-9606-1"]),
        (
            "Formazione sicurezza rischio alto (16 ore) e primo soccorso",
            ["sicurezza.rischio-alto", "sicurezza.primo-soccorso"],
        ),
        ("Corso antincendio rischio medio", ["sicurezza.antincendio"]),
        ("Patente C + CQC, ADR gradito", ["patenti.c", "patenti.cqc-merci", "patenti.adr"]),
        ("patente CE con carta tachigrafica", ["patenti.ce", "patenti.tachigrafo"]),
        (
            "abilitazione PLE con e senza stabilizzatori, gru su autocarro",
            ["abilitazioni.ple", "abilitazioni.gru-autocarro"],
        ),
        ("Qualifica OSS o ASA", ["cura.oss", "cura.asa"]),
        ("Tornitore CNC con conoscenza Fanuc", ["meccanica.tornio-cnc", "meccanica.programmazione-cnc"]),
        ("fresa tradizionale", ["meccanica.fresa"]),
        ("Pulizie industriali con uso lavasciuga", ["pulizie.industriali", "pulizie.macchine"]),
        (
            "Aiuto cuoco, servizio in sala, cassa",
            ["ristorazione.preparazione-alimenti", "ristorazione.sala", "commercio.cassa"],
        ),
        ("uso palmare e gestionale WMS", ["logistica.terminale-rf", "logistica.wms"]),
        ("ECDL, pacchetto Office", ["informatica.icdl", "informatica.office"]),
        ("Inglese B1, francese scolastico", ["lingua.en", "lingua.fr"]),
        # typos and plurals of long words are read; accents and case do not matter
        ("carrelli elevatori", ["abilitazioni.carrello-elevatore"]),
        ("mulettto", ["abilitazioni.carrello-elevatore"]),
        ("SALDATURE TIG", ["saldatura.tig"]),
        ("Igiene Alimentare", ["ristorazione.haccp"]),
        # English, as a CV or an international company puts it
        (
            "Forklift licence, basic English, MS Office",
            ["abilitazioni.carrello-elevatore", "lingua.en", "informatica.office"],
        ),
        ("First aid at work; working at height", ["sicurezza.primo-soccorso", "sicurezza.lavori-in-quota"]),
        ("CNC lathe, reading technical drawings", ["meccanica.tornio-cnc", "meccanica.disegno-tecnico"]),
        # Ukrainian (and the Russian a Ukrainian CV often mixes in)
        ("Досвід роботи на навантажувачі, зварювання аргоном", ["abilitazioni.carrello-elevatore", "saldatura.tig"]),
        ("Посвідчення водія категорії B, англійська мова", ["patenti.b", "lingua.en"]),
        ("Кухар, санітарна книжка", ["ristorazione.cucina", "ristorazione.haccp"]),
        ("доглядальниця за літніми людьми", ["cura.assistenza-persona"]),
        ("Оператор ЧПК, читання креслень", ["meccanica.conduzione-cnc", "meccanica.disegno-tecnico"]),
        ("украинский, русский", ["lingua.uk", "lingua.ru"]),
    ],
)
def test_texts_are_coded_to_the_list(text: str, codes: list[str]) -> None:
    assert MATCHER.codes(text) == codes


@pytest.mark.parametrize(
    "text",
    [
        "Mario Rossi",
        "+39 333 123 4567",
        "esperienza nel ruolo",
        "disponibilità su turni e nel fine settimana",
        "puntualità e lavoro in team",
        "buona conoscenza della lingua italiana",  # Italian is the CEFR level, not a skill
        "chiave inglese e cacciavite",  # a wrench, not English
        "raccolta differenziata",
        "gestione ordini",  # "gestione" is not "gestionale"
        "",
    ],
)
def test_texts_naming_no_skill_give_no_code(text: str) -> None:
    assert MATCHER.codes(text) == []


def test_short_codes_must_be_exact_patente_c_is_not_ce() -> None:
    assert MATCHER.codes("patente C") == ["patenti.c"]
    assert MATCHER.codes("patente CE") == ["patenti.ce"]
    assert MATCHER.codes("saldatore") == []  # a welder is not a weld: no guess
    assert MATCHER.codes("TIG") == ["saldatura.tig"]


def test_the_longest_phrase_wins_and_each_code_comes_once() -> None:
    hits = MATCHER.find("saldatura a filo, saldatura MIG; MIG")
    assert [h.code for h in hits] == ["saldatura.mig-mag"]
    assert MATCHER.codes("carrello elevatore frontale e carrello elevatore retrattile") == [
        "abilitazioni.carrello-elevatore"
    ]


def test_a_vacancy_s_requirements_are_coded_in_order() -> None:
    requirements = ["HACCP", "esperienza nel ruolo", "preparazione alimenti", "HACCP", "automunito/a"]
    assert code_requirements(requirements) == [
        "ristorazione.haccp",
        "ristorazione.preparazione-alimenti",
        "patenti.mezzo-proprio",
    ]


# --- the intake form ---------------------------------------------------------------------------


def test_resolve_takes_a_code_or_the_words_of_one() -> None:
    assert MATCHER.resolve("ristorazione.haccp") == "ristorazione.haccp"
    assert MATCHER.resolve("abilitazioni.muletto") == "abilitazioni.carrello-elevatore"
    assert MATCHER.resolve("muletto, haccp") is None  # two entries: not one code


def test_suggestions_from_a_referral_split_skills_from_languages() -> None:
    skills, languages = suggested_skills(
        ["magazziniere con patentino muletto, esperienza picking", "Patente B", "ucraino, russo, italiano base"]
    )
    assert skills == ["logistica.magazzino", "abilitazioni.carrello-elevatore", "logistica.picking", "patenti.b"]
    assert languages == ["uk", "ru"]  # Italian is never proposed as a language
    assert suggested_skills([None, ""]) == ([], [])


def test_form_problems_name_the_wrong_code_and_what_was_meant() -> None:
    problems = form_problems(["abilitazioni.muletto", "ristorazione.haccp", "lingua.italiano"], ["it", "xx", "uk"])
    assert len(problems) == 4
    assert "abilitazioni.muletto" in problems[0] and "abilitazioni.carrello-elevatore" in problems[0]
    assert "Carrello elevatore (muletto)" in problems[0]
    assert "lingue parlate" in problems[1]
    assert "QCER" in problems[2]
    assert "«xx»" in problems[3] and "uk (ucraino)" in problems[3]
    assert form_problems(["ristorazione.haccp"], ["uk", "ru"]) == []


def test_a_profile_stores_known_codes_and_languages_once() -> None:
    stored = profile_skill_codes(["ristorazione.haccp", "ristorazione.haccp", "non.esiste"], ["uk", "en"], CATALOGUE)
    assert stored == ["ristorazione.haccp", "lingua.uk", "lingua.en"]
