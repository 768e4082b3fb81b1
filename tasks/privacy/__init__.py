"""Data-subject rights and consent withdrawal (GDPR Art. 15-17; docs/ARCHITECTURE.md#privacy).

Everything here takes a case code, works in the caller's transaction and records what it did
in ``audit_log``; messages (and exceptions, which reach Prefect) name case codes and field
names, never a value. The identifiers themselves only ever leave the ``person`` table in two
places: the access export files (written under ``var/private/``, like the database) and the
outbox rows that were meant to carry them.

- :func:`.withdrawal.withdraw_consent`: the consent stops every pending share that depends on it - personal
  outbox rows are cancelled, batch emails (Confindustria sheet, CPIA request) are re-issued
  without the person, open CPIA courses are closed.
- :func:`.erasure.erase_person` (Art. 17): Person blanked, PersonKey kept with ``erased_at``, cases moved to
  ERASED (history, profiles and counts stay), the person's identifiers scrubbed from outbox
  rows and rejected import rows; the request is an audit row.
- :func:`.erasure.anonymise_closed_cases`: the same blanking for people whose cases all closed longer
  than the retention period ago, without touching case states (reports do not move).
- :func:`.export.access_export` (Art. 15): JSON plus a readable HTML page.
- :func:`.rectification.rectify_person` (Art. 16): validated corrections of identifiers.
"""
