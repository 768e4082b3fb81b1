"""``make demo``: the whole referral-to-hire flow on a real local Prefect server.

Starts a Prefect server and the served deployments (state under var/), a local SMTP sink that
saves every message under var/mail/, loads synthetic partner files and runs every stage through
its deployment; scripted operators answer the forms. Prints the funnel, then stops what it
started. Each run starts from a clean var/ so that it can be repeated.
"""

from __future__ import annotations

import random
import shutil
import sys
import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes
from typing import TYPE_CHECKING, Any

from config.settings import PROJECT_ROOT
from deploy.client import (
    resume,
    run,
    start,
    wait_done,
    wait_for_run,
    wait_idle,
    wait_paused,
    wait_paused_or_done,
    wait_until,
)
from models import clock
from tasks.runtime.prefect_api import completed_runs, form_inputs

if TYPE_CHECKING:
    from demo.synthetic.dataset import DemoDataset

VAR = PROJECT_ROOT / "var"
SEED = 2026


_STARTED = time.monotonic()  # python -m demo.run imports this module first


def _say(text: str) -> None:
    print(text, flush=True)


def _step(text: str) -> None:
    """A stage's heading, with the seconds since the start: where a slow run spent its time."""
    _say(f"{text}  [{time.monotonic() - _STARTED:.0f} s]")


def main() -> int:
    for sub in ("incontro.db", "incontro.db-wal", "incontro.db-shm", "prefect", "mail", "demo", "logs"):
        target = VAR / sub
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    VAR.mkdir(exist_ok=True)
    from deploy.stack import local_stack, port_free
    from tasks.mail.smtp_sink import MailSink

    api_port = 4200 if port_free(4200) else None
    prepared = Prepared()
    with (
        MailSink(VAR / "mail") as sink,
        local_stack(VAR, api_port=api_port, smtp_port=sink.port, while_starting=prepared.run, schedules=False) as stack,
    ):
        _say(f"Prefect server: {stack.ui_url}  ·  SMTP sink: 127.0.0.1:{sink.port} → var/mail/")
        run_pipeline(prepared.dataset)
        _say_desk_accounts(prepared.accounts)
        _say(
            f"\nFatto in {time.monotonic() - _STARTED:.0f} s. Interfaccia: `make serve` riapre {stack.ui_url} "
            "sullo stesso database Prefect (var/prefect)."
        )
    return 0


class Prepared:
    """What needs no Prefect, done while the server starts (deploy/stack.py: ``while_starting``):
    the application database, the partners, the synthetic files and the desk's demo accounts."""

    dataset: DemoDataset
    accounts: list[str]

    def run(self) -> None:
        from demo.synthetic.dataset import build_demo_dataset
        from portal.desk.demo import create_demo_accounts
        from tasks.core.partners import sync_organisations
        from tasks.runtime.db import migrate, session_scope

        migrate()
        with session_scope() as session:
            sync_organisations(session)
        self.dataset = build_demo_dataset(VAR / "demo" / "inbox", seed=SEED)
        with session_scope() as session:
            self.accounts = create_demo_accounts(session)


def _say_desk_accounts(lines: list[str]) -> None:
    """The operators' desk (docs/DESK.md): demo accounts and how to sign in."""
    from portal.desk.demo import DEMO_PASSWORD

    _say("\nScrivania degli operatori: `make serve`, poi http://127.0.0.1:8088/scrivania/ con uno di questi account")
    for line in lines:
        _say(line)
    _say(f"  password (solo demo): {DEMO_PASSWORD}")


def run_pipeline(dataset: DemoDataset) -> None:
    from demo.operator import (
        company_answers,
        dedup_answers,
        hires_file,
        intake_answers,
        literacy_answers,
        policy_answers,
        progress_registers,
        record_contact_consents,
        training_file,
    )
    from tasks.runtime.db import session_scope

    rng = random.Random(SEED)
    today = clock.today()

    partners = {s.referrer for s in dataset.referral_files}
    _step(f"\n1. Segnalazioni: {len(dataset.referral_files)} file da {len(partners)} partner")
    for spec in dataset.referral_files:
        result = run("referral/referral", {"file_path": str(spec.path), "referrer_code": spec.referrer})
        _say(f"   {spec.path.name}: {result}")
    from demo.partners import partners_refer_through_page  # volunteers on /segnalazioni/ (issue 20)

    pages = partners_refer_through_page(None, dataset, rng, today)
    _say("\n".join(f"   {line}" for line in [pages.summary(), *pages.status_lines()]))

    if count_reviews():
        _say("   possibili duplicati in fascia grigia → modulo dell'operatore (trigger)")
        from prefect.client.schemas.objects import StateType

        review = wait_for_run("dedup-review/dedup-review", [StateType.PAUSED])
        with session_scope() as session:
            decisions = dedup_answers(session, dataset, form_inputs(review.id))
        resume(review.id, {"decisions": decisions})
        wait_done(review.id)
    _step("2. Presa in carico: i casi accettati attivano la programmazione dei colloqui (trigger)")
    wait_until(lambda: count_state("accepted") == 0 and count_state("intake_scheduled") > 0, "colloqui programmati")
    # no wait for the intake runs still starting: each referral of the page started one, and once
    # no case is left accepted they find nothing to do (their processes overlap the forms instead)
    run("maintenance/maintenance", {})  # the sweep: anything a trigger missed
    offices = scheduled_offices()
    far = (today + timedelta(days=60)).isoformat()
    form_runs = {o: start("intake-form/intake-form", {"office": o, "up_to": far}) for o in offices}
    refused: tuple[Any, list[dict[str, Any]]] | None = None
    for run_id in form_runs.values():
        wait_paused(run_id)
        with session_scope() as session:
            codes = [r["case_code"] for r in form_inputs(run_id)]
            answers = intake_answers(session, dataset, codes, rng)
        if refused is None:  # show that an invalid form is refused and asked again
            bad = [dict(a) for a in answers]
            bad[0] = {**bad[0], "present": True, "occupations": ["0000"]}
            resume(run_id, {"results": bad})
            refused = (run_id, answers)  # answered right once the others are: it asks again meanwhile
            continue
        resume(run_id, {"results": answers})
    if refused is not None:
        wait_paused(refused[0])  # asked again
        resume(refused[0], {"results": refused[1]})
    for run_id in form_runs.values():
        wait_done(run_id)
    _say(f"   moduli di colloquio compilati per {len(form_runs)} CPI")

    _step("3. Alfabetizzazione: iscrizioni CPIA, esiti dei corsi → rivalutazione (trigger)")
    run("literacy/literacy", {})
    lit = start("literacy-outcomes/literacy-outcomes", {})
    if wait_paused_or_done(lit):
        codes = [r["case_code"] for r in form_inputs(lit)]
        resume(lit, {"results": literacy_answers(codes, rng)})
        wait_done(lit)
        wait_until(lambda: completed_runs("reassessment/reassessment") >= 1, "rivalutazione")
        wait_idle("reassessment/reassessment")

    _step("4. Invio profili a Confindustria")
    run("dispatch/dispatch", {})

    _step("5. Posizioni aperte da Confindustria → abbinamento (trigger) → approvazione dell'operatore")
    result = run("vacancies/vacancies", {"file_path": str(dataset.vacancy_file), "sender_code": "CONFINDUSTRIA-BG"})
    accepted, rejected = result.get("accepted", 0), result.get("rejected", 0)
    _say(f"   {dataset.vacancy_file.name}: posizioni {accepted}, righe rifiutate {rejected} (errori a Confindustria)")
    from prefect.client.schemas.objects import StateType

    approval = wait_for_run("matching/matching", [StateType.PAUSED])
    resume(approval.id, {"vacancies": form_inputs(approval.id)})  # the operator approves the top 3
    wait_done(approval.id)
    from demo.companies import companies_answer_shortlists, send_batches_to_companies

    with session_scope() as session:  # the pages' own code (portal/companies), as the companies click
        links = send_batches_to_companies(session)
        pipeline = companies_answer_shortlists(session, today)
    _say(f"   Confindustria invia {links} link alle aziende dalla pagina del lotto; risposte sulle rose: {pipeline}")

    _step("6. Risposte delle aziende, consensi al contatto, esiti")
    with session_scope() as session:
        answers_path = company_answers(session, VAR / "demo" / "inbox" / "risposte-aziende.csv", rng)
    if answers_path is not None:
        run("interest/interest", {"file_path": str(answers_path)})
    with session_scope() as session:
        record_contact_consents(session, rng)
    run("interest/interest", {})
    with session_scope() as session:
        outcome_path = hires_file(session, VAR / "demo" / "inbox" / "esiti-colloqui.csv", rng, today)
    run(
        "outcomes/outcomes",
        {
            "file_path": str(outcome_path),
            "sender_code": "PROV-LAVORO",
            "as_of": (today + timedelta(days=40)).isoformat(),
        },
    )
    _step("7. Politiche attive e formazione: offerta formativa, proposte, registri degli enti, tavolo")
    with session_scope() as session:
        courses = training_file(session, VAR / "demo" / "inbox" / "offerta-formativa.csv", today)
    run("training-offers/training-offers", {"file_path": str(courses), "sender_code": "PROV-LAVORO"})
    later = (today + timedelta(days=41)).isoformat()
    proposals = start("policy/policy", {"as_of": later})
    if wait_paused_or_done(proposals):
        resume(proposals, {"decisions": policy_answers(form_inputs(proposals))})
        wait_done(proposals)
    with session_scope() as session:
        registers = progress_registers(session, VAR / "demo" / "inbox", today, rng)
    # one register per provider, about different cases: all at once
    register_runs = [
        start("policy-progress/policy-progress", {"file_path": str(path), "sender_code": body})
        for path, body in registers
    ]
    for run_id in register_runs:
        wait_done(run_id)
    table = start("tavolo/tavolo", {"as_of": (today + timedelta(days=45)).isoformat()})
    if wait_paused_or_done(table):
        resume(table, {"decisions": form_inputs(table)})
        wait_done(table)
    run("maintenance/maintenance", {})
    run("reports/reports", {})
    print_funnel()


# ----------------------------------------------------------------------------- app DB helpers


def count_state(state: str) -> int:
    from tasks.reports.funnel import current_states
    from tasks.runtime.db import session_scope

    with session_scope() as session:
        return sum(n for s, n in current_states(session).items() if s.value == state)


def count_reviews() -> int:
    from sqlmodel import col, select

    from models.ops import DedupReview
    from tasks.runtime.db import session_scope

    with session_scope() as session:
        return len(session.exec(select(DedupReview.id).where(col(DedupReview.decision).is_(None))).all())


def scheduled_offices() -> list[str]:
    from sqlmodel import col, select

    from models.cases import Case
    from models.enums import State
    from tasks.runtime.db import session_scope

    with session_scope() as session:
        codes = session.exec(
            select(Case.office_code).where(Case.state == State.INTAKE_SCHEDULED, col(Case.office_code).is_not(None))
        ).all()
    return sorted({c for c in codes if c})


def print_funnel() -> None:
    from tasks.core.next_steps import stuck_cases
    from tasks.policy.register import policy_routes
    from tasks.reports.funnel import emails_by_kind, funnel_rows
    from tasks.runtime.db import session_scope

    with session_scope() as session:
        rows = funnel_rows(session)
        emails = emails_by_kind(session)
        routes = policy_routes(session)
        stuck = len(stuck_cases(session))
    _step("\nFunnel (casi entrati in ogni stato · casi ora nello stato)")
    for r in rows:
        _say(f"  {r['state']!s:<18} {r['reached']:>5} · {r['now']:>5}")
    files: Counter[str] = Counter()
    largest = (0, "—")
    for path in (VAR / "mail").glob("*.eml"):
        kind = message_from_bytes(path.read_bytes()).get("X-Incontro-Kind", "?")
        files[kind] += 1
        largest = max(largest, (path.stat().st_size, kind))
    _say(f"  assunti per percorso (politica/formazione): {routes}")
    _say(f"  pratiche aperte senza prossimo passo, responsabile o scadenza: {stuck} (elenco: incontro cases --stuck)")
    _say("\nEmail per tipo (outbox: inviate/fallite · file .eml in var/mail/)")
    for kind in sorted(set(emails) | set(files)):
        status = emails.get(kind, {})
        _say(f"  {kind:<30} {status.get('sent', 0):>4} / {status.get('failed', 0):<3} · {files.get(kind, 0):>4}")
    _say(f"  email più grande: {largest[0] / 1024:.1f} KB ({largest[1]}; i client di posta tagliano oltre ~100 KB)")
    _say(
        "\nDove guardare: var/mail/*.eml (messaggi), var/incontro.db (pratiche e storia), "
        "var/prefect/ (esecuzioni), var/logs/ (log dei processi)"
    )


if __name__ == "__main__":
    sys.exit(main())
