"""100k cases from referral to dispatch on PostgreSQL: what orchestration costs (issue 10).

The same steps run twice on two fresh PostgreSQL application databases, in the same run:
- plain: the step functions called directly (the baseline), outbox drains called as in the flows;
- Prefect: the stage flows on a real local Prefect server whose own database is PostgreSQL too
  (referral → intake scheduling → intake results recorded in chunks → dispatch).
Prints, per stage, the orchestration overhead per case ((Prefect − plain) ÷ cases; goal ≤ 0.1 ms,
where one Prefect task run per case costs ≈ 6 ms), cases per second end to end, and the growth
of the Prefect database per 10k cases. Events are emitted to the same server in both runs.
No SMTP server listens: every drain finds it down at once and leaves the queued messages pending,
the same on both sides (SMTP throughput is bench_smtp's job); the emails queued per side are printed.
Run: .venv/bin/python -m bench.bench_pipeline [--cases 100000]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from models import clock

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
GIVEN = ["Andrii", "Olena", "Mamadou", "Aminata", "José", "María", "Youssef", "Fatima", "Luca", "Giulia"]
STAGES = ["referral", "intake", "intake-results", "dispatch"]


def _letters(n: int, width: int = 6) -> str:
    out = ""
    for _ in range(width):
        n, r = divmod(n, 26)
        out += chr(97 + r)
    return out


def write_file(path: Path, cases: int) -> None:
    from config.data import load_offices

    towns = [m.name for o in load_offices() for m in o.municipalities]
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(
            "Cognome;Nome;Data di nascita;Comune di residenza;Esperienze;Livello italiano;"
            "Consenso privacy;Consenso Confindustria\n"
        )
        for i in range(cases):
            born = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 14000))
            fh.write(f"Rossi{_letters(i)};{GIVEN[i % 10]};{born:%d/%m/%Y};{rng.choice(towns)};magazziniere;A2;SI;SI\n")


def _results(codes: list[str]) -> list[dict[str, Any]]:
    level = {k: "A2" for k in ("listening", "reading", "interaction", "production", "writing")}
    return [
        {"case_code": c, "present": True, **level, "occupations": ["4321"], "consent_confindustria": True}
        for c in codes
    ]


def _create_db(name: str) -> str:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN.rsplit("/", 1)[0] + f"/{name}"


def _db_size(name: str) -> int:
    admin = create_engine(ADMIN)
    with admin.connect() as conn:
        size = int(conn.execute(text("SELECT pg_database_size(:n)"), {"n": name}).scalar_one())
    admin.dispose()
    return size


def _table_sizes(name: str) -> dict[str, int]:
    engine = create_engine(ADMIN.rsplit("/", 1)[0] + f"/{name}")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT relname, pg_total_relation_size(relid) FROM pg_catalog.pg_statio_user_tables")
        ).all()
    engine.dispose()
    return {str(r[0]): int(r[1]) for r in rows}


def _queued_emails() -> int:
    from sqlmodel import Session, func, select

    from models.ops import Outbox
    from tasks.runtime.db import get_engine

    with Session(get_engine()) as s:
        return int(s.exec(select(func.count()).select_from(Outbox)).one())


def _use_app_db(url: str) -> None:
    from config.settings import get_settings
    from tasks.core.partners import sync_organisations
    from tasks.runtime.db import get_engine, migrate, session_scope

    os.environ["INCONTRO_DATABASE_URL"] = url
    get_settings.cache_clear()
    get_engine.cache_clear()
    migrate(url)
    with session_scope() as s:
        sync_organisations(s)


def _scheduled_codes() -> list[str]:
    from sqlmodel import Session, col, select

    from models.cases import Case
    from models.enums import State
    from tasks.runtime.db import get_engine

    with Session(get_engine()) as s:
        return list(s.exec(select(Case.code).where(Case.state == State.INTAKE_SCHEDULED).order_by(col(Case.id))).all())


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_plain(path: Path, today: date, chunk: int) -> dict[str, float]:
    from tasks.core.partners import sync_organisations
    from tasks.dispatch import dispatch_profiles
    from tasks.intake import record_intake, schedule_intakes
    from tasks.mail.notify import drain_now
    from tasks.referral.ingest import accept_import, acknowledge_import, deduplicate_import, ingest_referral_file
    from tasks.runtime.db import session_scope

    times: dict[str, float] = {}

    def timed(stage: str, fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        result = fn()
        times[stage] = times.get(stage, 0.0) + time.perf_counter() - t
        return result

    def referral() -> None:
        with session_scope() as s:
            sync_organisations(s)
        with session_scope() as s:
            summary = ingest_referral_file(s, path, "CARITAS-BG")
        for step in (deduplicate_import, accept_import, acknowledge_import):
            with session_scope() as s:
                step(s, summary.import_id)
        drain_now()

    def intake() -> None:
        with session_scope() as s:
            schedule_intakes(s, today=today)
        drain_now()

    def results() -> None:
        for part in _chunks(_scheduled_codes(), chunk):
            with session_scope() as s:
                record_intake(s, _results(part), today=today)

    def dispatch() -> None:
        with session_scope() as s:
            dispatch_profiles(s, batch_code="DSP-BENCH-PLAIN", today=today)
        drain_now()

    for stage, fn in zip(STAGES, (referral, intake, results, dispatch), strict=True):
        timed(stage, fn)
    return times


def run_prefect(path: Path, today: date, chunk: int) -> dict[str, float]:
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    from flows.dispatch import dispatch
    from flows.intake import intake, record
    from flows.referral import referral

    @task(name="scheduled_codes", cache_policy=NO_CACHE, persist_result=False)
    def scheduled() -> list[str]:
        return _scheduled_codes()

    @flow(name="bench-intake-results", persist_result=False)
    def intake_results(chunk: int) -> int:
        """Intake forms answered in bulk: one Prefect task per chunk of cases, never per case.

        The codes are read inside the run: as a parameter, 100k codes would exceed the 512 KB
        Prefect allows (and would copy case codes into the server's database for nothing).
        """
        codes = scheduled()
        for part in _chunks(codes, chunk):
            record(_results(part), today=today)
        return len(codes)

    times: dict[str, float] = {}
    t = time.perf_counter()
    referral(str(path), "CARITAS-BG")
    times["referral"] = time.perf_counter() - t
    t = time.perf_counter()
    intake(as_of=today)
    times["intake"] = time.perf_counter() - t
    t = time.perf_counter()
    intake_results(chunk)
    times["intake-results"] = time.perf_counter() - t
    t = time.perf_counter()
    dispatch(batch_code="DSP-BENCH-PREFECT", as_of=today)
    times["dispatch"] = time.perf_counter() - t
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=2000)
    args = parser.parse_args()
    from deploy.stack import Stack, free_port, stack_env

    today = clock.today()
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp) / "var"
        (var / "logs").mkdir(parents=True)
        path = Path(tmp) / "referrals.csv"
        write_file(path, args.cases)
        prefect_db = "incontro_bench_prefect"
        prefect_url = _create_db(prefect_db).replace("+psycopg", "+asyncpg")
        api_port = free_port()
        env = stack_env(
            var,
            api_port,
            free_port(),
            {"PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_url, "PREFECT_LOGGING_LEVEL": "WARNING"},
        )
        os.environ.update({k: v for k, v in env.items() if k.startswith(("PREFECT_", "INCONTRO_"))})
        os.environ["INCONTRO_CHUNK_SIZE"] = str(args.chunk)
        stack = Stack(var_dir=var, api_port=api_port, smtp_port=0, env=env)
        stack.start_server()
        try:
            _use_app_db(_create_db("incontro_bench_plain"))
            t = time.perf_counter()
            plain = run_plain(path, today, args.chunk)
            plain_total = time.perf_counter() - t
            emails = [_queued_emails()]
            size_before, tables_before = _db_size(prefect_db), _table_sizes(prefect_db)
            _use_app_db(_create_db("incontro_bench_prefect_app"))
            t = time.perf_counter()
            orchestrated = run_prefect(path, today, args.chunk)
            prefect_total = time.perf_counter() - t
            emails.append(_queued_emails())
            time.sleep(5)  # let the server persist the last events
            growth = _db_size(prefect_db) - size_before
            tables = _table_sizes(prefect_db)
            grew = sorted(((v - tables_before.get(k, 0), k) for k, v in tables.items()), reverse=True)[:4]
        finally:
            stack.stop()
    n = args.cases
    print(f"cases: {n:,} (chunk {args.chunk}) on PostgreSQL; Prefect server on PostgreSQL")
    print(f"{'stage':<16}{'plain s':>10}{'prefect s':>11}{'overhead ms/case':>18}")
    for stage in STAGES:
        over = (orchestrated[stage] - plain[stage]) / n * 1000
        print(f"{stage:<16}{plain[stage]:>10.1f}{orchestrated[stage]:>11.1f}{over:>18.4f}")
    total_over = (prefect_total - plain_total) / n * 1000
    print(f"{'total':<16}{plain_total:>10.1f}{prefect_total:>11.1f}{total_over:>18.4f}")
    print(
        f"overhead per case per stage: {total_over / len(STAGES):.4f} ms (goal ≤ 0.1 ms; one task run per case ≈ 6 ms)"
    )
    print(
        f"end to end: {n / prefect_total:.0f} cases/s with Prefect, {n / plain_total:.0f} cases/s plain "
        f"(ratio {plain_total / prefect_total:.2f})"
    )
    print(f"Prefect database growth: {growth / 1e6 / (n / 10_000):.2f} MB per 10k cases")
    print("  largest growth: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for v, k in grew))
    print(f"emails queued (no SMTP server, left pending): plain {emails[0]:,}, Prefect {emails[1]:,}")


if __name__ == "__main__":
    main()
