"""Company answers stored without their event: announce them again (the maintenance sweep).

The portal stores an answer and then emits ``incontro.interest.recorded`` after the commit; the
interest stage's trigger waits for it. When the event is lost (Prefect unreachable, a missing
or wrong ``PREFECT_API_AUTH_STRING``: "EventsWorker failed"), the answer sits unprocessed and
no company hears back. The database is the truth, so the sweep looks there: an answer still
unprocessed after :data:`GRACE` gets one event again. One event is enough for all of them —
the interest stage processes every unprocessed answer — so a sweep sends at most one, and
sends it again at the next sweep while any answer is still waiting.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.clock import utcnow
from models.exchange import Interest
from tasks.runtime.event_names import INTEREST_RECORDED
from tasks.runtime.events import EventSpec, queue_event

#: Time the normal path has to process an answer (event → trigger → a worker runs the stage).
GRACE = timedelta(minutes=10)


def announce_waiting_answers(session: Session, *, grace: timedelta = GRACE) -> int:
    """Queue one ``incontro.interest.recorded`` event (sent after commit) when answers older than
    ``grace`` are still unprocessed; return how many are waiting (counts only, no codes)."""
    cutoff = utcnow() - grace
    waiting, newest = session.exec(
        select(func.count(col(Interest.id)), func.max(col(Interest.id))).where(
            col(Interest.processed).is_(False), col(Interest.answered_at) <= cutoff
        )
    ).one()
    if not waiting:
        return 0
    queue_event(
        session,
        EventSpec(
            name=INTEREST_RECORDED,
            resource_id=f"incontro.interest.catchup-{newest}",
            labels={"incontro.reason": "sweep"},
            payload={"waiting": int(waiting)},
        ),
    )
    return int(waiting)
