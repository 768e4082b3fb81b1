"""Chaos in the suite (issue 16): a stage run is SIGKILLed at a step boundary, in a real separate
process, then run again; nothing may happen twice and nothing may be left without a next step.

The child runs the stage against this test's database (INCONTRO_VAR_DIR) and the shared Prefect
test server (PREFECT_API_URL); ``INCONTRO_CHAOS_KILL_AT=<stage>:<step>[:before|:after]`` makes
``tasks/runtime/steps.py: chaos_point`` kill it there (``after`` = the step committed). The rerun
runs in this process, then the maintenance sweep (the safety net of every stage) runs once.
Operator forms are answered by a thread, as an office would; kill points around a form sit after
the answer (before and after the step that records it).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import PROJECT_ROOT
from models.cases import Case, CaseEvent, Enrollment
from models.clock import utcnow
from models.enums import Cefr, ConsentPurpose, OutboxStatus, State
from models.exchange import DispatchBatch
from models.ops import DedupReview, ImportFile, Outbox
from tasks.mail.smtp_sink import MailSink
from tasks.runtime.steps import CHAOS_KILL_AT
from tests.factories import SHAREABLE, make_case, seed_partners
from tests.flows.test_resume import announced
from tests.flows.test_stages import HEADER, ROWS

#: A fork server: it imports the stages once (about 3 s on a busy 2-core machine, as many times as
#: there are kill points otherwise), then forks one child per stage run. The child is a separate
#: process like any flow run: its own pid, database connections and Prefect clients, created
#: after the fork from this test's environment; ``send_outbox`` (a plain task, not a db_step)
#: gets the same kill point through a completion hook.
FORK_SERVER = r"""
import json, os, sys, traceback
from tasks.mail.notify import send_outbox
from tasks.runtime.steps import chaos_point
send_outbox.on_completion_hooks.append(lambda *_: chaos_point("send_outbox"))
import flows.referral, flows.intake, flows.literacy, flows.dispatch
from config.settings import get_settings
from tasks.runtime.db import get_engine
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        out = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.environ.update(job["env"])
        get_settings.cache_clear()
        get_engine.cache_clear()
        code = 0
        try:
            getattr(sys.modules[job["module"]], job["flow"])(**job["params"])
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    killed = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    print(json.dumps({"signal": killed, "code": os.WEXITSTATUS(status) if killed is None else None}), flush=True)
"""

LEVELS = ("listening", "reading", "interaction", "production", "writing")
INTAKE_DAY = datetime(2026, 12, 1, 9, tzinfo=UTC)


@dataclass
class Scenario:
    """One stage run: how to prepare the database, which flow, with what, and what it ends in."""

    prepare: Callable[[Session, Path], dict[str, Any]]
    module: str
    flow: str
    form: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    final: dict[str, int] = field(default_factory=dict)
    mails: dict[str, int] = field(default_factory=dict)


# ------------------------------------------------------------------------------------ stages


def _referral(_session: Session, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "segnalazioni.csv"
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("utf-8-sig"))
    return {"file_path": str(path), "referrer_code": "CARITAS-BG"}


def _accepted(session: Session, _tmp: Path) -> dict[str, Any]:
    for _ in range(3):
        make_case(
            session,
            state=State.ACCEPTED,
            office="CPI-LOV",
            consents=(ConsentPurpose.CPI_PROCESSING, ConsentPurpose.REFERRER_CONTACT),
        )
    return {"office": "CPI-LOV", "as_of": "2026-08-24"}


def _scheduled(session: Session, _tmp: Path) -> dict[str, Any]:
    for _ in range(2):
        case = make_case(session, state=State.INTAKE_SCHEDULED, office="CPI-TRV")
        case.intake_at = INTAKE_DAY
        session.add(case)
    session.commit()
    return {"office": "CPI-TRV", "up_to": "2026-12-31"}


def _intake_answers(cases: dict[str, Any]) -> dict[str, Any]:
    """The first case below the literacy threshold, the second above it."""
    codes = sorted(cases)
    rows = []
    for code, level in zip(codes, ("A1", "B1"), strict=True):
        rows.append(
            {
                "case_code": code,
                "present": True,
                **dict.fromkeys(LEVELS, level),
                "occupations": ["7212"],
                "consent_confindustria": True,
                "consent_cpia": True,
            }
        )
    return {"results": rows}


def _literacy(session: Session, _tmp: Path) -> dict[str, Any]:
    consents = (ConsentPurpose.CPI_PROCESSING, ConsentPurpose.CPIA_ENROLMENT)
    for _ in range(2):
        make_case(session, state=State.LITERACY, profile={"italian": Cefr.A1}, consents=consents)
    return {}


def _enrolled(session: Session, tmp: Path) -> dict[str, Any]:
    from tasks.literacy import request_enrolments

    _literacy(session, tmp)
    request_enrolments(session, today=date(2026, 11, 2))
    session.commit()
    return {}


def _course_answers(cases: dict[str, Any]) -> dict[str, Any]:
    return {"results": [{"case_code": c, "outcome": "superato", **dict.fromkeys(LEVELS, "A2")} for c in sorted(cases)]}


def _courses_closed(session: Session, tmp: Path) -> dict[str, Any]:
    from tasks.literacy import record_course_outcomes

    _enrolled(session, tmp)
    codes = [c.code for c in session.exec(select(Case)).all()]
    record_course_outcomes(session, _course_answers(dict.fromkeys(codes))["results"], today=date(2026, 11, 30))
    session.commit()
    return {}


def _ready(session: Session, _tmp: Path) -> dict[str, Any]:
    for _ in range(3):
        make_case(session, state=State.PROFILE_READY, profile={}, consents=SHAREABLE)
    return {"as_of": "2026-11-30"}


REFERRAL = Scenario(
    _referral,
    "flows.referral",
    "referral",
    # the sweep schedules the two accepted cases' intake; Milano waits for a CPI (coordinators)
    final={"intake_scheduled": 2, "duplicate": 1, "rejected": 1, "referred": 1},
    mails={"referral_ack": 1, "import_errors": 1, "duplicate_notice": 1},
)
INTAKE = Scenario(
    _accepted,
    "flows.intake",
    "intake",
    final={"intake_scheduled": 3},
    mails={"intake_appointment_candidate": 3, "intake_appointment_referrer": 1},
)
INTAKE_FORM = Scenario(
    _scheduled, "flows.intake", "intake_form", _intake_answers, final={"literacy": 1, "profile_ready": 1}
)
LITERACY = Scenario(_literacy, "flows.literacy", "literacy", final={"literacy": 2}, mails={"cpia_enrolment_request": 1})
# the courses recorded, the sweep re-assesses (A2 passes the threshold)
OUTCOMES = Scenario(_enrolled, "flows.literacy", "literacy_outcomes", _course_answers, final={"profile_ready": 2})
REASSESS = Scenario(_courses_closed, "flows.literacy", "reassessment", final={"profile_ready": 2})
DISPATCH = Scenario(_ready, "flows.dispatch", "dispatch", final={"dispatched": 3}, mails={"dispatch_confindustria": 2})

#: stage (Prefect flow name), step, moment → the scenario it interrupts.
KILL_POINTS: dict[str, Scenario] = {
    "referral:ingest_referral_file": REFERRAL,
    "referral:deduplicate_import": REFERRAL,
    "referral:accept_import": REFERRAL,
    "referral:acknowledge_import": REFERRAL,
    "referral:finish_import": REFERRAL,
    "intake:schedule_intakes": INTAKE,
    "intake:send_outbox": INTAKE,
    "intake-form:record_intake:before": INTAKE_FORM,
    "intake-form:record_intake": INTAKE_FORM,
    "literacy:request_enrolments": LITERACY,
    "literacy-outcomes:record_course_outcomes:before": OUTCOMES,
    "literacy-outcomes:record_course_outcomes": OUTCOMES,
    "reassessment:reassess": REASSESS,
    "dispatch:dispatch_profiles:before": DISPATCH,
    "dispatch:dispatch_profiles": DISPATCH,
    "dispatch:send_outbox": DISPATCH,
}


# ------------------------------------------------------------------------------------ harness


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch) -> Engine:
    """SQLite only: the kills are about process death, not the engine (test_resume runs both)."""
    from config.settings import get_settings
    from tasks.runtime.db import get_engine, migrate

    monkeypatch.setenv("INCONTRO_DISPATCH_MAX_PROFILES", "2")  # dispatch: two batches, two emails
    get_settings.cache_clear()
    migrate()
    return get_engine()


class Operator:
    """The office: answers each paused run of ``flow`` once, in a thread, until stopped."""

    def __init__(self, flow: str, answer: dict[str, Any]) -> None:
        self.flow, self.answer, self.answered = flow, answer, 0
        self._stop = threading.Event()
        self._earlier: set[Any] = set()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Operator:
        self._earlier = {run.id for run in _paused(self.flow)}  # another test's, not ours to answer
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        from prefect.flow_runs import resume_flow_run

        done: set[Any] = set(self._earlier)
        while not self._stop.is_set():
            for run in _paused(self.flow):
                if run.id not in done:
                    resume_flow_run(run.id, run_input=self.answer)
                    done.add(run.id)
                    self.answered += 1
            self._stop.wait(0.3)


def _paused(flow: str) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
            ),
        )


@pytest.fixture(autouse=True)
def _no_form_left_behind() -> Iterator[None]:
    """Other flow tests answer the first paused run they see: delete any this test left."""
    yield
    from prefect import get_client

    with get_client(sync_client=True) as client:
        for flow in ("intake-form", "literacy-outcomes"):
            for run in _paused(flow):
                client.delete_flow_run(run.id)


class ForkServer:
    """The fork server's process and its one-line JSON protocol."""

    def __init__(self) -> None:
        from prefect.settings import PREFECT_API_URL

        # Prefect fixes its settings at import: the server's address goes in before.
        env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER],
            env=env,
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def run(self, scenario: Scenario, params: dict[str, Any], kill_at: str, log: Path) -> dict[str, Any]:
        """Run the stage in a forked child, killed at ``kill_at``; how the child ended."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        env = {k: v for k, v in os.environ.items() if k.startswith("INCONTRO_")} | {CHAOS_KILL_AT: kill_at}
        job = {"env": env, "module": scenario.module, "flow": scenario.flow, "params": params, "log": str(log)}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        ended: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return ended

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def fork_server() -> Iterator[ForkServer]:
    server = ForkServer()
    yield server
    server.close()


def _rerun(scenario: Scenario, params: dict[str, Any]) -> Any:
    module = __import__(scenario.module, fromlist=[scenario.flow])
    return getattr(module, scenario.flow)(**params)


def _stage_name(kill_at: str) -> str:
    return kill_at.split(":", 1)[0]


# ------------------------------------------------------------------------------------ checks


def _moves(session: Session) -> list[tuple[int, str | None, str]]:
    return [
        (e.case_id, e.from_state.value if e.from_state else None, e.to_state.value)
        for e in session.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all()
    ]


def _check_history(session: Session) -> None:
    """Every case moved once per step: no repeated move, each move starts where the last ended,
    and the last one is where the case is."""
    moves = _moves(session)
    repeated = [m for m, n in Counter(moves).items() if n > 1]
    assert not repeated, f"case_event duplicated: {repeated}"
    for case in session.exec(select(Case)).all():
        own = [(f, t) for cid, f, t in moves if cid == case.id]
        for (_, before), (after, _) in itertools.pairwise(own):
            assert before == after, f"{case.code}: broken history {own}"
        if own:
            assert own[-1][1] == case.state.value, f"{case.code}: history ends in {own[-1][1]}"


def _check_mail(session: Session, mail: MailSink, expected: dict[str, int]) -> None:
    """Every outbox row sent, each exactly once; no email queued twice for the same thing."""
    rows = session.exec(select(Outbox)).all()
    assert {r.status for r in rows} <= {OutboxStatus.SENT}, [(r.kind, r.status.value) for r in rows]
    same = Counter((r.kind, r.case_code, r.recipient_code, r.subject) for r in rows)
    assert max(same.values(), default=1) == 1, f"the same email queued twice: {same}"
    keys = Counter(str(m.key) for m in mail.messages)
    assert max(keys.values(), default=1) == 1, f"a message delivered twice: {keys}"
    assert sorted(keys) == sorted(r.key for r in rows)  # every row's message, no other
    kinds = Counter(r.kind for r in rows)
    for kind, n in expected.items():
        assert kinds[kind] == n, f"{kind}: {kinds[kind]} emails, expected {n}"


def _stranded(session: Session) -> list[str]:
    """What nothing would move on: states a stage only passes through, imports left halfway,
    finished courses nobody re-assessed, cases dispatched in no batch."""
    reviews = set(session.exec(select(DedupReview.case_id).where(col(DedupReview.decision).is_(None))).all())
    closed = set(session.exec(select(Enrollment.case_id).where(col(Enrollment.outcome).is_not(None))).all())
    open_ = set(session.exec(select(Enrollment.case_id).where(col(Enrollment.outcome).is_(None))).all())
    batches = len(session.exec(select(DispatchBatch)).all())
    out = []
    for case in session.exec(select(Case)).all():
        waits = (
            (case.state is State.REFERRED and case.id not in reviews and case.next_step != "assign_office")
            or case.state in (State.ACCEPTED, State.INTAKE_DONE)
            or (case.state is State.LITERACY and case.id in closed and case.id not in open_)
            or (case.state is State.DISPATCHED and not batches)
        )
        if waits:
            out.append(f"{case.code}:{case.state.value}")
    out += [f"import {i.id}" for i in session.exec(select(ImportFile)).all() if i.finished_at is None]
    return out


# ------------------------------------------------------------------------------------ the test


@pytest.mark.parametrize("kill_at", list(KILL_POINTS))
def test_a_stage_killed_at_a_step_boundary_finishes_once_when_run_again(
    kill_at: str, db: Engine, mail: MailSink, tmp_path: Path, fork_server: ForkServer
) -> None:
    from flows.maintenance import maintenance

    scenario = KILL_POINTS[kill_at]
    since = utcnow()
    with Session(db, expire_on_commit=False) as s:
        seed_partners(s)
        params = scenario.prepare(s, tmp_path)
        cases = {c.code: c.id for c in s.exec(select(Case)).all()}
    answer = scenario.form(cases) if scenario.form else None
    stage = _stage_name(kill_at)
    log = tmp_path / "child.log"
    if answer is not None:
        with Operator(stage, answer) as office:
            child = fork_server.run(scenario, params, kill_at, log)
        assert office.answered == 1  # kill points around a form come after its answer
    else:
        child = fork_server.run(scenario, params, kill_at, log)
    assert child["signal"] == signal.SIGKILL, f"not killed at {kill_at}: {child} {log.read_text()[-3000:]}"

    if answer is not None:
        with Operator(stage, answer):
            _rerun(scenario, params)
    else:
        _rerun(scenario, params)
    maintenance(as_of=date.fromisoformat(params.get("as_of", "2026-08-24")))

    with Session(db, expire_on_commit=False) as s:
        _check_history(s)
        _check_mail(s, mail, scenario.mails)
        assert not _stranded(s)
        states = Counter(c.state.value for c in s.exec(select(Case)).all())
        assert states == Counter(scenario.final)
        imports = s.exec(select(ImportFile)).all()
    for imp in imports:  # the referral's next stages were announced, once
        assert announced("incontro.referral.accepted", f"incontro.import.{imp.id}", since) == 1
