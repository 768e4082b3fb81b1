"""Active labour policies and funded training (issue 11).

Three layers, so the rules stay testable without a database or Prefect:

* **rules** (pure): :func:`~tasks.policy.rules.load_policies` reads ``config/policies.yaml``;
  the eligibility functions of :mod:`tasks.policy.measures` take ``CaseFacts`` and a day and
  return a ``Verdict`` whose checks carry an Italian reason for every yes and every no (age on
  the exact birthday, NEET, region, permit validity, DUL success at exactly 180 days, hire
  within the outcome window); ``training_gaps`` and ``courses_for_gap``
  (:mod:`tasks.policy.training`) turn the match parts of :mod:`tasks.matching.scoring` into the
  skills/Italian a person lacks and the courses that cover it.
* **steps** (``fn(session, ...)``, wrapped by ``db_step`` in ``flows/policy.py``): ingest
  training offers (:mod:`~tasks.policy.training`), propose measures, record the operator's
  choice and notify the provider (:mod:`~tasks.policy.register`), record the provider's register
  (enrolment → hire, :mod:`~tasks.policy.progress`), build and record the monthly table
  (:mod:`~tasks.policy.tavolo`).
* **agenda** rendering: ``agenda_markdown`` (:mod:`tasks.policy.tavolo`) is the artifact the
  table reads.

Reasons may mention ages or permit dates: they stay in the application database
(``policy_measure.reasons``). Prefect and emails get case codes, measure codes and counts only.
"""
