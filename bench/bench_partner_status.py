"""The status page of a partner with 10,000 referrals (issue 20): p95 < 300 ms.

A temporary SQLite database gets 10,000 referrals of one partner (CARITAS-BG) among 40,000 of
other partners, in every stage; then ``GET /segnalazioni/stato`` (first page, then a page deep in
the list) is requested through the portal app in process (FastAPI's test client: routing, link
check, queries, audit INSERT, template), and the CSV export of all 10,000 once. Baselines in the
same run: the page's two queries called directly, and the portal's ``/salute`` (the HTTP stack
alone), so the ratio still means something on a busy machine.
Run: .venv/bin/python -m bench.bench_partner_status [--own 10000] [--others 40000] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ORG = "CARITAS-BG"
OTHERS = ("CARITAS-TRV", "AMBITO-BG", "ASSOC-PONTE-UCRAINA", "CPIA-BG")
GIVEN = ["Andrii", "Aminata", "José", "Fatima", "Mamadou", "Olena", "Youssef", "María", "Oksana", "Ibrahim"]
FAMILY = ["Melnyk", "Traoré", "Quispe", "Bennani", "Diallo", "Shevchenko", "El Amrani", "Gómez", "Bondar", "Sow"]


def _populate(own: int, others: int) -> None:
    from sqlalchemy import insert
    from sqlmodel import col

    from models.base import insert_values, new_token
    from models.cases import Case
    from models.enums import State
    from models.people import Person, PersonKey, Referral
    from tasks.core.partners import sync_organisations
    from tasks.runtime.db import migrate, session_scope

    migrate()
    rng = random.Random(20)
    states = [State.ACCEPTED, State.INTAKE_SCHEDULED, State.LITERACY, State.PROFILE_READY, State.DISPATCHED,
              State.HIRED, State.CLOSED, State.POLICY]  # fmt: skip
    steps = {State.ACCEPTED: "schedule_intake", State.INTAKE_SCHEDULED: "hold_intake"}
    with session_scope() as s:
        sync_organisations(s)
        s.flush()
        conn = s.connection()
        total = own + others
        referrers = [ORG] * own + [OTHERS[i % len(OTHERS)] for i in range(others)]
        rng.shuffle(referrers)  # exactly ``own`` for the partner measured, spread through the table
        for start in range(0, total, 5000):
            n = min(5000, total - start)
            keys = [new_token() for _ in range(n)]
            conn.execute(insert(PersonKey), [insert_values(PersonKey, token=k) for k in keys])
            conn.execute(
                insert(Person),
                [
                    insert_values(
                        Person,
                        key=k,
                        family_name=f"{FAMILY[rng.randrange(10)]}{i}",
                        given_names=GIVEN[rng.randrange(10)],
                        birth_date=date(1970, 1, 1) + timedelta(days=rng.randrange(15000)),
                    )
                    for i, k in enumerate(keys, start)
                ],
            )
            rows = []
            for i, k in enumerate(keys, start):
                state = states[rng.randrange(len(states))]
                rows.append(
                    insert_values(
                        Case,
                        code=f"BG-2026-{i + 1:06d}",
                        person_key=k,
                        state=state,
                        office_code="CPI-BG",
                        next_step=steps.get(state),
                        next_due=date(2026, 12, 15) if state in steps else None,
                    )
                )
            created = conn.execute(insert(Case).returning(col(Case.person_key), col(Case.id)), rows)
            case_ids = dict(created.tuples().all())
            conn.execute(
                insert(Referral),
                [
                    insert_values(
                        Referral,
                        person_key=k,
                        case_id=case_ids[k],
                        referrer_code=referrers[i],
                    )
                    for i, k in enumerate(keys, start)
                ],
            )


def _timed(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--own", type=int, default=10_000)
    parser.add_argument("--others", type=int, default=40_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INCONTRO_VAR_DIR"] = str(Path(tmp) / "var")
        from config.settings import get_settings
        from tasks.runtime.db import get_engine

        get_settings.cache_clear()
        get_engine.cache_clear()
        t0 = time.perf_counter()
        _populate(args.own, args.others)
        print(f"database: {args.own + args.others} referrals in {time.perf_counter() - t0:.1f} s")
        _measure(args.requests)


def _measure(requests: int) -> None:
    from sqlmodel import Session

    from portal.app import create_app
    from portal.partners.status import count_referrals, referral_rows
    from tasks.mail.links import sign_partner_link
    from tasks.runtime.db import get_engine

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*httpx2.*")
        from starlette.testclient import TestClient

    with TestClient(create_app(), follow_redirects=False) as client:
        assert client.get(f"/segnalazioni/accesso/{sign_partner_link(ORG)}").status_code == 303
        total = count_referrals(Session(get_engine()), ORG)
        deep = max(1, total // 50 - 3)

        def first() -> None:
            assert client.get("/segnalazioni/stato").status_code == 200

        def deep_page() -> None:
            assert client.get(f"/segnalazioni/stato?pagina={deep}").status_code == 200

        def health() -> None:
            assert client.get("/salute").status_code == 200

        def queries() -> None:
            with Session(get_engine()) as s:
                count_referrals(s, ORG)
                referral_rows(s, ORG, page=1)

        for warm in (first, deep_page, queries):  # templates, YAML, SQLite pages
            warm()
        page1 = _timed(first, requests)
        paged = _timed(deep_page, requests)
        direct = _timed(queries, requests)
        stack = _timed(health, requests)
        export = _timed(lambda: client.get("/segnalazioni/stato.csv"), 3)
    print(f"partner {ORG}: {total} referrals, {requests} requests each")
    for name, values in (("status page 1", page1), (f"status page {deep}", paged)):
        print(
            f"{name}: p50 {statistics.median(values) * 1000:.1f} ms, p95 {_p95(values) * 1000:.1f} ms (goal < 300 ms)"
        )
    print(f"baseline, the page's queries called directly: p95 {_p95(direct) * 1000:.1f} ms")
    print(f"baseline, /salute through the same stack: p95 {_p95(stack) * 1000:.1f} ms")
    print(f"ratio status page p95 / direct queries p95: {_p95(page1) / _p95(direct):.1f}x")
    print(f"CSV export of all {total}: median {statistics.median(export) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
