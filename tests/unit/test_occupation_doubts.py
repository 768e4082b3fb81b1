"""The occupation coder says when it is unsure although a code scores well (issue 21)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.matching.occupation_doubts import GENERIC_CODES, Lexicon, doubt, masculine, same_word, word_stem
from tasks.matching.occupations import CONFIRM_BELOW, OccupationCoder, confidence

YAML = Path(__file__).resolve().parents[2] / "config" / "occupations.yaml"

TAXONOMY: list[tuple[str, dict[str, list[str]]]] = [
    ("8189", {"en": ["production operator", "plant operator"]}),
    ("8141", {"en": ["rubber products machine operator", "tyre builder"]}),
    ("7212", {"en": ["welder"], "it": ["saldatore"]}),
    ("9329", {"en": ["factory worker", "production worker"]}),
    ("7111", {"en": ["skilled construction worker", "house builder"]}),
    ("9313", {"en": ["building labourer"]}),
]


@pytest.fixture(scope="module")
def coder() -> OccupationCoder:
    return OccupationCoder(TAXONOMY)


# --- words in their forms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("saldatrice", "saldatore", True),  # feminine
        ("professoressa", "professore", True),
        ("operatori", "operatore", True),  # plural
        ("cleaners", "cleaner", True),
        ("printer", "print", True),  # English agent noun
        ("domicilio", "domiciliare", True),  # derived word, long shared start
        ("magazzino", "magazziniere", True),
        ("saldadore", "saldatore", True),  # typo
        ("вчителька", "вчитель", True),
        ("працівниця", "працівник", True),
        ("фермі", "ферми", True),  # Ukrainian case endings
        ("верстатів", "верстата", True),
        ("колл", "кол", True),
        ("calcio", "calciatore", False),
        ("elettricista", "elettronico", False),
        ("rubber", "production", False),
    ],
)
def test_same_word_in_another_form(a: str, b: str, same: bool) -> None:
    assert same_word(a, b) is same
    assert same_word(b, a) is same


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("operatrice", "operatore"),
        ("dottoressa", "dottore"),
        ("studentessa", "studente"),
        ("commessa", "commessa"),  # -essa only after -or/-ent
        ("вчителька", "вчитель"),
        ("прибиральниця", "прибиральник"),
        ("операторка", "оператор"),
        ("журналістка", "журналіст"),
        ("друкарка", "друкарка"),  # a typist: irregular forms are left alone
        ("welder", "welder"),
    ],
)
def test_masculine_form_of_feminine_job_nouns(word: str, expected: str) -> None:
    assert masculine(word) == expected


def test_stem_never_empties_a_short_word() -> None:
    assert word_stem("ae") == "ae"
    assert word_stem("asa") == "asa"


def test_lexicon_finds_codes_by_form_and_spelling() -> None:
    lexicon = Lexicon([("saldatore a filo", "7212"), ("operatore macchine", "8189"), ("operatrice ced", "4132")])
    assert lexicon.codes_of("saldatrice") == {"7212"}
    assert lexicon.codes_of("saldadore") == {"7212"}  # typo
    assert lexicon.codes_of("operatori") == {"8189", "4132"}
    assert lexicon.codes_of("giardiniere") == frozenset()


# --- the three doubts ----------------------------------------------------------------------------


def _generic_lexicon() -> Lexicon:
    """ "operator" in the labels of more unit groups than GENERIC_CODES, "rubber" in one."""
    pairs = [(f"machine {n} operator", f"8{n:03d}") for n in range(GENERIC_CODES)]
    return Lexicon([*pairs, ("rubber products operator", "8141"), ("meat cutter", "7511")])


def test_a_title_word_naming_another_candidate_is_a_doubt() -> None:
    why = doubt("rubber production operator", "production operator", ["8189", "8141"], _generic_lexicon(), str)
    assert "«rubber»" in why and "8141" in why
    # the same word is no doubt when the runner-ups do not use it
    assert doubt("rubber production operator", "production operator", ["8189", "7511"], _generic_lexicon(), str) == ""


def test_sharing_only_generic_words_is_a_doubt() -> None:
    lexicon = _generic_lexicon()
    why = doubt("meat processing operator", "roofing operator", ["7121", "8141"], lexicon, str)
    assert why.startswith("il titolo somiglia") and "operator" in why
    assert doubt("saldatore", "saldatore", ["7212", "7214"], lexicon, str) == ""
    # a title that is all generic words and the label that says just them: no doubt beyond the score
    assert doubt("operator", "operator", ["8000", "8001"], lexicon, str) == ""


def test_a_label_narrower_than_the_title_is_a_doubt() -> None:
    lexicon = Lexicon([("skilled construction worker", "7111"), ("construction labourer", "9313")])
    why = doubt("construction worker", "skilled construction worker", ["7111", "9313"], lexicon, str)
    assert "«skilled»" in why
    # compounds written in two words, feminine forms and plurals are the same words
    assert doubt("lava piatti", "lavapiatti", ["9412", "5120"], lexicon, str) == ""
    assert doubt("operatrice macchine", "operatore macchina", ["8189", "7223"], lexicon, str) == ""


# --- in the coder -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("rubber production operator", "rubber"),  # names the runner-up 8141
        ("tyre production worker", "tyre"),
        ("construction worker", "skilled"),  # the label says more than the title
    ],
)
def test_coder_is_unsure_when_the_words_disagree(coder: OccupationCoder, text: str, word: str) -> None:
    coding = coder.suggest(text)
    assert confidence(coding.candidates) >= CONFIRM_BELOW  # the score alone would be sure
    assert coding.to_confirm and coding.code is None, coding
    assert f"«{word}»" in coding.doubt


@pytest.mark.parametrize("text", ["production operator", "welder", "saldatrice", "saldatore, carpentiere"])
def test_coder_stays_sure_when_the_label_explains_the_title(coder: OccupationCoder, text: str) -> None:
    coding = coder.suggest(text)
    if text.startswith("saldatore,"):
        assert coding.code == "7212" and coding.doubt == ""  # "carpentiere" names no candidate
    else:
        assert not coding.to_confirm and coding.doubt == "", coding


def test_every_unsure_answer_says_why(coder: OccupationCoder) -> None:
    for coding in coder.suggest_many(["operatore", "", "rubber production operator", "xqzt"]):
        assert coding.to_confirm and coding.doubt, coding


@pytest.mark.skipif(not YAML.exists(), reason="config/occupations.yaml not present")
@pytest.mark.parametrize("text", ["glass production operator", "pasta production worker"])
def test_configured_taxonomy_doubts_generic_matches(text: str) -> None:
    from tasks.matching.occupations import default_coder

    coding = default_coder().suggest(text)
    assert confidence(coding.candidates) >= CONFIRM_BELOW
    assert coding.to_confirm and "parole generiche" in coding.doubt, coding
