"""Deduplication quality on a seeded, labelled population (issue 6).

The population comes from ``demo.synthetic.dedup_evalset.make_dedup_evalset`` (2,000+ people, 500 referred
twice, 300 look-alike hard negatives); half of the first referrals are already known, the
rest arrive with every second referral as one shuffled batch, as in ``deduplicate_import``.
"""

from __future__ import annotations

from collections import Counter
from functools import cache

from demo.synthetic.dedup_evalset import DedupEvalSet, DuplicatePair, make_dedup_evalset
from tasks.files.normalize import normalize_cf, normalize_phone
from tasks.matching.dedup import DedupDecision, DedupThresholds, PersonRecord, find_duplicates

PRECISION_FLOOR = 0.99
RECALL_FLOOR = 0.95
GREY_BAND = DedupThresholds().review  # 50 on the probability scale (issue 21)


def _thresholds() -> DedupThresholds:
    """The thresholds the application uses (config/routing.yaml)."""
    from config.data import load_routing

    rules = load_routing().dedup
    return DedupThresholds(merge=rules.merge_threshold, review=rules.review_threshold)


@cache
def _run() -> tuple[DedupEvalSet, dict[str, DedupDecision]]:
    ev = make_dedup_evalset(20260601, people=2_000, duplicates=500, negatives=300)
    decisions = find_duplicates(ev.new, ev.existing, _thresholds())
    return ev, {d.new_key: d for d in decisions}


def _later(ev: DedupEvalSet, a: str, b: str) -> str:
    """The record of a pair that arrives second, i.e. the one that gets the decision."""
    order = {r.key: i for i, r in enumerate(ev.new)}
    if a not in order:
        return b
    return b if order[b] > order[a] else a


def test_evalset_is_what_it_claims() -> None:
    ev, _ = _run()
    assert ev.people >= 2_000
    assert len(ev.pairs) >= 400
    assert sum(p.merge_expected for p in ev.pairs) >= 400
    kinds = Counter(k for p in ev.pairs for k in p.kinds)
    for kind in (
        "transliteration",
        "typo",
        "swapped",
        "missing_birth_date",
        "phone_format",
        "double_surname_hyphen",
        "dropped_second_surname",
    ):
        assert kinds[kind] >= (5 if kind == "dropped_second_surname" else 20), kinds
    assert Counter(k for *_, k in ev.hard_negatives) == {
        "twin": 75,
        "sibling_shared_phone": 75,
        "same_birth_date": 75,
        "namesake_distinct_cf": 75,
    }
    records = ev.existing + ev.new
    scripts = Counter("cyrillic" if any("\u0400" <= c <= "\u04ff" for c in r.family_name) else "latin" for r in records)
    assert scripts["cyrillic"] >= 100
    # Identifiers are real: every generated tax code and phone survives normalisation.
    assert all(normalize_cf(r.codice_fiscale) for r in records if r.codice_fiscale)
    assert all(normalize_phone(r.phone) for r in records if r.phone)
    # Same seed, same set: the figures below are reproducible.
    again = make_dedup_evalset(20260601, people=2_000, duplicates=500, negatives=300)
    assert [r.key for r in again.new] == [r.key for r in ev.new] and again.pairs == ev.pairs


def _placeholder_only(recs: dict[str, PersonRecord], pair: DuplicatePair) -> bool:
    """Both referrals born on the same 1 January and nothing else shared: since issue 21,
    namesakes born on 1 January (the registries' placeholder date) are hard negatives, so a
    name and that date alone send the pair to an operator instead of merging it."""
    a, b = recs[pair.first], recs[pair.second]
    if a.birth_date is None or a.birth_date != b.birth_date or (a.birth_date.month, a.birth_date.day) != (1, 1):
        return False
    shared = [
        (normalize_cf(a.codice_fiscale), normalize_cf(b.codice_fiscale)),
        (normalize_phone(a.phone or ""), normalize_phone(b.phone or "")),
        ((a.email or "").lower() or None, (b.email or "").lower() or None),
    ]
    return not any(x is not None and x == y for x, y in shared)


def _records(ev: DedupEvalSet) -> dict[str, PersonRecord]:
    return {r.key: r for r in (*ev.existing, *ev.new)}


def test_precision_and_recall_at_the_merge_threshold() -> None:
    """Precision over every merge; recall over the pairs a merge *should* catch.

    Precision: of all records the pipeline merges, the share merged into a record of the same
    person (twins, siblings sharing a phone, namesakes with distinct tax codes and strangers
    sharing a birth date are all in the population to be merged wrongly).

    Recall target set (``DuplicatePair.merge_expected``): pairs that carry merge-grade
    evidence — the same codice fiscale on both sides, a shared phone or e-mail, or both birth
    dates present with names that differ only in spelling (transliteration, typo, order,
    accents, case, hyphenation). Pairs where one side has no birth date and nothing else
    corroborates, or where a name part (a second surname) is missing on one side, are not in
    the set: by design they go to an operator (checked in the next test). A pair counts as
    caught when the later record of the pair is merged into the earlier one.
    """
    ev, by = _run()
    merges = [d for d in by.values() if d.band == "merge"]
    assert merges and all(d.match_key is not None for d in merges)
    wrong = [d for d in merges if ev.entity[d.new_key] != ev.entity[str(d.match_key)]]
    precision = 1 - len(wrong) / len(merges)

    recs = _records(ev)
    target = [p for p in ev.pairs if p.merge_expected and not _placeholder_only(recs, p)]
    missed = []
    for p in target:
        later = _later(ev, p.first, p.second)
        d = by[later]
        if not (d.band == "merge" and d.match_key == (p.first if later == p.second else p.second)):
            missed.append(p)
    recall = 1 - len(missed) / len(target)
    missed_kinds = Counter(k for p in missed for k in p.kinds)
    figures = (
        f"precision {precision:.4f} ({len(merges) - len(wrong)}/{len(merges)} merges right), "
        f"recall {recall:.4f} ({len(target) - len(missed)}/{len(target)} merge-grade pairs), "
        f"missed by kind {dict(missed_kinds)}"
    )
    assert precision >= PRECISION_FLOOR and recall >= RECALL_FLOOR, figures
    print(figures)


def test_hard_negatives_are_never_merged() -> None:
    ev, by = _run()
    entity_of = ev.entity
    merged_pairs = {frozenset((d.new_key, str(d.match_key))) for d in by.values() if d.band == "merge" and d.match_key}
    bad = [(a, b, kind) for a, b, kind in ev.hard_negatives if frozenset((a, b)) in merged_pairs]
    assert bad == [], bad
    assert all(entity_of[a] != entity_of[b] for a, b, _ in ev.hard_negatives)


def test_pairs_without_merge_grade_evidence_reach_an_operator() -> None:
    """A second referral with no birth date, no shared identifier, or a missing surname is
    not merged silently, and is not lost either: it goes to review (or merges when the name
    alone is unique enough to have met a shared identifier).

    Since issue 21 the score is the probability of one person, and a name alone rarely
    reaches 80 % among thousands of referrals: the grey band that sends these pairs to a person
    is ``GREY_BAND`` (50), the value proposed for ``config/routing.yaml``."""
    ev, _ = _run()
    by = {d.new_key: d for d in find_duplicates(ev.new, ev.existing, DedupThresholds(_thresholds().merge, GREY_BAND))}
    recs = _records(ev)
    others = [p for p in ev.pairs if not p.merge_expected or _placeholder_only(recs, p)]
    assert len(others) >= 50
    flagged = sum(by[_later(ev, p.first, p.second)].band in ("review", "merge") for p in others)
    rate = flagged / len(others)
    assert rate >= 0.9, f"review rate {rate:.3f} ({flagged}/{len(others)})"
    merged_without_birth_date = [
        p for p in others if by[_later(ev, p.first, p.second)].band == "merge" and "missing_birth_date" in p.kinds
    ]

    # Without a birth date a merge can only come from a shared identifier, or from the birth
    # date the other identifier, a tax code, holds (issue 21) – never from a name alone.
    def _date_from_code(p: DuplicatePair) -> bool:
        return any(recs[k].birth_date is None and normalize_cf(recs[k].codice_fiscale) for k in (p.first, p.second))

    assert all(
        by[_later(ev, p.first, p.second)].reason in ("codice_fiscale", "phone", "email")
        or (by[_later(ev, p.first, p.second)].reason == "name+birth_date" and _date_from_code(p))
        for p in merged_without_birth_date
    )
