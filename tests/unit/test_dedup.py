"""Duplicate detection: identifiers first, blocked fuzzy names, review band (docs/ARCHITECTURE.md#matching)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from tasks.matching.dedup import DedupThresholds, PersonRecord, agreement_score, find_duplicates, phonetic_key

BD = date(1988, 3, 14)
CF_A = "RSSMRA85T10A562S"
CF_B = "RSSMRA85T10A794D"


def rec(key: str, family: str, given: str, bd: date | None = BD, **kw: str | None) -> PersonRecord:
    return PersonRecord(key=key, family_name=family, given_names=given, birth_date=bd, **kw)


EXISTING = [
    rec("E1", "Kovalenko", "Oleksandr"),
    rec("E2", "Shevchenko", "Yuliia", date(1992, 7, 1), phone="+393331234567"),
    rec("E3", "Rossi", "Mario", date(1985, 12, 10), codice_fiscale=CF_A),
    rec("E4", "Bondarenko", "Serhii", date(1979, 1, 5), email="s.bond@example.com"),
    rec("E5", "Melnyk", "Tetiana", None),
    rec("E6", "Hassan", "Mohamed", date(1990, 2, 2), codice_fiscale=CF_B),
]


@pytest.mark.parametrize(
    ("new", "band", "match", "reason"),
    [
        # Same codice fiscale wins even with a different spelling and no birth date.
        (rec("N", "Rosi", "M.", None, codice_fiscale="rssmra85t10a562s"), "merge", "E3", "codice_fiscale"),
        # Same phone and a similar enough name.
        (rec("N", "Shevchenko", "Yulia", None, phone="333 123 4567"), "merge", "E2", "phone"),
        # Same e-mail, transliteration variant.
        (rec("N", "Bondarenko", "Sergey", None, email="S.Bond@example.com"), "merge", "E4", "email"),
        # Shared phone but a different person (family phone): not merged on the phone.
        (rec("N", "Shevchenko", "Mykola", date(1960, 1, 1), phone="+393331234567"), "new", None, "no_match"),
        # ...and without a birth date the different given name still keeps them apart.
        (rec("N", "Shevchenko", "Mykola", None, phone="+393331234567"), "new", None, "no_match"),
        # Swapped family/given order, same birth date.
        (rec("N", "Oleksandr", "Kovalenko"), "merge", "E1", "name+birth_date"),
        # Cyrillic and Russian passport spelling of the same person.
        (rec("N", "Коваленко", "Олександр"), "merge", "E1", "name+birth_date"),
        (rec("N", "Kovalenko", "Aleksandr"), "merge", "E1", "name+birth_date"),
        # Missing birth date: name-only evidence goes to review, never merges.
        (rec("N", "Kovalenko", "Oleksandr", None), "review", "E1", "name_only"),
        (rec("N", "Melnyk", "Tatiana"), "review", "E5", "name_only"),
        # Different person, same birth date.
        (rec("N", "Tkachenko", "Iryna"), "new", None, "no_match"),
        # The codice fiscale beats a name that points elsewhere.
        (rec("N", "Hassan", "Mohammed", date(1990, 2, 2), codice_fiscale=CF_A), "merge", "E3", "codice_fiscale"),
        # Same phone, same surname, different birth date: a relative, not a merge.
        (rec("N", "Shevchenko", "Yuliia", date(1965, 1, 1), phone="+393331234567"), "new", None, "no_match"),
        # Patronymic present on one side only: close, but a person should look.
        (rec("N", "Kovalenko", "Oleksandr Petrovych"), "review", "E1", "name+birth_date"),
    ],
)
def test_decision_table(new: PersonRecord, band: str, match: str | None, reason: str) -> None:
    [d] = find_duplicates([new], EXISTING)
    assert (d.band, d.match_key, d.reason) == (band, match, reason), d
    assert 0 <= d.score <= 100


def test_conflicting_codici_fiscali_are_not_merged() -> None:
    existing = [rec("E", "Hassan", "Mohamed", BD, codice_fiscale=CF_B)]
    [d] = find_duplicates([rec("N", "Hassan", "Mohamed", BD, codice_fiscale=CF_A)], existing)
    assert d.band != "merge"
    assert d.reason == "codice_fiscale_conflict"


def test_temporary_numeric_code_does_not_conflict() -> None:
    existing = [rec("E", "Hassan", "Mohamed", BD, codice_fiscale="12345678901")]
    [d] = find_duplicates([rec("N", "Hassan", "Mohammed", BD, codice_fiscale=CF_A)], existing)
    assert (d.band, d.match_key) == ("merge", "E")


def test_exact_cf_score_is_100() -> None:
    [d] = find_duplicates([rec("N", "X", "Y", None, codice_fiscale=CF_A)], EXISTING)
    assert d.score == 100


def test_in_batch_duplicate_points_to_earlier() -> None:
    batch = [
        rec("N1", "Tkachenko", "Iryna", date(2000, 5, 5)),
        rec("N2", "Lysenko", "Petro", date(1970, 1, 1)),
        rec("N3", "Tkachenko", "Irina", date(2000, 5, 5)),  # second partner, Russian spelling
        rec("N4", "Ткаченко", "Ірина", date(2000, 5, 5)),
    ]
    d = find_duplicates(batch, [])
    assert [x.band for x in d] == ["new", "new", "merge", "merge"]
    assert d[2].match_key == "N1" and d[3].match_key == "N1"


def test_in_batch_identifier_duplicate() -> None:
    batch = [
        rec("N1", "Ivanenko", "Oksana", None, phone="+380671234567"),
        rec("N2", "Ivanenko", "Oksana", None, phone="+380 67 123 4567"),
    ]
    d = find_duplicates(batch, [])
    assert (d[1].band, d[1].match_key, d[1].reason) == ("merge", "N1", "phone")


def test_never_points_forward_or_to_itself() -> None:
    batch = [rec(f"N{i}", "Kovalenko", "Oleksandr") for i in range(4)]
    d = find_duplicates(batch, [])
    assert d[0].band == "new"
    for i, x in enumerate(d[1:], start=1):
        assert x.match_key is not None and int(x.match_key[1:]) < i


def test_thresholds_are_respected() -> None:
    strict = DedupThresholds(merge=100, review=99)
    [d] = find_duplicates([rec("N", "Kovalenko", "Oleksandr Petrovych")], EXISTING, strict)
    assert d.band == "new"


def test_phonetic_key() -> None:
    assert phonetic_key("kovalenko") == "kvl"
    assert phonetic_key("maria") == phonetic_key("mario")  # same block, scored apart
    assert phonetic_key("") == ""


@pytest.mark.parametrize(
    ("a", "b", "merged"),
    [
        # One slip in a long name, in any order, with a transliteration on top.
        (("Giordano", "Francesca"), ("Francesca", "Gdiordano"), True),
        (("Коваленко", "Олександр"), ("Kovalenko", "Oleksnadr"), True),
        # Spacing and the Arabic article are how people write, not other people.
        (("Chaoui", "Abdel Kader"), ("Chaoui", "Abdelkader"), True),
        (("El Mansouri", "Karim"), ("Mansouri", "Kareem"), True),
        (("Ben Jelloun", "Nadia"), ("Benjelloun", "Nadia"), True),
        # Twins and siblings born the same day: a final vowel or a first letter makes a name.
        (("Kovalenko", "Oleksandr"), ("Kovalenko", "Oleksandra"), False),
        (("Rossi", "Mario"), ("Rossi", "Maria"), False),
        (("Rossi", "Daniel"), ("Rossi", "Daniela"), False),
        (("Singh", "Harpreet"), ("Singh", "Gurpreet"), False),
        (("Rossi", "Marina"), ("Rossi", "Karina"), False),
        (("Rossi", "Marco"), ("Rossi", "Mario"), False),  # short names get no slip
        # A name present on one side only (patronymic, second surname) needs a person.
        (("García López", "Juan"), ("García", "Juan"), False),
    ],
)
def test_merge_needs_agreeing_names(a: tuple[str, str], b: tuple[str, str], merged: bool) -> None:
    existing = [rec("E", *a)]
    [d] = find_duplicates([rec("N", *b)], existing)
    assert (d.band == "merge") is merged, d
    if not merged:
        assert d.score < DedupThresholds().merge


def test_agreement_score_costs() -> None:
    assert agreement_score(["kovalenko", "oleksandr"], ["oleksandr", "kovalenko"]) == 100
    assert agreement_score(["giordano", "francesca"], ["gdiordano", "francesca"]) == 96
    assert agreement_score(["abdel", "kader"], ["abdelkader"]) == 98
    assert agreement_score(["giordano", "francesca"], ["gdiordano", "frnacesca"]) == 92
    assert agreement_score(["rossi", "mario"], ["rossi", "maria"]) is None
    assert agreement_score([], ["rossi"]) is None


def test_scales_with_blocks() -> None:
    """20k existing + 5k new (a tenth without birth date): every record gets one decision,
    never pointing forward (speed is measured in bench/bench_dedup.py, not asserted here)."""
    rng = random.Random(3)
    families = [
        f"{a}{b}"
        for a in ("Koval", "Shevch", "Bond", "Tkach", "Melny", "Rossi", "Bianch", "Hass", "Diall", "Popesc")
        for b in ("enko", "uk", "ar", "ini", "ov", "escu", "an", "o")
    ]
    givens = [
        "Oleksandr",
        "Iryna",
        "Mohamed",
        "Mario",
        "Anna",
        "Serhii",
        "Yuliia",
        "Fatima",
        "Ion",
        "Giulia",
        "Amadou",
        "Olena",
        "Dmytro",
        "Maria",
        "Ahmed",
        "Kateryna",
    ]
    start = date(1960, 1, 1)

    def person(key: str) -> PersonRecord:
        bd = None if rng.random() < 0.1 else start + timedelta(days=rng.randrange(16000))
        return rec(key, rng.choice(families), rng.choice(givens), bd)

    existing = [person(f"E{i}") for i in range(20_000)]
    new = [person(f"N{i}") for i in range(5_000)]
    out = find_duplicates(new, existing)
    assert [d.new_key for d in out] == [r.key for r in new]
    position = {r.key: i for i, r in enumerate(new)}
    for d in out:
        assert d.match_key != d.new_key
        if d.match_key in position:
            assert position[d.match_key] < position[d.new_key]
    assert {d.band for d in out} == {"merge", "review", "new"}
