"""Latency from "file imported" to "intake scheduled" through the event trigger (issue 3).

Starts a real local Prefect server and the served deployments (temporary var/), imports five
small referral files one after the other, and measures for each:
- trigger latency: referral run finished (cases accepted, event emitted) → every case of the file
  INTAKE_SCHEDULED by the triggered intake run;
- end to end: referral deployment submitted → cases scheduled.
Baseline in the same run: the same scheduling step called directly (no Prefect).
Run: .venv/bin/python -m bench.bench_trigger [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

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

    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp) / "var"
        var.mkdir()
        with MailSink(var / "mail") as sink, local_stack(var, smtp_port=sink.port):
            trigger, total, direct = _measure(var, args.rounds)
    print(f"rounds: {args.rounds}")
    print(
        f"file imported → intake scheduled via trigger: median {statistics.median(trigger):.2f} s "
        f"(min {min(trigger):.2f}, max {max(trigger):.2f})"
    )
    print(f"referral submitted → intake scheduled (end to end): median {statistics.median(total):.2f} s")
    print(f"baseline, the scheduling step called directly: median {statistics.median(direct) * 1000:.1f} ms")
    print(f"ratio trigger latency / direct step: {statistics.median(trigger) / statistics.median(direct):.0f}x")


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
