"""``make simulate`` / ``incontro simulate --weeks 13``: a quarter of operation on a simulated clock.

Each business day the clock (``models/clock.py``, moved with time-machine) is set to that day
and the stage flows run in process, on a temporary Prefect server, in the order their schedules
and triggers would start them (``deploy/specs.py``): partner files arrive and are imported, the
intake is scheduled, operators fill the intake form a few days after the appointment (some
candidates do not come), the CPIA reports courses of 8–12 weeks, Confindustria sends positions
every Wednesday and answers some shortlists, hires are recorded, the policy operator and the
monthly table decide, the maintenance sweep runs every evening. Forms are answered through the
task functions their answers feed (a paused flow run would wait for a person).

Prints per week the funnel, the cases without a next step (must stay 0), overdue steps per CPI
and the median / p90 business days per stage, then the monthly reports; writes the same to
``<var>/simulate/report.md``. Prefect only sees codes and counts, as in production.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time as wall
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

from demo.simulate_actors import ACTOR, Actors, Rates
from demo.simulate_table import WeekRow, funnel_markdown, times_markdown, week_row
from models import clock
from tasks.core.calendar import is_business_day

T = TypeVar("T")
SEED = 2026
#: A quarter that has already happened on the machine's calendar: Monday 7 September 2026.
DEFAULT_START = date(2026, 9, 7)


#: The temporary server's recorders, batched. Each task run's state changes arrive as events that
#: the server writes to its SQLite database, by default one write per task-run event and one per
#: 20 other events: thousands of small write transactions a quarter, each of which may hold the
#: lock just when the next flow run is created; the server then answers "database is locked"
#: (503) and the client waits 2 seconds before trying again (29 times in 5 simulated weeks,
#: measured). Written in batches every 15 seconds, the server keeps the same records in a few
#: writes (nothing in the simulation reads them back).
SERVER_BATCHES = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "1000",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "15",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "1000",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "15",
}


def _say(text: str = "") -> None:
    print(text, flush=True)


@dataclass
class Simulation:
    """What the quarter produced: the weekly rows and the monthly reports (counts only)."""

    rows: list[WeekRow] = field(default_factory=list)
    monthly: dict[str, list[str]] = field(default_factory=dict)  # month → highlights
    flow_runs: int = 0
    seconds: float = 0.0
    timings: dict[str, tuple[int, float]] = field(default_factory=dict)  # flow → (runs, seconds)
    failures: dict[str, int] = field(default_factory=dict)  # flow → failed runs

    def markdown(self) -> str:
        lines = [
            "# Simulazione di un trimestre",
            "",
            f"{len(self.rows)} settimane, {self.flow_runs} esecuzioni dei flussi, {self.seconds:.0f} s.",
            "",
            "## Settimane (pratiche entrate in ogni fase nella settimana)",
            "",
            *funnel_markdown(self.rows),
            "",
            "«senza passo»: pratiche aperte senza prossimo passo, responsabile o scadenza (deve restare 0); "
            "«scaduti per CPI»: prossimi passi oltre la scadenza al venerdì sera.",
            "",
            "## Giorni lavorativi per fase (mediana / 90° percentile delle permanenze concluse)",
            "",
            *times_markdown(self.rows),
            "",
            "## Rapporti mensili (var/reports/)",
        ]
        for month, highlights in self.monthly.items():
            lines += ["", f"### {month}", "", *(f"- {h}" for h in highlights)]
        lines += ["", "## Esecuzioni dei flussi", "", "| flusso | esecuzioni | secondi |", "|---|---|---|"]
        for name, (runs, secs) in sorted(self.timings.items(), key=lambda kv: -kv[1][1]):
            lines.append(f"| {name} | {runs} | {secs:.0f} |")
        if self.failures:
            lines += ["", "Esecuzioni fallite: " + ", ".join(f"{k} {v}" for k, v in sorted(self.failures.items()))]
        return "\n".join(lines) + "\n"


def _db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """One step in its own transaction, as ``db_step`` runs it in a flow (no Prefect task)."""
    from tasks.runtime.db import session_scope

    with session_scope() as session:
        return fn(session, *args, **kwargs)


@contextmanager
def _at(day: date, hour: int = 9) -> Iterator[None]:
    """The one clock on ``day`` at ``hour`` (Rome), ticking."""
    import time_machine

    with time_machine.travel(datetime.combine(day, time(hour), tzinfo=clock.ROME), tick=True):
        yield


class Quarter:
    """The day loop: which flows run on a given day, and the outside world's answers."""

    def __init__(self, actors: Actors, inbox: Path) -> None:
        self.actors = actors
        self.inbox = inbox
        self.flow_runs = 0
        self.timings: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.failures: dict[str, int] = {}
        self.arrivals: dict[date, list[Any]] = {}

    def run(self, flow: Callable[..., Any], **params: Any) -> Any:
        """One flow run in process; a failing stage is counted and the quarter goes on (its
        run is failed in Prefect and the coordinators are alerted, as in production)."""
        began = wall.monotonic()
        try:
            return flow(**params)
        except Exception as exc:
            name = str(getattr(flow, "name", flow))
            self.failures[name] = self.failures.get(name, 0) + 1
            _say(f"  esecuzione di {name} fallita il {clock.today():%d/%m}: {type(exc).__name__}")
            return {}
        finally:
            name = str(getattr(flow, "name", flow))
            self.flow_runs += 1
            self.timings[name] = self.timings.get(name, 0.0) + wall.monotonic() - began
            self.counts[name] = self.counts.get(name, 0) + 1

    def day(self, day: date) -> None:
        """One business day, in the order the schedules and triggers would start the stages."""
        from flows.dispatch import dispatch
        from flows.literacy import literacy
        from flows.maintenance import maintenance
        from flows.reports import reports

        if day.weekday() == 0:  # schedules: literacy 08:00 and dispatch 09:00 on Mondays
            self.run(literacy)
            self.run(dispatch)
        self.referrals(day)
        self.intake_forms(day)
        _db(self.actors.consents, day)  # the step moves on in the evening's sweep
        self.courses(day)
        if day.weekday() == 2:
            self.vacancies(day)
        if day.weekday() == 3:
            self.company_answers(day)
        if day.weekday() == 4:
            self.hires(day)
        self.policy(day)
        if day.weekday() == 1:
            self.registers(day)
        if day.weekday() == 1 and day.day <= 7:
            self.tavolo(day)
        if day.weekday() == 4:
            self.closures()
        self.run(maintenance)  # every 5 minutes in production: once a simulated evening here
        if day.weekday() == 4:
            self.run(reports)  # daily at 07:00 in production: the week's last here

    # ------------------------------------------------------------------------- stages

    def referrals(self, day: date) -> None:
        """Today's partner files, the dedup form when grey-band pairs wait, then the intake."""
        from demo.operator import dedup_answers
        from flows.intake import intake
        from flows.referral import referral
        from tasks.referral.review import pending_reviews, resolve_reviews

        files = self.arrivals.pop(day, [])
        for spec in files:
            self.run(referral, file_path=str(spec.path), referrer_code=spec.referrer)
        if not files:
            return
        reviews = _db(pending_reviews)
        if reviews:
            answers = _db(lambda s: dedup_answers(s, self.actors.dataset, reviews))
            _db(resolve_reviews, answers, actor=ACTOR)
        self.run(intake)  # trigger: incontro.referral.accepted

    def intake_forms(self, day: date) -> None:
        """Each office's operator records the interviews held a few business days ago."""
        from config.data import load_offices
        from flows.literacy import literacy
        from tasks.intake import record_intake, validate_intake
        from tasks.runtime.db import session_scope

        routed = 0
        for office in (o.code for o in load_offices()):
            with session_scope() as session:
                rows = self.actors.intake_rows(session, [office], day)
            if not rows:
                continue
            codes = [r["case_code"] for r in rows]
            problems = _db(validate_intake, codes, rows)
            if problems:
                raise RuntimeError(f"modulo di colloquio non valido per {office}: {problems[:3]}")
            outcome = _db(record_intake, rows, today=day)
            routed += len(outcome.literacy)
        if routed:
            self.run(literacy)  # trigger: incontro.case.literacy

    def courses(self, day: date) -> None:
        """The CPIA reports the courses that ended; the re-assessment follows (trigger)."""
        from flows.literacy import reassessment
        from tasks.literacy import course_problems, enrolled_cases, record_course_outcomes

        open_codes = _db(enrolled_cases)
        results = self.actors.course_results(open_codes, day)
        if not results:
            return
        problems = course_problems(open_codes, results)
        if problems:
            raise RuntimeError(f"esiti CPIA non validi: {problems[:3]}")
        _db(record_course_outcomes, results, today=day)
        self.run(reassessment)

    def vacancies(self, day: date) -> None:
        """Confindustria's weekly file; the matching and the operator's approval of the top 3."""
        from flows.vacancies import vacancies
        from tasks.vacancies import match_vacancies, proposed_approvals, send_shortlists, validate_approvals

        week = (day - self.actors.dataset.reference_date).days // 7 + 1
        path = self.actors.week_vacancies(week, day)
        result = self.run(vacancies, file_path=str(path), sender_code="CONFINDUSTRIA-BG")
        import_id = result.get("import_id")
        if import_id is None:
            return
        _db(match_vacancies, import_id, today=day)
        rows = _db(proposed_approvals, import_id, today=day)
        if _db(validate_approvals, import_id, rows):
            raise RuntimeError("approvazione delle graduatorie non valida")
        _db(send_shortlists, import_id, rows)

    def company_answers(self, day: date) -> None:
        """Companies answer some shortlists; candidates say whether their contact may go."""
        from flows.interest import interest

        path = _db(self.actors.company_answers, self.inbox / f"risposte-{day:%Y%m%d}.csv", day)
        if path is None:
            return
        self.run(interest, file_path=str(path))
        _db(self.actors.contact_consents)
        self.run(interest)

    def hires(self, day: date) -> None:
        """The CPI's outcome file of the interviews held (the outcomes flow runs with it)."""
        from flows.outcomes import outcomes

        path = _db(self.actors.hires, self.inbox / f"esiti-{day:%Y%m%d}.csv", day)
        if path is not None:
            self.run(outcomes, file_path=str(path), sender_code="PROV-LAVORO")

    def policy(self, day: date) -> None:
        """The policy stage's daily run, the operator taking the first proposal the same day."""
        from tasks.policy.register import pending_decisions, propose_measures, record_decisions, validate_decisions
        from tasks.policy.routing import route_to_policy

        _db(route_to_policy, as_of=day)
        _db(propose_measures, as_of=day)
        rows = _db(pending_decisions)
        if not rows:
            return
        if _db(validate_decisions, rows):
            raise RuntimeError("scelte delle politiche attive non valide")
        _db(record_decisions, rows, as_of=day)

    def registers(self, day: date) -> None:
        """Tuesday: each accredited operator sends its register of the week (starts, hours,
        completions, drops, internships, hires); the policy-progress stage records each file."""
        from flows.policy import policy_progress

        folder = self.inbox / "registri"
        folder.mkdir(parents=True, exist_ok=True)
        for sender, path in sorted(_db(self.actors.progress_registers, folder, day).items()):
            self.run(policy_progress, file_path=str(path), sender_code=sender)

    def closures(self) -> None:
        """Friday: the offices close cases with a typed reason (the close-cases form's step)."""
        from tasks.mail.closure_notice import close_and_tell
        from tasks.runtime.db import session_scope

        with session_scope() as session:
            rows = self.actors.closures(session, clock.today())
        if rows:
            _db(close_and_tell, rows, actor=ACTOR)

    def tavolo(self, day: date) -> None:
        """The monthly table (first Tuesday): a measure to who has one; for a case in active
        policy with none, its profile back to the companies (with the consent) or the closure;
        the Italian courses without progress are discussed again next month."""
        from models.forms import TavoloDecisionKind
        from tasks.policy.tavolo import open_meeting, record_tavolo_decisions, tavolo_initial, validate_tavolo

        _db(open_meeting, held_on=day)
        rows = _db(tavolo_initial, held_on=day)
        shareable = _db(_shareable_policy_cases, [r["case_code"] for r in rows if not r["measure"]])
        for row in rows:
            if row["measure"]:
                row["decision"] = TavoloDecisionKind.ASSIGN.value
            elif row["case_code"] in shareable:
                row["decision"] = shareable[row["case_code"]].value
        if not rows:
            return
        problems = _db(validate_tavolo, rows, held_on=day)
        if problems:  # what the table cannot decide today it discusses next month
            rows = [{**r, "decision": TavoloDecisionKind.DEFER.value, "measure": ""} for r in rows]
        _db(record_tavolo_decisions, rows, held_on=day)


def _shareable_policy_cases(session: Any, codes: list[str]) -> dict[str, Any]:
    """The table's decision for POLICY cases without a measure: back to the companies when the
    person consents to sharing the profile, otherwise closed."""
    from sqlmodel import col, select

    from models.cases import Case
    from models.enums import ConsentPurpose, State
    from models.forms import TavoloDecisionKind
    from tasks.core.consent import consenting_persons

    cases = session.exec(select(Case).where(col(Case.code).in_(codes), Case.state == State.POLICY)).all()
    yes = consenting_persons(session, (c.person_key for c in cases), ConsentPurpose.PROFILE_TO_CONFINDUSTRIA)
    return {c.code: TavoloDecisionKind.BACK_TO_POOL if c.person_key in yes else TavoloDecisionKind.CLOSE for c in cases}


@contextmanager
def _in_process_runs() -> Iterator[None]:
    """Flow runs as the simulation makes them, in this process one after the other: without
    the liveness heartbeat (a thread per run that Prefect joins at the run's end, up to a
    second each, ~360 times a quarter: the crash detection it feeds watches workers, and
    there is none here), and without their INFO lines, which would drown the table."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    logger = logging.getLogger("prefect")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield
    finally:
        logger.setLevel(level)


def simulate(weeks: int, *, start: date = DEFAULT_START, seed: int = SEED, rates: Rates | None = None) -> Simulation:
    """Run ``weeks`` weeks from ``start`` (a Monday) against the configured database and Prefect
    API; returns the weekly rows and the monthly reports' highlights."""
    with _in_process_runs():
        return _simulate(weeks, start=start, seed=seed, rates=rates or Rates())


def _simulate(weeks: int, *, start: date, seed: int, rates: Rates) -> Simulation:
    from demo.synthetic.dataset import build_demo_dataset
    from flows.reports import monthly_report
    from tasks.core.partners import sync_organisations
    from tasks.reports.kpis import Period
    from tasks.reports.monthly import MonthlyReport
    from tasks.reports.tables import collect_kpis
    from tasks.runtime.db import migrate, session_scope

    if start.weekday() != 0:
        raise ValueError("la simulazione parte di lunedì")
    began = wall.monotonic()
    from config.settings import get_settings

    base = get_settings().var_dir
    inbox = base / "inbox"
    result = Simulation()
    with _at(start, 7):
        migrate()
        _db(sync_organisations)
        n_people = int(weeks * rates.referrals * 1.2) + 20  # the weekly draws stay well below (σ 15%)
        dataset = build_demo_dataset(base / "seed", seed=seed, n_people=n_people)
    dataset.reference_date = start
    actors = Actors(dataset=dataset, inbox=inbox, rates=rates, rng=random.Random(seed))
    quarter = Quarter(actors, inbox)
    for week in range(1, weeks + 1):
        monday = start + timedelta(weeks=week - 1)
        for arrival, spec in actors.week_referrals(week, monday):
            while not is_business_day(arrival):  # a file sent on a holiday is read the next working day
                arrival += timedelta(days=1)
            quarter.arrivals.setdefault(arrival, []).append(spec)
        for offset in range(5):
            day = monday + timedelta(days=offset)
            if is_business_day(day):
                with _at(day):
                    quarter.day(day)
        with _at(monday + timedelta(days=4), 19), session_scope() as session:
            row = week_row(session, week, monday)
        result.rows.append(row)
        _say(_row_line(row))
    last = start + timedelta(weeks=weeks) - timedelta(days=3)
    # the reports of the months that ended within the quarter (the 1st's 07:00 runs)
    ended = last.replace(day=1) - timedelta(days=1)
    months = sorted({f"{start + timedelta(days=d):%Y-%m}" for d in range((ended - start).days + 1)}) or [
        f"{last:%Y-%m}"
    ]
    with _at(last, 20):
        for month in months:
            quarter.run(monthly_report, month=month)
            with session_scope() as session:  # the figures the report's email opens with
                period = Period.month(month)
                result.monthly[month] = MonthlyReport(period, collect_kpis(session, period)).highlights()
    result.flow_runs = quarter.flow_runs
    result.timings = {k: (quarter.counts[k], v) for k, v in quarter.timings.items()}
    result.failures = dict(quarter.failures)
    result.seconds = wall.monotonic() - began
    return result


def _row_line(row: WeekRow) -> str:
    entered = " · ".join(f"{k} {v}" for k, v in row.entered.items())
    late = sum(row.overdue.values())
    head = f"settimana {row.week:>2} ({row.monday:%d/%m}): segnalate {row.referred}"
    return f"{head} · {entered} · senza passo {row.stuck} · scaduti {late}"


def main(argv: Sequence[str] | None = None) -> int:
    """Fresh var/simulate/ database, a local SMTP sink and a temporary Prefect server."""
    parser = argparse.ArgumentParser(prog="simulate", description="Un trimestre di Incontro su un orologio simulato")
    parser.add_argument("--weeks", type=int, default=13, help="settimane da simulare (13 = un trimestre)")
    parser.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START, help="lunedì di partenza")
    parser.add_argument("--referrals", type=int, default=Rates.referrals, help="segnalazioni a settimana")
    args = parser.parse_args(argv)
    return run_cli(args.weeks, start=args.start, referrals=args.referrals)


def run_cli(weeks: int, *, start: date = DEFAULT_START, referrals: int = Rates.referrals) -> int:
    """What ``make simulate`` and ``incontro simulate`` do: a clean var/simulate/, then the table."""
    import shutil

    from config.settings import PROJECT_ROOT, get_settings
    from tasks.mail.smtp_sink import MailSink
    from tasks.runtime.db import get_engine

    var = PROJECT_ROOT / "var" / "simulate"
    if var.exists():
        shutil.rmtree(var)
    var.mkdir(parents=True)
    os.environ["INCONTRO_VAR_DIR"] = str(var)
    os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    for key, value in SERVER_BATCHES.items():
        os.environ.setdefault(key, value)
    with MailSink(var / "mail") as sink:
        os.environ["INCONTRO_SMTP_PORT"] = str(sink.port)
        get_settings.cache_clear()
        get_engine.cache_clear()
        from prefect.testing.utilities import prefect_test_harness

        _say(f"Simulazione di {weeks} settimane dal {start:%d/%m/%Y} (server Prefect temporaneo)…")
        with prefect_test_harness(server_startup_timeout=120):
            result = simulate(weeks, start=start, rates=Rates(referrals=referrals))
    report = var / "report.md"
    text = result.markdown()
    report.write_text(text, encoding="utf-8")
    _say()
    _say(text)
    _say(f"Scritto {report.relative_to(PROJECT_ROOT)} · tempo totale {result.seconds:.0f} s")
    return 0 if all(r.stuck == 0 for r in result.rows) and not result.failures else 1


if __name__ == "__main__":
    sys.exit(main())
