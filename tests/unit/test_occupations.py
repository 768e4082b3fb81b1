"""Fuzzy coding of free-text job titles (docs/ARCHITECTURE.md#matching)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.matching.occupations import (
    OccupationCoder,
    TaxonomyEntry,
    entries_from_taxonomy,
    load_esco_occupations_csv,
    normalize_title,
    split_titles,
)

TAXONOMY: list[tuple[str, dict[str, list[str]]]] = [
    (
        "7212",
        {
            "it": ["saldatore", "saldatore a filo", "saldatore tig"],
            "en": ["welder", "flame cutter"],
            "uk": ["зварник", "електрозварник"],
        },
    ),
    (
        "7214",
        {
            "it": ["carpentiere metallico", "montatore strutture metalliche"],
            "en": ["structural metal worker"],
            "uk": ["монтажник металоконструкцій"],
        },
    ),
    ("7115", {"it": ["carpentiere edile", "falegname"], "en": ["carpenter", "joiner"], "uk": ["тесля", "столяр"]}),
    (
        "4321",
        {
            "it": ["magazziniere", "addetto al magazzino", "operatore di magazzino"],
            "en": ["warehouse worker", "stock clerk"],
            "uk": ["комірник", "працівник складу"],
        },
    ),
    (
        "8344",
        {
            "it": ["mulettista", "carrellista", "conduttore di carrelli elevatori"],
            "en": ["forklift driver"],
            "uk": ["водій навантажувача"],
        },
    ),
    (
        "9329",
        {
            "it": ["operaio generico", "operaio di produzione", "addetto produzione"],
            "en": ["production worker", "factory worker"],
            "uk": ["різноробочий"],
        },
    ),
    ("5120", {"it": ["cuoco", "aiuto cuoco"], "en": ["cook"], "uk": ["кухар"]}),
    (
        "9412",
        {
            "it": ["lavapiatti", "aiuto cucina"],
            "en": ["kitchen helper", "dishwasher"],
            "uk": ["посудомийниця", "помічник кухаря"],
        },
    ),
    ("5131", {"it": ["cameriere", "cameriere di sala"], "en": ["waiter", "waitress"], "uk": ["офіціант"]}),
    ("5322", {"it": ["badante", "assistente familiare"], "en": ["home care worker", "carer"], "uk": ["доглядальниця"]}),
    (
        "9112",
        {
            "it": ["addetto alle pulizie", "addetta pulizie uffici"],
            "en": ["cleaner", "office cleaner"],
            "uk": ["прибиральниця"],
        },
    ),
    (
        "8332",
        {
            "it": ["autista patente c", "camionista"],
            "en": ["truck driver", "lorry driver"],
            "uk": ["водій вантажівки", "далекобійник"],
        },
    ),
    ("7112", {"it": ["muratore"], "en": ["bricklayer", "mason"], "uk": ["муляр", "каменяр"]}),
    ("7411", {"it": ["elettricista"], "en": ["electrician"], "uk": ["електрик"]}),
    ("2221", {"it": ["infermiere", "infermiera"], "en": ["nurse"], "uk": ["медсестра"]}),
]

TITLES = [
    ("Saldatore a filo con esperienza", "7212"),
    ("saldatore/trice TIG", "7212"),
    ("Saldatore (MIG/MAG)", "7212"),
    ("welder", "7212"),
    ("зварник", "7212"),
    ("Електрозварник з досвідом", "7212"),
    ("Addetto/a magazzino", "4321"),
    ("magazziniera", "4321"),
    ("warehouse operator", "4321"),
    ("комірник", "4321"),
    ("mulettista con patentino", "8344"),
    ("Carrellista muletto", "8344"),
    ("forklift driver", "8344"),
    ("Operaio/a generico", "9329"),
    ("operaia di produzione", "9329"),
    ("factory worker", "9329"),
    ("cuoca", "5120"),
    ("Aiuto cuoco", "5120"),
    ("кухар", "5120"),
    ("lavapiatti", "9412"),
    ("kitchen helper", "9412"),
    ("cameriera di sala", "5131"),
    ("waitress", "5131"),
    ("офіціантка", "5131"),
    ("Badante convivente", "5322"),
    ("доглядальниця", "5322"),
    ("addetta alle pulizie", "9112"),
    ("cleaner", "9112"),
    ("прибиральниця", "9112"),
    ("Camionista patente C+CQC", "8332"),
    ("truck driver", "8332"),
    ("водій вантажівки", "8332"),
    ("muratore", "7112"),
    ("bricklayer", "7112"),
    ("elettricista industriale", "7411"),
    ("електрик", "7411"),
    ("infermiera professionale", "2221"),
    ("nurse", "2221"),
    ("carpentiere metallico", "7214"),
    ("falegname", "7115"),
    ("magazzinere", "4321"),  # typo
    ("elettricsta", "7411"),  # typo
]


@pytest.fixture(scope="module")
def coder() -> OccupationCoder:
    return OccupationCoder(TAXONOMY)


@pytest.mark.parametrize(("text", "code"), TITLES)
def test_top1_on_hand_written_titles(coder: OccupationCoder, text: str, code: str) -> None:
    result = coder.code(text, k=3)
    assert result[0][0] == code, result


def test_code_many_matches_code_and_is_distinct(coder: OccupationCoder) -> None:
    texts = [t for t, _ in TITLES]
    many = coder.code_many(texts, k=3)
    assert many == [coder.code(t, k=3) for t in texts]
    for row in many:
        codes = [c for c, _ in row]
        assert len(codes) == len(set(codes)) == 3
        scores = [s for _, s in row]
        assert scores == sorted(scores, reverse=True)
        assert all(0 <= s <= 100 for s in scores)


def test_prefilter_agrees_with_exhaustive_on_top1() -> None:
    texts = [t for t, _ in TITLES] + ["ho lavorato come saldatore per 5 anni in Ucraina"]
    full = OccupationCoder(TAXONOMY, exhaustive_limit=10**12).code_many(texts, k=1)
    fast = OccupationCoder(TAXONOMY, exhaustive_limit=0).code_many(texts, k=1)
    assert full == fast


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("saldatore, carpentiere metallico", {"7212", "7214"}),
        ("magazziniere / mulettista", {"4321", "8344"}),
        ("cuoco e cameriere", {"5120", "5131"}),
        ("кухар та офіціант", {"5120", "5131"}),
    ],
)
def test_several_titles_all_ranked(coder: OccupationCoder, text: str, codes: set[str]) -> None:
    top = {c for c, s in coder.code(text, k=3) if s >= 90}
    assert codes <= top


def test_empty_and_script_separation(coder: OccupationCoder) -> None:
    assert coder.code("", k=3) == []
    assert coder.code(None, k=3) == []
    assert coder.code("   ", k=3) == []
    assert coder.code_many([], k=3) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Addetto/a magazzino", "addetto magazzino"),
        ("Operaio/Operaia generico/a", "operaio generico"),
        ("Saldatore (MIG/MAG) con esperienza", "saldatore"),
        ("Mulettista con patentino", "mulettista"),
        ("Cameriere/a m/f", "cameriere"),
        ("Електрозварник з досвідом роботи", "електрозварник"),
        ("Infermière", "infermiere"),
        ("й ї", "й ї"),  # Cyrillic letters keep their diacritics
    ],
)
def test_normalize_title(raw: str, expected: str) -> None:
    assert normalize_title(raw) == expected


def test_split_titles_keeps_gender_slash() -> None:
    assert split_titles("addetto/a magazzino, mulettista e carrellista") == [
        "addetto magazzino",
        "mulettista",
        "carrellista",
    ]


def test_accepts_objects_and_dicts() -> None:
    class Syn:
        it = ("saldatore",)
        en = ("welder",)
        uk = ("зварник",)

    class Occ:
        code = "7212"
        it = "Saldatori"
        en = "Welders"
        uk = "Зварники"
        synonyms = Syn()

    entries = entries_from_taxonomy(
        [
            Occ(),
            {"code": "5120", "it": "Cuochi", "synonyms": {"it": ["cuoco"]}},
            TaxonomyEntry("9412", {"it": ("lavapiatti",)}),
            ("4321", ["magazziniere", "warehouse worker"]),
        ]
    )
    assert [e.code for e in entries] == ["7212", "5120", "9412", "4321"]
    assert "зварник" in entries[0].all_labels()
    assert OccupationCoder(entries).code("welder", k=1)[0][0] == "7212"


ESCO_CSV = """conceptType,conceptUri,iscoGroup,preferredLabel,altLabels,hiddenLabels,status,\
modifiedDate,regulatedProfessionNote,scopeNote,definition,inScheme,description,code
Occupation,http://data.europa.eu/esco/occupation/a1,7212,welder,"arc welder
MIG welder
TIG welder",weldr,released,2024-01-01,,,,,Joins metal.,7212.1
Occupation,http://data.europa.eu/esco/occupation/a2,7212,flame cutter,"torch cutter",,released,\
2024-01-01,,,,,Cuts metal.,7212.2
Occupation,http://data.europa.eu/esco/occupation/b1,4321,warehouse worker,"warehouse operative
stock handler",,released,2024-01-01,,,,,Moves goods.,4321.1
Occupation,http://data.europa.eu/esco/occupation/c1,110,commissioned armed forces officer,,,\
released,2024-01-01,,,,,Leads.,0110.1
"""


def test_load_esco_csv(tmp_path: Path) -> None:
    path = tmp_path / "occupations_en.csv"
    path.write_text("\ufeff" + ESCO_CSV, encoding="utf-8")
    entries = load_esco_occupations_csv(path, language="en")
    by_code = {e.code: e for e in entries}
    assert sorted(by_code) == ["0110", "4321", "7212"]
    assert by_code["7212"].labels["en"] == (
        "welder",
        "arc welder",
        "MIG welder",
        "TIG welder",
        "weldr",
        "flame cutter",
        "torch cutter",
    )
    coder = OccupationCoder(entries)
    assert coder.code("tig welder", k=1)[0][0] == "7212"
    assert coder.code("warehouse operative", k=1)[0][0] == "4321"
    no_hidden = load_esco_occupations_csv(path, include_hidden=False)
    assert "weldr" not in {lab for e in no_hidden for lab in e.all_labels()}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("conceptUri,preferredLabel\nhttp://x,welder\n", "mancano le colonne iscoGroup"),
        (
            "conceptUri,iscoGroup,preferredLabel\nhttp://x,7212,welder\nhttp://y,72a1,cutter\n",
            "riga 3, colonna iscoGroup",
        ),
        ("conceptUri,iscoGroup,preferredLabel\nhttp://x,,welder\n", "riga 2, colonna iscoGroup"),
        ("conceptUri,iscoGroup,preferredLabel\n", "nessuna occupazione"),
    ],
)
def test_load_esco_csv_rejects_bad_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "occupations_en.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        load_esco_occupations_csv(path)
    assert str(path) in str(info.value)


YAML = Path(__file__).resolve().parents[2] / "config" / "occupations.yaml"


@pytest.mark.skipif(not YAML.exists(), reason="config/occupations.yaml not present")
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Saldatore a filo con esperienza", "7212"),
        ("Addetto/a magazzino", "4321"),
        ("mulettista", "8344"),
        ("cameriere/a di sala", "5131"),
        ("Badante convivente", "5322"),
        ("OSS", "5321"),
        ("muratore", "7112"),
        ("autista patente C", "8332"),
        ("addetta alle pulizie", "9112"),
        ("welder", "7212"),
        ("forklift driver", "8344"),
        ("зварник", "7212"),
        ("кухар", "5120"),
        ("водій вантажівки", "8332"),
        ("Tornitore CNC", "7223"),
        ("lavapiatti", "9412"),
    ],
)
def test_against_config_taxonomy(text: str, code: str) -> None:
    from tasks.matching.occupations import default_coder

    assert code in [c for c, _ in default_coder().code(text, k=3)]
