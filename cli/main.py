"""``incontro``: the operators' command line (cases, timelines, stages, forms, reports).

Output speaks of case codes; identifying data stays in the database. Errors (unknown case,
wrong state, unknown stage) are printed in Italian and exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deploy.specs import DEPLOYMENTS

STAGES = [d.name for d in DEPLOYMENTS]
EPILOG = """Esempi / examples:
  incontro cases --state intake_scheduled --office CPI-BG
  incontro timeline BG-2026-000123
  incontro run intake --case BG-2026-000123
  incontro forms
  incontro answer <flow-run-id> --file risposte.json
  incontro report --month 2026-10
"""


class CliError(Exception):
    """A user error: printed as one Italian line, exit code 2."""


def out(text: str = "") -> None:
    """One line on standard output (every ``incontro`` command prints through here)."""
    sys.stdout.write(text + "\n")


def cmd_cases(args: argparse.Namespace) -> int:
    """List cases (code, state, office, next step) filtered by state and office."""
    from sqlmodel import Session, col, select

    from models.cases import Case
    from models.enums import State
    from tasks.runtime.db import get_engine

    query = select(Case).order_by(col(Case.code))
    if args.state:
        try:
            query = query.where(Case.state == State(args.state))
        except ValueError:
            raise CliError(f"stato sconosciuto «{args.state}»; validi: {', '.join(s.value for s in State)}") from None
    if args.office:
        query = query.where(Case.office_code == _office(args.office))
    if args.stuck or args.overdue:  # the invariant's lists (docs/ARCHITECTURE.md#data)
        from cli.steps import cmd_next_steps

        return cmd_next_steps(args, _office(args.office) if args.office else None)
    if args.next_step:
        query = query.where(Case.next_step == args.next_step)
    with Session(get_engine()) as session:
        cases = session.exec(query.limit(args.limit)).all()
    from tasks.core.next_steps import step_label
    from tasks.mail.formatting import state_label

    out(f"{'pratica':<16} {'stato':<26} {'CPI':<8} {'scadenza':<10} prossimo passo")
    for c in cases:
        due = c.next_due.strftime("%d/%m/%Y") if c.next_due else "—"
        step = step_label(c.next_step) if c.next_step else "—"
        out(f"{c.code:<16} {state_label(c.state):<26} {c.office_code or '—':<8} {due:<10} {step}")
    out(f"({len(cases)} pratiche)")
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    """Every transition of one case, oldest first."""
    from sqlmodel import Session, col, select

    from models.cases import Case, CaseEvent
    from tasks.runtime.db import get_engine

    with Session(get_engine()) as session:
        case = session.exec(select(Case).where(Case.code == args.case)).first()
        if case is None:
            raise CliError(f"pratica {args.case} inesistente")
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))).all()
    out(f"Pratica {case.code} · stato {case.state.value} · CPI {case.office_code or '—'}")
    for e in events:
        when = e.at.astimezone().strftime("%d/%m/%Y %H:%M")
        before = e.from_state.value if e.from_state else "—"
        out(f"  {when}  {before:>16} → {e.to_state.value:<16} {e.actor:<16} {e.reason or ''}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Start a stage through its deployment (returns at once with the run id)."""
    from deploy.client import start

    if args.stage not in STAGES:
        raise CliError(f"fase sconosciuta «{args.stage}»; valide: {', '.join(STAGES)}")
    params: dict[str, Any] = dict(json.loads(args.params)) if args.params else {}
    if args.case:
        params["case_codes"] = args.case
        _check_cases(args.case)
    if args.office:
        params["office"] = _office(args.office)
    if args.file:
        path = Path(args.file).resolve()
        if not path.is_file():
            raise CliError(f"file {args.file} non trovato")
        params["file_path"] = str(path)
    try:
        run_id = start(f"{args.stage}/{args.stage}", params)
    except Exception as exc:  # the server's refusal repeats the value typed: never print it
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (409, 422):
            raise CliError(
                f"parametri di {args.stage} rifiutati dal server: usare i codici di config/ "
                "(enti, CPI) e i codici pratica esatti, senza spazi né a capo"
            ) from None
        raise
    out(f"avviata {args.stage}: flow run {run_id}")
    return 0


def _office(code: str) -> str:
    """A CPI office code from config/offices.yaml, exactly (a name or tax code is refused here)."""
    from config.data import load_offices

    offices = [o.code for o in load_offices()]
    if code not in offices:
        raise CliError(f"CPI sconosciuto; validi: {', '.join(offices)}")
    return code


def _check_cases(codes: Sequence[str]) -> None:
    from sqlmodel import Session, col, select

    from models.cases import Case
    from tasks.runtime.db import get_engine

    with Session(get_engine()) as session:
        found = set(session.exec(select(Case.code).where(col(Case.code).in_(codes))).all())
    missing = sorted(set(codes) - found)
    if missing:
        raise CliError(f"pratiche inesistenti: {', '.join(missing)}")


def cmd_forms(_args: argparse.Namespace) -> int:
    """Forms waiting for an operator (suspended flow runs) with the case codes they ask about."""
    from tasks.runtime.prefect_api import form_inputs, paused_runs

    runs = paused_runs()
    for r in runs:
        codes = [row.get("case_code", "?") for row in form_inputs(r.id)]
        out(f"{r.id}  {r.name:<24} {len(codes):>3} pratiche: {', '.join(codes[:6])}{' …' if len(codes) > 6 else ''}")
    out(f"({len(runs)} moduli in attesa)")
    return 0


def cmd_answer(args: argparse.Namespace) -> int:
    """Answer a pending form from a JSON file, or accept its pre-filled suggestion (once)."""
    from tasks.runtime.prefect_api import (
        FORM_SCHEMA_TIMEOUT,
        FormAlreadyAnswered,
        FormNotWaiting,
        FormRefused,
        answer_form,
        form_schema,
    )

    if not args.file and not args.defaults:
        raise CliError("indicare --file risposte.json oppure --defaults")
    try:
        if args.file:
            answer = json.loads(Path(args.file).read_text(encoding="utf-8"))
        else:
            try:
                answer = form_defaults(form_schema(args.run_id, FORM_SCHEMA_TIMEOUT))
            except FormNotWaiting:
                answer = {}  # not paused: answer_form says since when, and by whom if known
        answer_form(args.run_id, answer)
    except FormAlreadyAnswered as exc:
        raise CliError(_already_answered(args.run_id, exc.answered_at)) from None
    except FormRefused as exc:
        raise CliError(f"risposta rifiutata dal server (non corrisponde al modulo): {exc}") from None
    _record_answer(args.run_id)
    out(f"modulo {args.run_id} inviato")
    return 0


def form_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """What a waiting form proposes, under the form's own field names (``results`` for intake
    and literacy, ``decisions`` for duplicates, policy and the tavolo, ``vacancies`` for match
    approval): ``--defaults`` sends exactly this."""
    return {name: spec["default"] for name, spec in schema.get("properties", {}).items() if "default" in spec}


def actor_name(option: str | None = None) -> str:
    """Who acts, for the audit: ``--actor`` when given, else the operating-system user."""
    import getpass

    if option and option.strip():
        return option.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        raise CliError("utente del sistema non determinabile: indicare --actor NOME") from None


def _record_answer(run_id: str) -> None:
    """Who answered which form, in the application database (never in Prefect's)."""
    from sqlmodel import Session

    from tasks.core.audit import audit_read
    from tasks.runtime.db import get_engine

    with Session(get_engine()) as session:
        audit_read(session, actor=actor_name(), case_code=None, purpose=f"modulo {run_id}", action="form_answer")
        session.commit()


def _already_answered(run_id: str, answered_at: Any) -> str:
    from sqlmodel import Session, col, select

    from models.clock import in_rome
    from models.ops import AuditLog
    from tasks.runtime.db import get_engine

    with Session(get_engine()) as session:
        row = session.exec(
            select(AuditLog)
            .where(AuditLog.action == "form_answer", AuditLog.purpose == f"modulo {run_id}")
            .order_by(col(AuditLog.id))
        ).first()
    when = answered_at or (row.at if row else None)
    if when is None:
        return f"l'esecuzione {run_id} non ha un modulo in attesa di risposta (vedere `incontro forms`)"
    text = f"il modulo {run_id} è già stato compilato"
    text += f" il {in_rome(when):%d/%m/%Y alle %H:%M}"
    if row is not None:
        text += f" da {row.actor}"
    return text + "; questa risposta NON è stata registrata (vedere `incontro forms` per i moduli in attesa)"


def cmd_report(args: argparse.Namespace) -> int:
    """The month's figures in the terminal (the same as the monthly report)."""
    try:
        from cli.report import report
    except ImportError as exc:
        raise CliError(f"report non disponibile: {exc}") from None
    return report(args.month)


def cmd_simulate(args: argparse.Namespace) -> int:
    """A quarter on a simulated clock in var/simulate/ (demo/simulate.py)."""
    from demo.simulate import run_cli

    return run_cli(args.weeks)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incontro",
        description="Incontro – strumenti per gli operatori (operator tools: cases, stages, forms, reports).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("cases", help="elenco pratiche / list cases")
    p.add_argument("--state", help="stato, es. intake_scheduled")
    p.add_argument("--office", help="CPI, es. CPI-BG")
    p.add_argument("--next-step", help="prossimo passo, es. assign_office (CPI da assegnare)")
    p.add_argument("--stuck", action="store_true", help="aperte senza prossimo passo, responsabile o scadenza")
    p.add_argument("--overdue", action="store_true", help="aperte con il prossimo passo scaduto")
    p.add_argument("--limit", type=int, default=200)
    p.set_defaults(fn=cmd_cases)
    p = sub.add_parser("timeline", help="storia di una pratica / case timeline")
    p.add_argument("case", help="codice pratica, es. BG-2026-000123")
    p.set_defaults(fn=cmd_timeline)
    p = sub.add_parser("run", help="avvia una fase / start a stage")
    p.add_argument("stage", help=f"una di: {', '.join(STAGES)}")
    p.add_argument("--case", action="append", help="codice pratica (ripetibile)")
    p.add_argument("--office", help="CPI")
    p.add_argument("--file", help="file del partner")
    p.add_argument("--params", help="altri parametri in JSON")
    p.set_defaults(fn=cmd_run, needs_prefect=True)
    p = sub.add_parser("forms", help="moduli in attesa / pending forms")
    p.set_defaults(fn=cmd_forms, needs_prefect=True)
    p = sub.add_parser("answer", help="compila un modulo / answer a form")
    p.add_argument("run_id", help="id del flow run sospeso")
    p.add_argument("--file", help='JSON con le risposte, es. {"results": [...]}')
    p.add_argument("--defaults", action="store_true", help="accetta i valori proposti")
    p.set_defaults(fn=cmd_answer, needs_prefect=True)
    p = sub.add_parser("report", help="indicatori del mese / monthly figures")
    p.add_argument("--month", required=True, help="mese, es. 2026-10")
    p.set_defaults(fn=cmd_report)
    p = sub.add_parser("simulate", help="un trimestre su un orologio simulato / a simulated quarter")
    p.add_argument("--weeks", type=int, default=13, help="settimane da simulare (13 = un trimestre)")
    p.set_defaults(fn=cmd_simulate)
    from cli.outbox import register

    register(sub)
    from cli.offices import register as register_offices

    register_offices(sub)
    from cli.vacancies import register as register_vacancies

    register_vacancies(sub)
    from cli.check_file import register as register_check_file

    register_check_file(sub)
    from cli.duplicates import register as register_duplicates

    register_duplicates(sub)
    from cli.occupations import register as register_occupations

    register_occupations(sub)
    from cli.cases import register as register_cases

    register_cases(sub)
    from cli.followup import register as register_follow_up

    register_follow_up(sub)
    from cli.users import register as register_users

    register_users(sub)
    from cli.partners import register as register_partners

    register_partners(sub)
    return parser


def _connect() -> None:
    """Find `make serve`'s Prefect server before Prefect is imported (never a temporary one)."""
    from cli.connect import ServerNotFound, connect_prefect

    try:
        connect_prefect()
    except ServerNotFound as exc:
        raise CliError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "needs_prefect", False):
            _connect()
        return int(args.fn(args))
    except CliError as exc:
        sys.stderr.write(f"errore: {exc}\n")
        return 2


if __name__ == "__main__":
    # `python -m cli.main` runs this file as __main__; the commands import `cli.main`, a second copy
    # with its own CliError class. Run that copy's main so every error is caught as an error.
    from cli.main import main as installed_main

    sys.exit(installed_main())
