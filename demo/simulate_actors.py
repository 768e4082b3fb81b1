"""The people around Incontro during the simulated quarter: partners sending referral files,
CPI operators filling the intake form a few days after the appointment, CPIA courses of 8–12
weeks, Confindustria sending positions and answering some shortlists, the CPI recording hires,
the policy operator and the monthly table deciding.

They act as outsiders would: files written by the synthetic generators of ``demo/synthetic``,
form answers computed from the hidden truth of each synthetic person (``demo/operator.py``),
then fed to the same task functions the form flows feed (``record_intake``,
``record_course_outcomes``, ``send_shortlists``, ``record_decisions``...).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from demo.operator import write_register
from demo.synthetic.common import name_key
from demo.synthetic.dataset import DemoDataset, load_organisations
from demo.synthetic.partners import ReferralFileSpec, generate_referral_files
from demo.synthetic.vacancies import write_vacancy_file
from models import clock
from models.cases import Case, CaseEvent
from models.enums import ConsentPurpose, State
from models.exchange import Interest, Match, Vacancy
from tasks.core.calendar import add_business_days

#: Partner kinds that refer people (flows/_params.py: Referrers).
REFERRER_KINDS = ("caritas", "ambito", "association", "cpia")
#: Who answers a form, as recorded in the case history.
ACTOR = "simulazione"


@dataclass(frozen=True)
class Rates:
    """The pilot's rates (per week unless said otherwise)."""

    referrals: int = 36  # a few dozen referrals a week across the 10 CPI offices
    partners_per_week: int = 6  # partners sending a file in a given week
    vacancies: int = 5  # positions in Confindustria's weekly file
    no_show: float = 0.12  # candidates missing the intake appointment
    form_delay_days: tuple[int, int] = (0, 4)  # business days from appointment to the form
    course_weeks: tuple[int, int] = (8, 12)  # a CPIA course
    course_passed: float = 0.65
    course_dropped: float = 0.15  # the rest fail
    company_answers: float = 0.5  # share of shortlisted profiles a company answers
    answer_delay_days: int = 5  # business days before a company answers a shortlist
    contact_consent: float = 0.85
    consent: float = 0.75  # people who give a missing consent when the CPI asks
    closed_weekly: float = 0.01  # open cases closed in a week (moved away, found work alone...)
    hired: float = 0.5  # share of interviews ending in a hire
    interview_days: int = 7  # business days from "colloquio" to the outcome
    # the accredited operators' registers (tasks/policy/progress.py), sent weekly
    measure_start_days: tuple[int, int] = (3, 12)  # business days from the choice to the start
    measure_no_start: float = 0.08  # chosen, never started: "ritirato" before the start
    measure_dropped: float = 0.15  # started, then left midway
    measure_hired_early: float = 0.1  # hired while the measure runs
    hired_after: float = 0.35  # after completing it: hired within two months
    internship_after: float = 0.2  # ... or an internship first
    internship_hired: float = 0.6
    attendance_hours_week: int = 6  # hours a week of orientation, coaching or training


@dataclass
class Actors:
    """The scripted outside world, with its own memory (what each actor knows, not the app's)."""

    dataset: DemoDataset
    inbox: Path
    rates: Rates
    rng: random.Random
    referrers: list[str] = field(default_factory=list)
    next_person: int = 0
    form_delay: dict[str, int] = field(default_factory=dict)  # case code → business days late
    course_end: dict[str, date] = field(default_factory=dict)  # case code → when the CPIA reports
    consent_answer: dict[str, tuple[date, bool]] = field(default_factory=dict)  # case code → (day, yes)
    answered_interests: int = 0  # interest rows whose consent question was asked
    #: (measure id, its status) → what its operator will write next and when (None: nothing)
    measure_plan: dict[tuple[int, str], tuple[date, str] | None] = field(default_factory=dict)
    companies: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        orgs = load_organisations()
        if not self.referrers:
            self.referrers = [str(o["code"]) for o in orgs if o.get("kind") in REFERRER_KINDS]
        if not self.companies:
            self.companies = [str(o["code"]) for o in orgs if o.get("kind") == "company"]

    # ------------------------------------------------------------------------- arrivals

    def week_referrals(self, week: int, monday: date) -> list[tuple[date, ReferralFileSpec]]:
        """This week's partner files (some partners, a few rows each) and the day each arrives."""
        n = max(1, round(self.rng.gauss(self.rates.referrals, self.rates.referrals * 0.15)))
        people = self.dataset.people[self.next_person : self.next_person + n]
        self.next_person += len(people)
        if not people:
            return []
        senders = self.rng.sample(self.referrers, k=min(self.rates.partners_per_week, len(self.referrers)))
        specs = generate_referral_files(
            people,
            senders,
            self.inbox / f"settimana-{week:02d}",
            seed=self.dataset.seed * 100 + week,
            duplicates=max(1, n // 25),
            reference_date=monday,
        )
        for spec in specs:  # the operator knows the people behind every spelling a partner used
            for row in spec.rows:
                bucket = self.dataset._name_index.setdefault(
                    name_key(row.written_family_name, row.written_given_names), []
                )
                if row.person_key not in bucket:
                    bucket.append(row.person_key)
        return [(monday + timedelta(days=self.rng.randrange(5)), spec) for spec in specs]

    def week_vacancies(self, week: int, day: date) -> Path:
        """Confindustria's weekly file: a few positions, each open for 3 to 9 weeks."""
        picks = self.rng.sample(self.dataset.vacancies, k=min(self.rates.vacancies, len(self.dataset.vacancies)))
        fresh = [replace(v, deadline=day + timedelta(days=self.rng.randint(21, 63))) for v in picks]
        return write_vacancy_file(fresh, self.inbox / f"posizioni-settimana-{week:02d}.xlsx")

    # ------------------------------------------------------------------------- CPI operators

    def intake_rows(self, session: Session, office_codes: list[str], today: date) -> list[dict[str, Any]]:
        """The office's form: one row per appointment held at least a few business days ago."""
        from demo.operator import intake_answers

        due = []
        for code, appointment in _appointments(session, office_codes):
            delay = self.form_delay.setdefault(code, self.rng.randint(*self.rates.form_delay_days))
            if add_business_days(appointment, delay) <= today:
                due.append(code)
        rows = intake_answers(session, self.dataset, due, self.rng)
        return [
            {"case_code": row["case_code"], "present": False, "occupations": []}
            if row.get("present") and self.rng.random() < self.rates.no_show
            else row
            for row in rows
        ]

    def consents(self, session: Session, today: date) -> int:
        """People the CPI asks for a missing consent answer a few days later; most say yes."""
        from tasks.core.consent import grant_consent

        purposes = {
            "ask_consent_confindustria": ConsentPurpose.PROFILE_TO_CONFINDUSTRIA,
            "ask_consent_cpia": ConsentPurpose.CPIA_ENROLMENT,
        }
        rows = session.exec(select(Case).where(col(Case.next_step).in_(sorted(purposes)))).all()
        given = 0
        for case in rows:
            answer = self.consent_answer.setdefault(
                case.code, (add_business_days(today, self.rng.randint(2, 8)), self.rng.random() < self.rates.consent)
            )
            if answer[0] <= today and answer[1]:
                grant_consent(session, case.person_key, purposes[case.next_step or ""], source="operator:simulazione")
                given += 1
        return given

    def closures(self, session: Session, today: date) -> list[dict[str, str]]:
        """What the offices close this week: the closure proposals after repeated no-shows, the
        people who said no to a consent the path needs, and the few who moved away, found work
        alone or are no longer interested."""
        from models.enums import CloseReason
        from models.state_machine import OPEN

        out = [
            {"case_code": code, "reason": CloseReason.NO_SHOW_REPEATED.value}
            for code in session.exec(select(Case.code).where(Case.next_step == "propose_closure")).all()
        ]
        refused = [code for code, (day, yes) in self.consent_answer.items() if not yes and day <= today]
        asking = set(
            session.exec(
                select(Case.code).where(col(Case.code).in_(refused), col(Case.next_step).like("ask_consent%"))
            ).all()
        )
        out += [{"case_code": code, "reason": CloseReason.NOT_INTERESTED.value} for code in sorted(asking)]
        movable = sorted(OPEN - {State.REFERRED})
        for code in session.exec(select(Case.code).where(col(Case.state).in_(movable)).order_by(col(Case.code))).all():
            if self.rng.random() < self.rates.closed_weekly:
                reason = self.rng.choice(
                    [CloseReason.MOVED_AWAY, CloseReason.FOUND_JOB_ALONE, CloseReason.NOT_INTERESTED]
                )
                out.append({"case_code": code, "reason": reason.value})
        return out

    # ------------------------------------------------------------------------- CPIA

    def course_results(self, open_codes: list[str], today: date) -> list[dict[str, Any]]:
        """Courses that reached their end (8–12 weeks after the CPIA first listed them)."""
        lo, hi = self.rates.course_weeks
        out = []
        for code in open_codes:
            end = self.course_end.setdefault(code, today + timedelta(weeks=self.rng.randint(lo, hi)))
            if end > today:
                continue
            draw = self.rng.random()
            if draw < self.rates.course_passed:
                out.append(_course(code, "passed", "A2"))
            elif draw < self.rates.course_passed + self.rates.course_dropped:
                out.append({"case_code": code, "outcome": "dropped"})
            else:
                out.append(_course(code, "failed", "A1"))
            del self.course_end[code]
        return out

    # ------------------------------------------------------------------------- companies

    def company_answers(self, session: Session, path: Path, today: date) -> Path | None:
        """Confindustria's answer file: some of the profiles shortlisted at least a week ago."""
        since = add_business_days(today, -self.rates.answer_delay_days)
        rows = session.exec(
            select(Match, Vacancy, Case)
            .join(Vacancy, col(Vacancy.id) == col(Match.vacancy_id))
            .join(Case, col(Case.id) == col(Match.case_id))
            .where(Case.state == State.DISPATCHED, col(Match.rank) <= 3, col(Match.approved).is_(True))
            .order_by(col(Match.rank), col(Match.id))
        ).all()
        seen: set[str] = set()
        lines = []
        for match, vacancy, case in rows:
            if case.code in seen or vacancy.company_code is None or clock.in_rome(match.created_at).date() > since:
                continue
            seen.add(case.code)
            if self.rng.random() >= self.rates.company_answers:
                continue
            answer = self.rng.choice(["colloquio", "colloquio", "interessato", "non interessato"])
            lines.append([vacancy.company_code, case.code, answer, "", vacancy.code])
        lines += self._interest_follow_ups(session, since)
        if not lines:
            return None
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, delimiter=";")
            writer.writerow(["Azienda", "Codice profilo", "Esito", "Motivo", "Codice posizione"])
            writer.writerows(lines)
        return path

    def _interest_follow_ups(self, session: Session, since: date) -> list[list[str]]:
        """Companies that said "interessato" a week ago now call the person for an interview,
        or write that they are no longer interested."""
        rows = session.exec(
            select(Case, Interest)
            .join(Interest, col(Interest.case_id) == col(Case.id))
            .where(Case.state == State.INTEREST)
        ).all()
        entered = _entered(session, [c.id for c, _ in rows if c.id is not None], State.INTEREST)
        out, seen = [], set()
        for case, interest in rows:
            if case.code in seen or entered.get(case.id or 0, date.max) > since:
                continue
            seen.add(case.code)
            answer = "colloquio" if self.rng.random() < 0.7 else "non interessato"
            vacancy = session.get(Vacancy, interest.vacancy_id) if interest.vacancy_id else None
            out.append([interest.company_code, case.code, answer, "", vacancy.code if vacancy else ""])
        return out

    def contact_consents(self, session: Session) -> int:
        """Candidates asked by their CPI whether their contact may go to the interested company."""
        from tasks.core.consent import grant_consent

        rows = session.exec(select(Interest).where(col(Interest.id) > self.answered_interests)).all()
        n = 0
        for row in rows:
            self.answered_interests = max(self.answered_interests, row.id or 0)
            case = session.get(Case, row.case_id)
            if case is not None and self.rng.random() < self.rates.contact_consent:
                grant_consent(
                    session,
                    case.person_key,
                    ConsentPurpose.CONTACT_TO_COMPANY,
                    recipient=row.company_code,
                    source="operator:simulazione",
                )
                n += 1
        return n

    def hires(self, session: Session, path: Path, today: date) -> Path | None:
        """The CPI's outcome file: interviews held at least ``interview_days`` ago."""
        since = add_business_days(today, -self.rates.interview_days)
        rows = session.exec(
            select(Case, Interest)
            .join(Interest, col(Interest.case_id) == col(Case.id))
            .where(Case.state == State.INTERVIEW)
        ).all()
        entered = _entered(session, [c.id for c, _ in rows if c.id is not None], State.INTERVIEW)
        lines, seen = [], set()
        for case, interest in rows:
            if case.code in seen or entered.get(case.id or 0, today) > since:
                continue
            seen.add(case.code)
            if self.rng.random() < self.rates.hired:
                start = add_business_days(today, self.rng.randint(3, 10)).strftime("%d/%m/%Y")
                contract = self.rng.choice(["tempo determinato", "tempo indeterminato"])
                lines.append(
                    [case.code, "assunto", interest.company_code, contract, start, self.rng.choice([180, 365])]
                )
            else:
                lines.append([case.code, "non selezionato", interest.company_code, "", "", ""])
        if not lines:
            return None
        with path.open("w", encoding="cp1252", newline="") as fh:
            writer = csv.writer(fh, delimiter=";")
            writer.writerow(["Codice pratica", "Esito", "Azienda", "Tipo contratto", "Data inizio", "Durata giorni"])
            writer.writerows(lines)
        return path

    # ------------------------------------------------------------------------- policy operators

    def progress_registers(self, session: Session, folder: Path, today: date) -> dict[str, Path]:
        """Each accredited operator's weekly register (tasks/policy/progress.py): the measures it
        started, the hours attended, those completed, dropped, turned into an internship or a
        hire since last week, on the day each happened. Returns the files by sender."""
        from models.policy import OPEN_MEASURE, PolicyMeasure, TrainingOffer

        course_hours = {o.id: o.hours for o in session.exec(select(TrainingOffer)).all()}
        rows = session.exec(
            select(PolicyMeasure, Case.code)
            .join(Case, col(Case.id) == col(PolicyMeasure.case_id))
            .where(
                col(PolicyMeasure.status).in_(OPEN_MEASURE),
                Case.state == State.POLICY,
                col(PolicyMeasure.provider_code).is_not(None),
            )
            .order_by(col(PolicyMeasure.id))
        ).all()
        lines: dict[str, list[list[str]]] = {}
        for measure, code in rows:
            key = (measure.id or 0, measure.status.value)
            if key not in self.measure_plan:
                self.measure_plan[key] = self._next_register_event(measure)
            planned = self.measure_plan[key]
            line = None
            course = course_hours.get(measure.training_offer_id)
            if planned is not None and planned[0] <= today:
                line = self._register_line(measure, code, *planned, course_hours=course)
            elif measure.status.value == "started" and measure.started_on is not None:
                weeks = (today - measure.started_on).days // 7
                hours = weeks * self.rates.attendance_hours_week
                hours = min(hours, course) if course is not None else hours
                if hours > measure.hours_attended:  # attendance so far
                    line = [code, _written(measure.code), "frequenza", f"{today:%d/%m/%Y}", str(hours), "", "", ""]
            if line is not None:
                lines.setdefault(measure.provider_code or "", []).append(line)
        out = {}
        for sender, body in lines.items():
            path = folder / f"registro-{sender.lower()}-{today:%Y%m%d}.csv"
            write_register(path, body)
            out[sender] = path
        return out

    def _next_register_event(self, measure: Any) -> tuple[date, str] | None:
        """What happens next to a measure, drawn once per status: the start (or a no-show), then
        a drop, an early hire or the completion, then a hire or an internship, or nothing."""
        r, rng, rates = self.rng.random(), self.rng, self.rates
        status = measure.status.value
        if status == "chosen":
            decided = clock.in_rome(measure.decided_at).date() if measure.decided_at else clock.today()
            start = add_business_days(decided, rng.randint(*rates.measure_start_days))
            return start, "ritirato" if r < rates.measure_no_start else "avviato"
        if status == "started" and measure.started_on and measure.expected_end:
            span = max(1, (measure.expected_end - measure.started_on).days)
            midway = measure.started_on + timedelta(days=rng.randint(1, span))
            if r < rates.measure_dropped:
                return midway, "ritirato"
            if r < rates.measure_dropped + rates.measure_hired_early:
                return midway, "assunto"
            return measure.expected_end, "completato"
        if status == "completed" and measure.completed_on:
            if r < rates.hired_after:
                return measure.completed_on + timedelta(days=rng.randint(5, 60)), "assunto"
            if r < rates.hired_after + rates.internship_after:
                return measure.completed_on + timedelta(days=rng.randint(5, 25)), "tirocinio"
            return None  # no news: the operator's step runs out when a hire would no longer count
        if status == "internship" and measure.internship_on and r < rates.internship_hired:
            return measure.internship_on + timedelta(days=rng.randint(40, 90)), "assunto"
        return None

    def _register_line(self, measure: Any, code: str, day: date, event: str, *, course_hours: int | None) -> list[str]:
        hours = company = contract = length = ""
        if event == "completato" and course_hours is not None:  # a course: most of its hours attended
            hours = str(max(measure.hours_attended, round(course_hours * 0.9)))
        if event == "assunto":
            company = self.rng.choice(self.companies)
            contract = self.rng.choice(["tempo determinato", "tempo indeterminato"])
            length = str(self.rng.choice([180, 365])) if contract == "tempo determinato" else ""
        return [code, _written(measure.code), event, f"{day:%d/%m/%Y}", hours, company, contract, length]


def _written(code: str) -> str:
    """The measure as the operator writes it in its register (GOL, Garanzia Giovani, the code)."""
    from tasks.policy.register import register_code

    return register_code(code)


def _course(code: str, outcome: str, level: str) -> dict[str, Any]:
    skills = ("listening", "reading", "interaction", "production", "writing")
    return {"case_code": code, "outcome": outcome, **dict.fromkeys(skills, level)}


def _appointments(session: Session, office_codes: list[str]) -> list[tuple[str, date]]:
    """Scheduled intakes of these offices with their appointment day (Rome)."""
    rows = session.exec(
        select(Case.code, Case.intake_at).where(
            Case.state == State.INTAKE_SCHEDULED,
            col(Case.office_code).in_(office_codes),
            col(Case.intake_at).is_not(None),
        )
    ).all()
    return [(code, clock.in_rome(at).date()) for code, at in rows if at is not None]


def _entered(session: Session, case_ids: list[int], state: State) -> dict[int, date]:
    """When each case last entered ``state`` (Rome date)."""
    if not case_ids:
        return {}
    rows = session.exec(
        select(CaseEvent.case_id, CaseEvent.at).where(col(CaseEvent.case_id).in_(case_ids), CaseEvent.to_state == state)
    ).all()
    out: dict[int, date] = {}
    for case_id, at in rows:
        out[case_id] = max(out.get(case_id, date.min), clock.in_rome(at).date())
    return out
