"""The occupation codes of vacancies that a person confirms: the queue of unsure codes and the
confirmation (``incontro occupation-queue``, ``incontro confirm-occupation``; issue 21).

A vacancy's job title is coded when its file is read (tasks/vacancies.py): the best code is stored
with the coder's confidence (``Vacancy.occupation_score``). Below ``CONFIRM_BELOW`` the code is
only the coder's best guess. The vacancy is still matched on it, and the shortlist email says
the occupation is still to be confirmed: the operator approves every shortlist before anything
is sent, so a ranking on an unsure code is seen by a person first, and a position is never held
back because nobody has looked at its title yet.

A person confirms the code or replaces it with one of the taxonomy (config/occupations.yaml).
The vacancy then holds the person's code with confidence 100 (as ``company_confidence`` for
a company assigned by hand), so it leaves the queue and counts as sure everywhere (training
offers copy it). An audit row says who changed what. When the code changes on an open position
whose shortlist is not decided yet, its undecided matches are dropped and the matching of its
file starts again (the same event as an import), so the position is ranked on the right code.
A shortlist already decided stays as it was sent.

Everything here speaks of vacancy codes, occupation codes and the company's job title: no
person's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, or_, select

from config.data import load_taxonomy
from models import clock
from models.enums import VacancyStatus
from models.exchange import Match, Vacancy
from tasks.core.audit import audit_read
from tasks.matching.occupations import CONFIRM_BELOW, default_coder
from tasks.matching.scoring import SCORING_VERSION
from tasks.runtime.event_names import VACANCY_RECEIVED
from tasks.runtime.events import EventSpec, queue_event

__all__ = [
    "CONFIRMED",
    "Candidate",
    "ConfirmRefused",
    "Confirmation",
    "UnsureVacancy",
    "confirm_occupation",
    "is_unsure",
    "occupation_name",
    "unsure_occupations",
]

#: The confidence of a code a person gave or confirmed.
CONFIRMED = 100.0
#: The audit action of a confirmation.
ACTION = "confirm_occupation"


def is_unsure(vacancy: Vacancy) -> bool:
    """The vacancy has no code, or one the coder was unsure of and nobody confirmed.

    A code without a confidence (stored before confidences were) counts as sure, as for training
    offers (tasks/policy/training.py)."""
    if vacancy.occupation_code is None:
        return True
    return vacancy.occupation_score is not None and vacancy.occupation_score < CONFIRM_BELOW


@dataclass(frozen=True)
class Candidate:
    """One code the coder proposes for a title, with its Italian label and score (0-100)."""

    code: str
    label: str
    score: float


@dataclass(frozen=True)
class UnsureVacancy:
    """An open position whose occupation code waits for a person: the title as the company wrote
    it, the code it is matched on now, how sure the coder is, why not, and its three proposals."""

    code: str
    import_id: int | None
    company_code: str | None
    valid_until: date | None
    title: str
    occupation_code: str | None
    occupation_label: str
    confidence: float | None
    doubt: str
    candidates: tuple[Candidate, ...]


def occupation_name(code: str | None) -> str:
    """The Italian name of an occupation code, or a dash."""
    if code is None:
        return "—"
    found = load_taxonomy().by_code.get(code)
    return found.it if found is not None else f"codice non più nell'elenco ({code})"


def unsure_occupations(session: Session, *, limit: int | None = None, today: date | None = None) -> list[UnsureVacancy]:
    """Open positions within their deadline whose code is unsure, oldest first, each with the
    coder's proposals for its title today (config/occupations.yaml as it is now)."""
    day = today or clock.today()
    query = (
        select(Vacancy)
        .where(
            Vacancy.status == VacancyStatus.OPEN,
            or_(col(Vacancy.valid_until).is_(None), col(Vacancy.valid_until) >= day),
            or_(col(Vacancy.occupation_code).is_(None), col(Vacancy.occupation_score) < CONFIRM_BELOW),
        )
        .order_by(col(Vacancy.id))
    )
    rows = session.exec(query.limit(limit) if limit else query).all()
    codings = default_coder().suggest_many([v.title for v in rows])
    return [
        UnsureVacancy(
            code=v.code,
            import_id=v.import_file_id,
            company_code=v.company_code,
            valid_until=v.valid_until,
            title=v.title,
            occupation_code=v.occupation_code,
            occupation_label=occupation_name(v.occupation_code),
            confidence=v.occupation_score,
            doubt=coding.doubt or ("nessuna proposta per questo titolo" if not coding.candidates else ""),
            candidates=tuple(Candidate(c, occupation_name(c), score) for c, score in coding.candidates),
        )
        for v, coding in zip(rows, codings, strict=True)
    ]


class ConfirmRefused(ValueError):
    """A confirmation that cannot be made; the message says why, in Italian, with codes only."""


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation did: the code before, whether it changed, and whether the matching
    of the position's file starts again (``rematch``) or its shortlist was already decided."""

    vacancy: Vacancy
    before: str | None
    changed: bool
    rematch: bool
    decided: bool


def confirm_occupation(
    session: Session, vacancy_code: str, occupation_code: str, *, actor: str, today: date | None = None
) -> Confirmation:
    """Give a position the occupation code a person chose (the same one, or another of the
    taxonomy): it counts as sure from now on and an audit row says who. A changed code on an open
    position whose shortlist is not decided drops its undecided matches and queues the matching
    of its file again (sent on commit). Inside the caller's transaction."""
    vacancy = session.exec(select(Vacancy).where(Vacancy.code == vacancy_code)).first()
    if vacancy is None:
        raise ConfirmRefused(f"posizione {vacancy_code[:40]} inesistente")
    day = today or clock.today()
    if vacancy.status == VacancyStatus.CLOSED or (vacancy.valid_until is not None and vacancy.valid_until < day):
        raise ConfirmRefused(
            f"la posizione {vacancy.code} è chiusa (scadenza passata o chiusa dal file): non sarà più abbinata"
        )
    code = occupation_code.strip()
    if code not in load_taxonomy().by_code:
        proposals = "; ".join(f"{c} {occupation_name(c)}" for c, _ in default_coder().suggest(vacancy.title).candidates)
        hint = f" Proposte per questa posizione: {proposals}." if proposals else ""
        raise ConfirmRefused(
            f"codice {code[:12] or '(vuoto)'} sconosciuto: non è un codice ISCO-08 dell'elenco delle professioni "
            f'(config/occupations.yaml).{hint} Per cercarne altri: incontro occupations "mansione"'
        )
    before = vacancy.occupation_code
    changed = code != before
    vacancy.occupation_code, vacancy.occupation_score = code, CONFIRMED
    session.add(vacancy)
    audit_read(
        session,
        actor=actor,
        case_code=None,
        action=ACTION,
        purpose=f"{vacancy.code}: {before or '—'} → {code}" + ("" if changed else " (confermato)"),
    )
    decided = _decided(session, vacancy)
    matchable = vacancy.status == VacancyStatus.OPEN and vacancy.company_code is not None
    rematch = changed and matchable and not decided and vacancy.import_file_id is not None
    if rematch:
        assert vacancy.id is not None
        for match in session.exec(
            select(Match).where(Match.vacancy_id == vacancy.id, Match.version == SCORING_VERSION)
        ).all():
            session.delete(match)  # none is decided: the ranking on the old code goes
        queue_event(  # the same event as an import: the matching stage scores what has no ranking
            session,
            EventSpec(
                name=VACANCY_RECEIVED,
                resource_id=f"incontro.import.{vacancy.import_file_id}.occupation-{vacancy.code}",
                payload={"vacancies": 1, "import_id": vacancy.import_file_id},
            ),
        )
    return Confirmation(vacancy, before, changed, rematch, decided)


def _decided(session: Session, vacancy: Vacancy) -> bool:
    """The operator has approved or refused part of the position's ranking (its shortlist went out)."""
    return (
        session.exec(
            select(Match.id).where(
                Match.vacancy_id == vacancy.id,
                Match.version == SCORING_VERSION,
                col(Match.approved).is_not(None),
            )
        ).first()
        is not None
    )
