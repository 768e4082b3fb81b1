"""Duplicate detection: identifiers first, blocked fuzzy names, review band (docs/ARCHITECTURE.md#matching)."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest

from tasks.matching.dedup import DedupThresholds, PersonRecord, find_duplicates

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
        # Someone else's codice fiscale (another name, another birth date): a person looks.
        (rec("N", "Hassan", "Mohammed", date(1990, 2, 2), codice_fiscale=CF_A), "review", "E3", "birth_date_conflict"),
        # The same codice fiscale beats a name written differently.
        (rec("N", "Rossi", "Mario Giovanni", date(1985, 12, 10), codice_fiscale=CF_A), "merge", "E3", "codice_fiscale"),
        # Same phone, same surname, different birth date: a relative, not a merge.
        (rec("N", "Shevchenko", "Yuliia", date(1965, 1, 1), phone="+393331234567"), "new", None, "no_match"),
        # Patronymic present on one side only, same birth date: the same person (issue 21).
        (rec("N", "Kovalenko", "Oleksandr Petrovych"), "merge", "E1", "name+birth_date"),
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
    """The bands follow the thresholds given (config/routing.yaml in the application)."""
    new = [rec("N", "Kovalenko", "Oleksandr", None)]
    [d] = find_duplicates(new, EXISTING)
    assert d.band == "review"
    [strict] = find_duplicates(new, EXISTING, DedupThresholds(merge=100, review=100))
    assert (strict.band, strict.match_key) == ("new", None)


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
        # A second surname dropped on one side, the same birth date: the same person.
        (("García López", "Juan"), ("García", "Juan"), True),
    ],
)
def test_merge_needs_agreeing_names(a: tuple[str, str], b: tuple[str, str], merged: bool) -> None:
    existing = [rec("E", *a)]
    [d] = find_duplicates([rec("N", *b)], existing)
    assert (d.band == "merge") is merged, d
    if not merged:
        assert d.score < DedupThresholds().merge


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


# --- issue 21: transliteration families, hard negatives, clusters, explanations -----------------


def _merged_clusters(decisions: list) -> list[set[str]]:  # type: ignore[type-arg]
    """The clusters the merge links make, transitively."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for d in decisions:
        if d.band == "merge" and d.match_key:
            parent[find(d.new_key)] = find(d.match_key)
    groups: dict[str, set[str]] = {}
    for d in decisions:
        groups.setdefault(find(d.new_key), set()).add(d.new_key)
    return [g for g in groups.values() if len(g) > 1]


@pytest.mark.parametrize(
    ("family", "given"),
    [
        ("Шевченко", "Юлія"),  # as in the passport
        ("Shevchenko", "Yuliia"),  # KMU 2010
        ("Schewtschenko", "Julija"),  # a German registry
        ("Chevtchenko", "Ioulia"),  # a French one
        ("Scevcenko", "Iulia"),  # an Italian clerk
        ("Shevchenko", "Yulia Petrivna"),  # with the patronymic
        ("Yulia", "Shevchenko"),  # given and family name swapped
    ],
)
def test_transliteration_families_merge_with_the_same_birth_date(family: str, given: str) -> None:
    existing = [rec("E", "Shevchenko", "Yuliia", date(1991, 4, 23)), rec("X", "Shevchuk", "Yurii", date(1991, 4, 23))]
    [d] = find_duplicates([rec("N", family, given, date(1991, 4, 23))], existing)
    assert (d.band, d.match_key) == ("merge", "E"), d


def test_day_and_month_swapped_still_merge_but_another_year_does_not() -> None:
    existing = [rec("E", "Bondarenko", "Serhii", date(1984, 9, 5), phone="+393401112233")]
    [swapped] = find_duplicates([rec("N", "Bondarenko", "Sergey", date(1984, 5, 9))], existing)
    assert (swapped.band, swapped.match_key) == ("merge", "E")
    [other_year] = find_duplicates([rec("N", "Bondarenko", "Serhii", date(1948, 9, 5))], existing)
    assert other_year.band != "merge"


def test_a_typo_in_the_tax_code_is_still_evidence() -> None:
    """RSSGLI91E52A794C mistyped as RSSGLI91E52A749C (check character no longer valid)."""
    existing = [rec("E", "Rossi", "Giulia", date(1991, 5, 12), codice_fiscale="RSSGLI91E52A794C")]
    [d] = find_duplicates([rec("N", "Rossi", "Giulia", None, codice_fiscale="RSSGLI91E52A749C")], existing)
    assert (d.band, d.match_key) == ("merge", "E"), d
    assert "codice fiscale quasi uguale" in d.why


def test_truncated_second_surname_merges() -> None:
    existing = [rec("E", "Quispe Rodríguez", "Carmen", date(1974, 10, 4))]
    [d] = find_duplicates([rec("N", "Quispe Rodr", "Carmen", date(1974, 10, 4))], existing)
    assert (d.band, d.match_key) == ("merge", "E"), d


@pytest.mark.parametrize(
    ("existing", "new", "kind"),
    [
        (  # twins: same surname, birth date, mother's phone and e-mail
            rec("E", "Kovalenko", "Oleksandr", date(2006, 3, 14), phone="+393405527781", email="koval@ukr.net"),
            rec("N", "Kovalenko", "Oleksandra", date(2006, 3, 14), phone="+393405527781", email="koval@ukr.net"),
            "twins",
        ),
        (
            rec("E", "Lysenko", "Ivan", date(2001, 6, 2), phone="+393405527781"),
            rec("N", "Lysenko", "Petro", date(2001, 6, 2), phone="+393405527781"),
            "twins",
        ),
        (  # father and son of one name and one phone
            rec("E", "Diallo", "Mamadou", date(1969, 6, 15), phone="+393249706517"),
            rec("N", "Diallo", "Mamadou", date(1994, 2, 8), phone="+393249706517"),
            "parent and child",
        ),
        (  # namesakes born on 1 January, each with a phone of their own
            rec("E", "Petrenko", "Andrii", date(1987, 1, 1), phone="+393351112233"),
            rec("N", "Petrenko", "Andrii", date(1987, 1, 1), phone="+393384445566"),
            "namesakes on 1 January",
        ),
        (  # husband and wife writing the family's one e-mail
            rec("E", "Melnyk", "Vasyl", date(1975, 2, 11), email="famiglia.melnyk@gmail.com"),
            rec("N", "Melnyk", "Halyna", date(1978, 8, 30), email="famiglia.melnyk@gmail.com"),
            "family e-mail",
        ),
    ],
)
def test_hard_negatives_are_not_merged(existing: PersonRecord, new: PersonRecord, kind: str) -> None:
    [d] = find_duplicates([new], [existing])
    assert d.band != "merge", (kind, d)


def test_a_social_workers_phone_does_not_make_strangers_one_person() -> None:
    """Eight different people referred with the same office phone, two of them sharing a surname."""
    people = [
        ("Tkachenko", "Iryna", date(1970, 3, 2)),
        ("Tkachenko", "Oleh", date(1999, 11, 21)),
        ("Moroz", "Nadiia", date(1965, 5, 5)),
        ("Hassan", "Amina", date(1990, 8, 17)),
        ("Rudenko", "Taras", date(1982, 12, 1)),
        ("Savchuk", "Olena", None),
        ("Ndiaye", "Fatou", date(1993, 4, 9)),
        ("Kravchenko", "Inna", date(1961, 7, 26)),
    ]
    batch = [rec(f"N{i}", f, g, bd, phone="035 221144") for i, (f, g, bd) in enumerate(people)]
    assert all(d.band == "new" for d in find_duplicates(batch, []))


def test_no_chaining_across_conflicting_tax_codes_or_birth_dates() -> None:
    """Father and son of one name and one phone, each with his own tax code, and a third
    referral of one of them without a birth date or code: the cluster never holds both."""
    batch = [
        rec("A", "Bondar", "Mykola", date(1960, 2, 3), codice_fiscale="BNDMKL60B03Z138S", phone="+393331234567"),
        rec("B", "Bondar", "Mykola", None, phone="+393331234567"),
        rec("C", "Bondar", "Mykola", date(1988, 10, 30), codice_fiscale="BNDMKL88R30Z138N", phone="+393331234567"),
    ]
    decisions = find_duplicates(batch, [])
    assert not any({"A", "C"} <= cluster for cluster in _merged_clusters(decisions))
    # the referral that could be either of them goes to a person
    assert decisions[1].band == "review" and decisions[1].reason == "ambiguous"


def test_explanations_are_italian_with_the_weight_of_each_field() -> None:
    existing = [rec("E", "Kovalenko", "Oleksandr", BD, phone="+393331234567")]
    [d] = find_duplicates([rec("N", "Коваленко", "Олександр", BD, phone="333 123 4567")], existing)
    assert d.why.startswith("stessa persona: ")
    for label in ("stessi nomi", "stessa data di nascita", "codice fiscale mancante", "stesso telefono"):
        assert label in d.why
    assert re.search(r"stesso telefono \(\+\d+\.\d\)", d.why)
    assert not re.search(r"\b(name|birth|phone|email|merge|review)\b", d.why)
    [new] = find_duplicates([rec("N", "Tkachenko", "Iryna", date(1950, 1, 9))], existing)
    assert (new.band, new.why) == ("new", "nessuna segnalazione simile")


def test_the_birth_date_a_tax_code_holds_fills_a_missing_one() -> None:
    """RSSGLI91E52A794C says 12 May 1991: another person born in 1960 is not merged with it."""
    existing = [rec("E", "Rossi", "Giulia", None, codice_fiscale="RSSGLI91E52A794C")]
    [same] = find_duplicates([rec("N", "Rossi", "Giulia", date(1991, 5, 12), phone="+393331234567")], existing)
    assert same.band != "new" and "stessa data di nascita" in same.why
    [other] = find_duplicates([rec("N", "Rossi", "Giulia", date(1960, 5, 12))], existing)
    assert other.band == "new"


def test_the_comune_supports_a_name_where_a_birth_date_is_missing() -> None:
    """Without a birth date on one side, the same comune – however written – is evidence;
    another comune is evidence against; none says nothing (a person looks)."""
    existing = [rec("E", "Tkachenko", "Yuliia", date(1990, 11, 3), municipality="Villa d'Almè")]
    for written in ("VILLA D'ALME (BG)", "Comune di Villa d’Almè", "villa d alme"):
        [d] = find_duplicates([rec("N", "Tkachenko", "Yuliia", None, municipality=written)], existing)
        assert (d.band, d.match_key, d.reason) == ("merge", "E", "name+municipality"), (written, d)
        assert re.search(r"stesso comune di residenza \(\+\d+\.\d\)", d.why)
    [moved] = find_duplicates([rec("N", "Tkachenko", "Yuliia", None, municipality="Treviglio")], existing)
    assert moved.band != "merge" and "comuni di residenza diversi (-" in moved.why
    [unknown] = find_duplicates([rec("N", "Tkachenko", "Yuliia", None)], existing)
    assert (unknown.band, unknown.reason) == ("review", "name_only")
    assert "comune di residenza mancante" in unknown.why


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        # a father and his son of one name in one comune: two birth dates
        (
            rec("E", "Bondar", "Mykola", date(1960, 2, 3), municipality="Dalmine"),
            rec("N", "Bondar", "Mykola", date(1988, 10, 30), municipality="Dalmine"),
        ),
        # namesakes born on 1 January of one year, in one comune: the placeholder, not a date
        (
            rec("E", "Diallo", "Mamadou", date(1995, 1, 1), municipality="Zogno"),
            rec("N", "Diallo", "Mamadou", date(1995, 1, 1), municipality="ZOGNO (BG)"),
        ),
        # twins: one birth date, one comune, two given names
        (
            rec("E", "Kovalenko", "Iryna", BD, municipality="Seriate"),
            rec("N", "Kovalenko", "Daryna", BD, municipality="Seriate"),
        ),
    ],
)
def test_the_comune_never_merges_hard_negatives(existing: PersonRecord, new: PersonRecord) -> None:
    [d] = find_duplicates([new], [existing])
    assert d.band != "merge", d


def test_a_referral_without_a_date_in_the_comune_of_a_father_and_his_son_goes_to_a_person() -> None:
    batch = [
        rec("A", "Bondar", "Mykola", date(1960, 2, 3), municipality="Dalmine"),
        rec("B", "Bondar", "Mykola", date(1988, 10, 30), municipality="Dalmine"),
        rec("C", "Bondar", "Mykola", None, municipality="Dalmine"),
    ]
    decisions = find_duplicates(batch, [])
    assert [d.band for d in decisions] == ["new", "new", "review"]
    assert decisions[2].reason == "ambiguous"


def test_a_slip_in_a_name_merges_with_the_same_date_and_comune() -> None:
    existing = [rec("E", "Popa", "Mihai", date(1984, 6, 2), municipality="Seriate")]
    [d] = find_duplicates([rec("N", "Popa", "Mihia", date(1984, 6, 2), municipality="Seriate (BG)")], existing)
    assert (d.band, d.match_key) == ("merge", "E")
    assert "nomi simili ma non uguali" in d.why and "stesso comune di residenza" in d.why
    [other] = find_duplicates([rec("N", "Popa", "Mihia", date(1984, 6, 2), municipality="Lovere")], existing)
    assert other.band != "merge"


def test_a_city_written_on_many_referrals_weighs_less_than_a_small_comune() -> None:
    rng = random.Random(3)
    letters = "bcdfglmnprstvz"

    def word() -> str:
        return "".join(rng.choice(letters) + rng.choice("aeiou") for _ in range(4)).capitalize()

    others = [rec(f"X{i}", word(), word(), None, municipality="Bergamo") for i in range(30)]
    others += [rec(f"Y{i}", word(), word(), None, municipality="Lovere") for i in range(3)]
    new = [
        rec("C", "Tkachenko", "Yuliia", None, municipality="Bergamo"),
        rec("S", "Melnyk", "Tetiana", None, municipality="Lovere"),
    ]
    existing = [
        *others,
        rec("EC", "Tkachenko", "Yuliia", BD, municipality="BERGAMO"),
        rec("ES", "Melnyk", "Tetiana", BD, municipality="LOVERE"),
    ]
    city, small = find_duplicates(new, existing)
    found = re.search(r"stesso comune di residenza, tra i più frequenti \(\+(\d+\.\d)\)", city.why)
    alone = re.search(r"stesso comune di residenza \(\+(\d+\.\d)\)", small.why)
    assert found and alone, (city.why, small.why)
    assert 0 < float(found.group(1)) < float(alone.group(1))


def test_a_name_and_a_comune_do_not_chain_two_namesakes() -> None:
    """Two people of one name, born on 1 January of one year and living in one comune, each
    known by a phone; a referral without a birth date fits both: a person decides."""
    jan1 = date(2000, 1, 1)
    batch = [
        rec("A1", "Savchenko", "Oksana", jan1, phone="+393331111111", municipality="Zogno"),
        rec("B1", "Savchenko", "Oksana", jan1, phone="+393332222222", municipality="Zogno"),
        rec("A2", "Savcenko", "Oksana", jan1, phone="+393331111111", municipality="Zogno"),
        rec("B2", "Savčenko", "Oksana", jan1, phone="+393332222222", municipality="ZOGNO"),
        rec("X", "Savchenko", "Oksana", None, municipality="Zogno (BG)"),
    ]
    decisions = find_duplicates(batch, [])
    assert [(d.band, d.match_key) for d in decisions[2:4]] == [("merge", "A1"), ("merge", "B1")]
    assert (decisions[4].band, decisions[4].reason) == ("review", "ambiguous")
    assert not any({"A1", "B1"} <= cluster for cluster in _merged_clusters(decisions))


def test_a_tax_code_and_a_name_that_agree_outweigh_a_slip_in_the_typed_date() -> None:
    """One person, one valid tax code, a birth date typed 01/12 on one referral and 10/12 on
    the other: the tax code says which; a third referral of the same person still joins."""
    cf = "RSSMRA81T10A794Z"
    batch = [
        rec("A", "Koval", "Dmytro", date(1981, 12, 1), codice_fiscale=cf),
        rec("B", "Koval", "Dmytro", date(1981, 12, 10), codice_fiscale=cf, phone="+393384635998"),
        rec("C", "Koval", "Dmytro", None, phone="+393384635998"),
    ]
    decisions = find_duplicates(batch, [])
    assert [(d.band, d.match_key) for d in decisions] == [("new", None), ("merge", "A"), ("merge", "A")], decisions


def test_a_similar_name_with_a_personal_identifier_merges_without_an_exact_date() -> None:
    """A slip in the surname (Lungu / Lugu) and the date swapped or missing: the same personal
    phone or e-mail decides; with neither, a person looks."""
    existing = [rec("E", "Lungu", "Ramona", date(1996, 9, 10), phone="+393401112233", email="ramona.l@example.com")]
    [swapped] = find_duplicates([rec("N", "Lugu", "Ramona", date(1996, 10, 9), phone="340 111 2233")], existing)
    [missing] = find_duplicates([rec("N", "Lugu", "Ramona", None, email="RAMONA.L@example.com")], existing)
    [alone] = find_duplicates([rec("N", "Lugu", "Ramona", date(1996, 10, 9))], existing)
    assert (swapped.band, swapped.match_key) == ("merge", "E"), swapped
    assert (missing.band, missing.match_key) == ("merge", "E"), missing
    assert alone.band != "merge", alone


def test_twins_on_one_phone_with_alike_given_names_stay_apart_without_a_date() -> None:
    """Twins share a family name, a phone and a birth date; a referral of one of them without
    a date and given names that differ by their first letter (Mariia / Dariia) is no slip."""
    existing = [rec("E", "Bondar", "Mariia", date(2001, 3, 4), phone="+393331234567")]
    [d] = find_duplicates([rec("N", "Bondar", "Dariia", None, phone="+393331234567")], existing)
    assert d.band != "merge", d


def test_a_rare_name_weighs_more_than_a_name_many_referrals_share() -> None:
    """Term frequency: the same name on two referrals of a file says more than a name written
    on many; the explanation says so. A common name loses nothing (it still reaches a person)."""
    common = [rec(f"K{i}", "Kovalenko", "Olena", date(1960 + i, 5, 1), municipality="Lovere") for i in range(40)]
    existing = [*common, rec("E", "Hnatiuk", "Taras", None, municipality="Zogno")]
    rare, usual = find_duplicates(
        [
            rec("N", "Hnatiuk", "Taras", date(1990, 2, 3), municipality="Zogno"),
            rec("M", "Kovalenko", "Olena", date(1960, 5, 1), municipality="Lovere", phone="+393331234567"),
        ],
        existing,
    )
    assert "nome raro" in rare.why, rare
    assert "nome raro" not in usual.why and usual.match_key == "K0", usual


def test_a_rare_name_on_the_same_placeholder_date_in_one_small_comune_merges_a_common_one_asks() -> None:
    """1 January (a first permit's placeholder) on both referrals, the same comune, nothing else:
    a name rare in the file is one person; Mamadou Diallo, written on many referrals, may be two
    namesakes of one reception centre (a person decides); a city says too little."""
    jan1 = date(1996, 1, 1)
    rng = random.Random(5)
    filler = [
        rec(
            f"F{i}",
            "".join(rng.choice("bdgklmnrst") + rng.choice("aeiou") for _ in range(4)),
            "Ali",
            None,
            municipality="Bergamo",
        )
        for i in range(20)
    ]
    diallo = [rec(f"D{i}", "Diallo", "Mamadou", date(1995, 1, 1), municipality=f"{town}") for i, town in
              enumerate(["Zogno", "Zogno (BG)", "Lovere", "Clusone", "Treviglio", "Dalmine"])]  # fmt: skip
    batch = [
        *filler,
        *diallo,
        rec("S1", "Sow", "Ousmane", jan1, municipality="Zogno"),
        rec("S2", "SOW", "OUSMANE", jan1, phone="+393331112223", municipality="ZOGNO"),
        rec("B1", "Ba", "Aissatou", jan1, municipality="Bergamo"),
        rec("B2", "Ba", "Aissatou", jan1, municipality="Bergamo"),
    ]
    by_key = {d.new_key: d for d in find_duplicates(batch, [])}
    sow = by_key["S2"]
    assert (sow.band, sow.match_key, sow.reason) == ("merge", "S1", "name+municipality"), sow
    assert "1° gennaio" in sow.why and "stesso comune di residenza" in sow.why and "nome raro" in sow.why
    assert by_key["D1"].band == "review"  # the same placeholder and comune, a common name
    assert by_key["B2"].band != "merge"  # a city: many people live there
