"""Seeded synthetic data for the demo, the tests and the benchmarks; no real person anywhere.

- ``dataset``: :func:`build_demo_dataset`, the whole demo input set from config and one seed.
- ``people``, ``names``, ``jobs``: fictitious job seekers, their name pools and the job catalogue.
- ``partners``: referral files in the formats partners send; ``vacancies``: Confindustria's list.
- ``taxcodes``: the one codice fiscale generator (demo, evaluation sets, test corpus, benchmarks).
- ``dedup_evalset`` (with ``dedup_names``, ``transliteration``): labelled dedup evaluation sets.
- ``corpus``: the hand-written people and writers of the import test corpus (tests/data).
- ``common``: reference dates, seeded randomness, text folding, byte-stable CSV and XLSX writers.
"""
