"""Latency from "file imported" to "intake scheduled" through the event trigger (issue 3).

Starts a real local Prefect server and the served deployments (temporary var/), imports five
small referral files one after the other, and measures for each:
- trigger latency: referral run finished (cases accepted, event emitted) → every case of the file
  INTAKE_SCHEDULED by the triggered intake run;
- end to end: referral deployment submitted → cases scheduled.
Baseline in the same run: the same scheduling step called directly (no Prefect).
Then where the time goes, from the server's own timestamps (Prefect's states, the case events):
the trigger (referral run ended → intake run created by the server), the served runner's pick-up
(created → Pending), the flow-run process start (Pending → Running: a new Python process that
imports Prefect and the stage, bench/bench_startup.py) and the stage's work (Running → the last
case of the file scheduled). Last, how many run creations the server refused as busy (SQLite
locked, HTTP 503: the trigger's are asked again 2 s later by Prefect, the bench's own 50 ms later
by deploy/client.py), from its log. The stack runs without the scheduler (no cron run meanwhile).
Run: .venv/bin/python -m bench.bench_trigger [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from models import clock

HEADER = (
    "Cognome;Nome;Data di nascita;Sesso;Luogo di nascita;Cittadinanza;Codice fiscale;Cellulare;E-mail;"
    "Comune di residenza;Lingue parlate;Titolo di studio;Esperienze;Patente;Livello italiano;"
    "Consenso privacy;Consenso Confindustria"
)
GIVEN = ["Andrii", "Aminata", "José", "Fatima", "Mamadou", "Olena", "Youssef", "María", "Oksana", "Ibrahim"]
FAMILY = ["Melnyk", "Traoré", "Quispe", "Bennani", "Diallo", "Shevchenko", "El Amrani", "Gómez", "Bondar", "Sow"]


def _file(folder: Path, n: int) -> Path:
    rows = [
        f"{FAMILY[(n * 3 + i) % 10]}{chr(97 + n)}{chr(97 + i)};{GIVEN[(n + i) % 10]};"
        f"0{i + 1}/0{n + 1}/198{i};M;Mali;Mali;;;;"
        f"Treviglio;francese;diploma;magazziniere;B;A2;SI;SI"
        for i in range(3)
    ]
    path = folder / f"round-{n}.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from deploy.stack import local_stack
    from tasks.mail.smtp_sink import MailSink

    # the server logs each request it refused as busy (SQLite locked, HTTP 503): counted below
    os.environ["PREFECT_SERVER_LOG_RETRYABLE_ERRORS"] = "true"
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp) / "var"
        var.mkdir()
        with MailSink(var / "mail") as sink, local_stack(var, smtp_port=sink.port, schedules=False):
            trigger, total, direct = _measure(var, args.rounds)
            parts = _breakdown()
        busy = _refused_as_busy(var / "logs" / "prefect-server.log")
    print(f"rounds: {args.rounds}")
    print(
        f"file imported → intake scheduled via trigger: median {statistics.median(trigger):.2f} s "
        f"(min {min(trigger):.2f}, max {max(trigger):.2f})"
    )
    print(f"referral submitted → intake scheduled (end to end): median {statistics.median(total):.2f} s")
    print(f"baseline, the scheduling step called directly: median {statistics.median(direct) * 1000:.1f} ms")
    print(f"ratio trigger latency / direct step: {statistics.median(trigger) / statistics.median(direct):.0f}x")
    print("where the trigger latency goes (server timestamps, median s):")
    for name, values in parts.items():
        print(f"  {name:<44} {statistics.median(values):5.2f}  (min {min(values):.2f}, max {max(values):.2f})")
    print(
        f"run creations the server refused as busy (SQLite locked, asked again 2 s later by the trigger, "
        f"50 ms later by deploy/client.py): {busy.get('flow_run', 0)} for {2 * args.rounds} runs; "
        f"other refused requests: {busy['other']}"
    )


def _refused_as_busy(log: Path) -> dict[str, int]:
    """Requests the server answered 503 because SQLite was locked: creations of a flow run, others."""
    refusals = log.read_text(encoding="utf-8", errors="replace").split("Encountered retryable exception in request")
    runs = sum(bool(re.search(r"^\[SQL: INSERT INTO flow_run ", r, flags=re.MULTILINE)) for r in refusals[1:])
    return {"flow_run": runs, "other": len(refusals) - 1 - runs}


def _breakdown() -> dict[str, list[float]]:
    """Per round, from Prefect's states and the case events: referral end → intake run created
    (trigger) → Pending (runner's pick-up) → Running (process start) → its cases scheduled."""
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from sqlmodel import col, func, select

    from models.cases import CaseEvent
    from models.enums import State
    from tasks.runtime.db import session_scope

    def runs(name: str) -> list[Any]:
        with get_client(sync_client=True) as client:
            found = client.read_flow_runs(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name])))
            return sorted(
                ((r, client.read_flow_run_states(r.id)) for r in found if r.state and r.state.is_completed()),
                key=lambda pair: pair[0].created,
            )

    def first(states: list[Any], kind: str) -> Any:
        return next(s.timestamp for s in states if s.type.value == kind)

    parts: dict[str, list[float]] = {
        "trigger: referral ended → intake run created": [],
        "runner pick-up: created → Pending": [],
        "process start: Pending → Running": [],
        "stage work: Running → cases scheduled": [],
    }
    intakes = runs("intake")
    for referral, _ in runs("referral"):
        ended = referral.end_time  # the events leave in its last step: the intake may be created before
        intake = next(((r, st) for r, st in intakes if r.created >= referral.start_time), None)
        if intake is None:
            continue
        run, states = intake
        intakes = [pair for pair in intakes if pair[0].id != run.id]
        with session_scope() as session:
            done = session.exec(
                select(func.max(CaseEvent.at)).where(
                    col(CaseEvent.flow_run_id) == str(run.id), CaseEvent.to_state == State.INTAKE_SCHEDULED
                )
            ).one()
        pending, running = first(states, "PENDING"), first(states, "RUNNING")
        parts["trigger: referral ended → intake run created"].append((run.created - ended).total_seconds())
        parts["runner pick-up: created → Pending"].append((pending - run.created).total_seconds())
        parts["process start: Pending → Running"].append((running - pending).total_seconds())
        if done is not None:
            at = done if done.tzinfo else done.replace(tzinfo=running.tzinfo)
            parts["stage work: Running → cases scheduled"].append((at - running).total_seconds())
    return {k: v for k, v in parts.items() if v}


def _measure(var: Path, rounds: int) -> tuple[list[float], list[float], list[float]]:
    from sqlmodel import Session, col, select

    from deploy.client import run
    from models.cases import Case
    from models.enums import State
    from tasks.core.partners import sync_organisations
    from tasks.intake import schedule_intakes
    from tasks.runtime.db import get_engine, migrate, session_scope

    migrate()
    with session_scope() as s:
        sync_organisations(s)
    trigger, total, direct = [], [], []
    for n in range(rounds):
        path = _file(var, n)
        submitted = time.monotonic()
        result = run("referral/referral", {"file_path": str(path), "referrer_code": "CARITAS-TRV"})
        imported = time.monotonic()
        codes = [f"import:{result['import_id']}"]
        deadline = imported + 120
        while time.monotonic() < deadline:
            with Session(get_engine()) as s:
                waiting = s.exec(select(Case.code).where(Case.state == State.ACCEPTED)).all()
                scheduled = s.exec(select(Case.code).where(col(Case.state) == State.INTAKE_SCHEDULED)).all()
            if not waiting and len(scheduled) >= 3 * (n + 1):
                break
            time.sleep(0.1)
        else:
            raise TimeoutError(f"round {n}: not scheduled ({codes})")
        done = time.monotonic()
        trigger.append(done - imported)
        total.append(done - submitted)
    for _ in range(rounds):  # baseline: the step alone, on nothing to do and on fresh data
        with session_scope() as s:
            t = time.perf_counter()
            schedule_intakes(s, today=clock.today())
            direct.append(time.perf_counter() - t)
            s.rollback()
    return trigger, total, direct


if __name__ == "__main__":
    main()
