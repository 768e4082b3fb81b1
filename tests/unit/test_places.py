"""The comune of residence as outsiders write it, resolved against the province's official list
(tasks/files/places.py, config/offices.yaml, config/places.yaml)."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.data import ConfigError, load_offices
from config.places import PLACES_FILE, load_places
from tasks.files.places import FUZZY_MARGIN, FUZZY_THRESHOLD, resolve_municipality

OFFICIAL = [(m.name, m.istat, o.code) for o in load_offices() for m in o.municipalities]
BY_NAME = {name: (istat, office) for name, istat, office in OFFICIAL}


# --- the official list ------------------------------------------------------------------------


def test_the_province_has_243_comuni_with_unique_istat_codes_each_served_by_one_cpi() -> None:
    names = [name for name, _, _ in OFFICIAL]
    codes = [istat for _, istat, _ in OFFICIAL]
    assert len(set(names)) == len(names) == 243
    assert len(set(codes)) == 243
    assert all(c.startswith("016") and 1 <= int(c[3:]) <= 253 for c in codes)
    # each comune appears under exactly one office (the loader refuses a second one)
    assert max(Counter(names).values()) == 1
    assert {office for _, _, office in OFFICIAL} == {o.code for o in load_offices()}


@pytest.mark.parametrize(
    ("name", "istat", "office"),
    [
        ("Bergamo", "016024", "CPI-BG"),
        ("Dalmine", "016091", "CPI-BG"),
        ("Treviglio", "016219", "CPI-TRV"),
        ("Romano di Lombardia", "016183", "CPI-ROM"),
        ("Torre de' Busi", "016215", "CPI-PSP"),  # from Lecco in 2018: served with its neighbours
        ("Sant'Omobono Terme", "016252", "CPI-ZOG"),  # merged with Valsecca in 2014: a new code
        ("Val Brembilla", "016253", "CPI-ZOG"),  # Brembilla + Gerosa, 2014
        ("Villa d'Almè", "016239", "CPI-ZOG"),
    ],
)
def test_known_istat_codes(name: str, istat: str, office: str) -> None:
    assert BY_NAME[name] == (istat, office)


def test_a_locality_pointing_at_a_misspelt_comune_is_refused_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "places.yaml"
    bad.write_text(
        PLACES_FILE.read_text(encoding="utf-8").replace('comuni: ["Dalmine"]}', 'comuni: ["Dalmin"]}', 1),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"places\.yaml: localities \(name='Sforzatica'\).*Dalmin"):
        load_places(bad)


def test_a_place_named_like_a_comune_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "places.yaml"
    text = PLACES_FILE.read_text(encoding="utf-8")
    bad.write_text(
        text.replace('{name: "Brescia", province: "BS"}', '{name: "Brescia", province: "BS", aliases: ["Calcio"]}'),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"'Calcio' is already comune 'Calcio'"):
        load_places(bad)


# --- what outsiders write ---------------------------------------------------------------------

RESOLVED = [
    # (written, official name, how)
    ("Bergamo", "Bergamo", "exact"),
    ("BERGAMO", "Bergamo", "exact"),
    ("Bergamo (BG)", "Bergamo", "normalised"),
    ("Bergamo BG", "Bergamo", "normalised"),
    ("BERGAMO (BERGAMO)", "Bergamo", "normalised"),
    ("24121 Bergamo", "Bergamo", "normalised"),
    ("Bergamo, Italia", "Bergamo", "normalised"),
    ("Бергамо", "Bergamo", "normalised"),
    ("Città Alta", "Bergamo", "locality"),
    ("Redona", "Bergamo", "locality"),
    ("Dalmine (Bg)", "Dalmine", "normalised"),
    ("dalmine - bg", "Dalmine", "normalised"),
    ("Dalmine, provincia di Bergamo", "Dalmine", "normalised"),
    ("24044 DALMINE BG", "Dalmine", "normalised"),
    ("Дальміне", "Dalmine", "normalised"),
    ("Comune di Seriate", "Seriate", "normalised"),
    ("residente a Seriate", "Seriate", "normalised"),
    ("Torre de' Busi", "Torre de' Busi", "exact"),
    ("Torre de Busi", "Torre de' Busi", "normalised"),
    ("Torre de’ Busi", "Torre de' Busi", "normalised"),
    ("TORRE DE' BUSI (LC)", "Torre de' Busi", "normalised"),  # its province before 2018
    ("Torre dè Busi", "Torre de' Busi", "normalised"),
    ("Villa d Alme", "Villa d'Almè", "normalised"),
    ("VILLA D'ALME'", "Villa d'Almè", "normalised"),
    ("Sant Omobono Terme", "Sant'Omobono Terme", "normalised"),
    ("Romano di Lomb.", "Romano di Lombardia", "abbreviation"),
    ("Romano di L.dia", "Romano di Lombardia", "abbreviation"),
    ("Romano", "Romano di Lombardia", "abbreviation"),
    ("Alzano Lomb.", "Alzano Lombardo", "abbreviation"),
    ("S. Pellegrino T.", "San Pellegrino Terme", "abbreviation"),
    ("S.Pellegrino", "San Pellegrino Terme", "abbreviation"),
    ("S.Omobono", "Sant'Omobono Terme", "abbreviation"),
    ("S. Giovanni B.co", "San Giovanni Bianco", "abbreviation"),
    ("Ponte S. Pietro", "Ponte San Pietro", "abbreviation"),
    ("Almenno S.S.", "Almenno San Salvatore", "abbreviation"),
    ("Almenno S. Bartolomeo", "Almenno San Bartolomeo", "abbreviation"),
    ("Azzano S.Paolo", "Azzano San Paolo", "abbreviation"),
    ("Sotto il Monte", "Sotto il Monte Giovanni XXIII", "abbreviation"),
    ("Sotto il Monte Giovanni 23", "Sotto il Monte Giovanni XXIII", "abbreviation"),
    ("Trescore B.", "Trescore Balneario", "abbreviation"),
    ("Trescore", "Trescore Balneario", "abbreviation"),
    ("Caprino Bgsco", "Caprino Bergamasco", "abbreviation"),
    ("Cisano", "Cisano Bergamasco", "abbreviation"),
    ("Castione", "Castione della Presolana", "abbreviation"),
    ("Sanpellegrino", "San Pellegrino Terme", "abbreviation"),
    ("Orio", "Orio al Serio", "abbreviation"),
    ("Sforzatica", "Dalmine", "locality"),
    ("fraz. Sforzatica", "Dalmine", "locality"),
    ("Crespi d'Adda", "Capriate San Gervasio", "locality"),
    ("Brembilla", "Val Brembilla", "locality"),  # merged in 2014
    ("Zingonia di Verdellino", "Verdellino", "normalised"),
    ("Ciserano (loc. Zingonia)", "Ciserano", "normalised"),
    ("Via Roma 12, Treviglio", "Treviglio", "normalised"),
    ("Dalmine (fraz. Mariano)", "Dalmine", "normalised"),
    ("Dalmne", "Dalmine", "fuzzy"),
    ("Bregamo", "Bergamo", "fuzzy"),
    ("Trevilgio", "Treviglio", "fuzzy"),
    ("Seriatte", "Seriate", "fuzzy"),
    ("Brembate Sopra", "Brembate di Sopra", "abbreviation"),
    ("Brembate S.", "Brembate di Sopra", "abbreviation"),
    ("Costa Mezzate", "Costa di Mezzate", "abbreviation"),
    ("P.te S. Pietro", "Ponte San Pietro", "abbreviation"),
    ("Capriate S.G.", "Capriate San Gervasio", "abbreviation"),
    ("Brignano", "Brignano Gera d'Adda", "abbreviation"),
    ("Zingonia-Ciserano", "Ciserano", "normalised"),
    ("Medolago(BG)", "Medolago", "normalised"),
    ("Brembate di Sopre", "Brembate di Sopra", "fuzzy"),
    ("Romano di Lombradia", "Romano di Lombardia", "fuzzy"),
    ("Brembate", "Brembate", "exact"),
    ("Brembate di Sopra", "Brembate di Sopra", "exact"),
]


@pytest.mark.parametrize(("written", "name", "how"), RESOLVED)
def test_written_comuni_resolve(written: str, name: str, how: str) -> None:
    r = resolve_municipality(written)
    assert (r.name, r.istat, r.office_code, r.how) == (name, *BY_NAME[name], how), r.explanation
    assert 0 < r.confidence <= 100
    assert name in r.explanation and f"ISTAT {r.istat}" in r.explanation  # it says what and why


@pytest.mark.parametrize(
    ("written", "office", "comuni"),
    [
        ("Zingonia", "CPI-BG", {"Verdellino", "Ciserano", "Osio Sotto", "Boltiere", "Verdello"}),
        ("loc. Zingonia", "CPI-BG", {"Verdellino", "Ciserano", "Osio Sotto", "Boltiere", "Verdello"}),
        ("Osio", "CPI-BG", {"Osio Sopra", "Osio Sotto"}),
        ("Bonate S.", "CPI-PSP", {"Bonate Sopra", "Bonate Sotto"}),
        ("Almenno", "CPI-ZOG", {"Almenno San Bartolomeo", "Almenno San Salvatore"}),
        ("Dezzo di Scalve", "CPI-CLU", {"Azzone", "Colere"}),
        ("Isola Bergamasca", "CPI-PSP", None),
    ],
)
def test_places_across_comuni_of_one_office_give_the_office(written: str, office: str, comuni: set[str] | None) -> None:
    """The comune is settled at intake; the office is certain, so the case needs no coordinator."""
    r = resolve_municipality(written)
    assert r.office_code == office and r.istat is None and r.name is None, r.explanation
    assert r.resolved and r.confidence < 90
    if comuni is not None:
        assert set(r.candidates) == comuni


@pytest.mark.parametrize(
    ("written", "how", "reason"),
    [
        ("", "empty", "non indicato"),
        ("   ", "empty", "non indicato"),
        (None, "empty", "non indicato"),
        ("senza fissa dimora", "empty", "non indicato"),
        ("S.F.D.", "empty", "non indicato"),
        ("n.d.", "empty", "non indicato"),
        ("-", "empty", "non indicato"),
        ("non so", "empty", "non indicato"),  # "so" is not Sondrio here
        ("BG", "unresolved", "provincia di Bergamo, non un comune"),
        ("Provincia di Bergamo", "unresolved", "provincia di Bergamo, non un comune"),
        ("Villa", "unresolved", "Villa d'Adda"),  # four comuni begin with Villa, several CPI
        ("Torre", "unresolved", "Torre Boldone"),
        ("Fara", "unresolved", "Fara Gera d'Adda"),
        ("Grumello", "unresolved", "Grumello del Monte"),  # or the quartiere of Bergamo
        ("Val Seriana", "unresolved", "zona"),
        ("Dalmine (MI)", "unresolved", "provincia MI"),  # a comune of ours, another sigla: check
        ("24068", "unresolved", "nessun comune"),
        ("Xyzabc", "unresolved", "nessun comune"),
        ("Milano", "out_of_province", "MI"),
        ("MILANO (MI)", "out_of_province", "MI"),
        ("Milan", "out_of_province", "MI"),
        ("Мілан", "out_of_province", "MI"),
        ("Brescia", "out_of_province", "BS"),
        ("Lecco", "out_of_province", "LC"),
        ("Monza (MB)", "out_of_province", "MB"),
        ("Cassano d'Adda", "out_of_province", "MI"),
        ("Trezzo", "out_of_province", "MI"),  # short form of Trezzo sull'Adda
        ("Calolziocorte", "out_of_province", "LC"),  # moved to Lecco in 1992
        ("Pessano con Bornago (MI)", "out_of_province", "MI"),  # not listed: the sigla says it
        ("Rivolta d'Adda - CR", "out_of_province", "CR"),
        ("Cassano d'Adda MI", "out_of_province", "MI"),
        ("Pessano con Bornago MI", "unresolved", "nessun comune"),  # a bare sigla alone proves little
    ],
)
def test_what_has_no_office_says_why(written: str | None, how: str, reason: str) -> None:
    r = resolve_municipality(written)
    assert r.how == how and r.office_code is None and not r.resolved, r.explanation
    assert reason in r.explanation or reason == r.province
    assert "assegna il coordinamento" in r.explanation or how == "out_of_province"


def test_treviglio_is_in_the_province() -> None:
    assert resolve_municipality("Treviglio (BG)").office_code == "CPI-TRV"


def test_fuzzy_never_mixes_up_close_names() -> None:
    """A typo must be clearly nearer one place than any other: threshold and margin."""
    assert FUZZY_THRESHOLD >= 80 and FUZZY_MARGIN >= 5
    assert resolve_municipality("Brembate").name == "Brembate"
    assert resolve_municipality("Brembate Sopra").name == "Brembate di Sopra"
    assert resolve_municipality("Osio Sopta").name == "Osio Sopra"
    # Cene / Gene: four letters, one wrong, is not close enough to guess
    assert resolve_municipality("Gene").how == "unresolved"
    fuzzy = resolve_municipality("Dalmne")
    assert fuzzy.how == "fuzzy" and FUZZY_THRESHOLD <= fuzzy.confidence < 100
    assert "somiglianza" in fuzzy.explanation


# --- properties -------------------------------------------------------------------------------


SUFFIXED = ["{}", "{} (BG)", "{} (Bg)", "{} BG", "{} - BG", "{}, Bergamo", "{} (Bergamo)", "24100 {}", " {} "]
SUFFIXED += ["{} (BG) Italia", "Comune di {}", "{} 24100 BG"]


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@given(
    st.sampled_from(OFFICIAL),
    st.sampled_from([str, str.upper, str.lower, str.title, _strip_accents]),
    st.sampled_from(SUFFIXED),
    st.sampled_from(["'", "’", " ", ""]),
)
@settings(max_examples=400, deadline=None)
def test_every_official_name_resolves_to_itself(
    entry: tuple[str, str, str], case: object, pattern: str, apostrophe: str
) -> None:
    name, istat, office = entry
    written = pattern.format(case(name.replace("'", apostrophe)))  # type: ignore[operator]
    r = resolve_municipality(written)
    assert (r.istat, r.name, r.office_code) == (istat, name, office), (written, r.explanation)
    assert r.how in ("exact", "normalised") and r.confidence >= 98


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_any_text_gets_an_answer_with_a_reason(text: str) -> None:
    r = resolve_municipality(text)
    assert r.explanation and 0 <= r.confidence <= 100
    assert r.resolved == (r.office_code is not None)
    if r.istat is not None:
        assert BY_NAME[r.name or ""] == (r.istat, r.office_code)
