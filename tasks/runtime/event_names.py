"""Names of the Prefect events that chain the stages: the code that emits an event and the
deployment trigger that waits for it (deploy/specs.py) use the same constant.

No imports: the deployment declarations, the CLI and the portal load this cheaply.
"""

from __future__ import annotations

#: A referral file (or a review) accepted cases: intake scheduling starts.
REFERRAL_ACCEPTED = "incontro.referral.accepted"
#: Grey-band duplicates wait for an operator: the review form starts.
DEDUP_PENDING = "incontro.dedup.pending"
#: A CPIA course ended: re-assessment starts.
LITERACY_COMPLETED = "incontro.literacy.completed"
#: Cases were routed to an Italian course (the transition event of each case, or the summary of
#: a bulk move): the CPIA enrolment requests start.
CASE_LITERACY = "incontro.case.literacy"
#: A vacancy file was imported: matching starts (payload: ``import_id``).
VACANCY_RECEIVED = "incontro.vacancy.received"
#: A company answered about a profile: the interest stage starts.
INTEREST_RECORDED = "incontro.interest.recorded"

#: Resource ids the triggers match: imports, courses, company answers.
IMPORT_RESOURCES = "incontro.import.*"
LITERACY_RESOURCES = "incontro.literacy.*"
INTEREST_RESOURCES = "incontro.interest.*"
#: One case (``incontro.case.<code>``) or a bulk summary (``incontro.cases.<batch>``).
CASE_RESOURCES = "incontro.case*"


def import_resource(import_id: int | str) -> str:
    """The resource an import's events are about (``incontro.import.<id>``)."""
    return f"incontro.import.{import_id}"
