"""Referral import throughput and memory: the real streaming import vs a raw executemany INSERT.

Both sides read the same generated file (Excel-Italian CSV: cp1252, ``;``, dd/mm/yyyy, about
60 % real tax codes, 20 % temporary numeric codes, 5 % bad rows) in the same run:

- baseline: ``csv.reader`` + one ``executemany`` INSERT of the raw cells into an equivalent
  ``person``-like table of a fresh SQLite file (no validation, no cases, one transaction);
- real: ``tasks.referral.ingest.ingest_referral_file`` on a migrated SQLite file (validation,
  person + key + case + referral + consents + history row per accepted row, rejected rows with
  their errors, chunks of ``settings.chunk_size``), committed.

Outside the timed part, as in a flow run: the schema migration, the partners' sync and
Prefect's own import (a second or two, once per process).

Memory: peak of Python allocations (tracemalloc) of the streaming reader over the whole file,
and the growth of the process high-water mark (``ru_maxrss``) during the real import. Prefect
events queued by the import (one per new case) are counted, not emitted: there is no server.

Run: ``.venv/bin/python -m bench.bench_import [--rows 100000]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

from demo.synthetic.corpus import IT_HEADERS as HEADERS
from demo.synthetic.taxcodes import tax_code, temporary_tax_code

FAMILY = ["Rossi", "Bonacina", "D'Angelo", "Müller", "Diallo", "Kovalenko", "El Amrani", "Ferrari", "Colombo",
          "Bianchi", "Nguyen", "Popescu", "Hoxha", "Sow", "Ricci", "Marchetti", "Gualandris", "Pesenti"]  # fmt: skip
GIVEN = ["Nicolò", "Maria Grazia", "Mamadou", "Olena", "Jürgen", "Fatima", "Giovanni", "Andrea", "Lucia",
         "Ion", "Ardit", "Awa", "Paola", "Luca", "Chiara", "Oleksandr", "Iryna", "Moussa"]  # fmt: skip
TOWNS = ["Bergamo", "Seriate", "Dalmine", "Albino", "Nembro", "Stezzano", "Zanica", "Treviolo", "Curno"]
PLACES = ["Bergamo", "Ucraina", "Marocco", "Senegal", "Romania", "Albania"]


def write_file(path: Path, rows: int, seed: int = 5) -> None:
    """A realistic partner file, written row by row (the generator never holds it in memory)."""
    rng = random.Random(seed)
    pool = []
    for i in range(1500):  # tax codes are slow to compute: a pool of (birth date, place, code)
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(16000))
        place = rng.choice(PLACES)
        sex = "M" if rng.random() < 0.5 else "F"
        code = tax_code(FAMILY[i % len(FAMILY)], GIVEN[i % len(GIVEN)], sex, born, place)
        pool.append((born, place, code))
    with path.open("w", encoding="cp1252", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADERS)
        for i in range(rows):
            born, place, code = rng.choice(pool)
            kind = rng.random()
            cf = code if kind < 0.6 else (temporary_tax_code(rng) if kind < 0.8 else "")
            mail = f"persona{i}@example.it" if rng.random() < 0.7 else ""
            row = [
                rng.choice(FAMILY),
                rng.choice(GIVEN),
                born.strftime("%d/%m/%Y"),
                place,
                "",
                cf,
                f"3{rng.randrange(20, 50)} {rng.randrange(1000000, 9999999)}",
                mail,
                rng.choice(TOWNS),
                "italiano, inglese",
                "diploma",
                "magazziniere, mulettista",
                "B",
                "SI",
                "Caritas Bergamo",
            ]
            if rng.random() < 0.05:  # a bad row: impossible date, broken e-mail or unknown town
                bad = rng.randrange(3)
                row[2 if bad == 0 else 7 if bad == 1 else 8] = ("31/02/1990", "nome@", "Milano")[bad]
            writer.writerow(row)


def baseline(path: Path, db: Path) -> tuple[float, int]:
    """Raw cells straight into an equivalent table with one executemany (no validation)."""
    start = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    cols = ", ".join(f"c{i} TEXT" for i in range(len(HEADERS)))
    con.execute(f"CREATE TABLE person_raw (id INTEGER PRIMARY KEY, {cols})")
    with path.open(encoding="cp1252", newline="") as fh:
        reader = csv.reader(fh, delimiter=";")
        next(reader)
        marks = ", ".join("?" * len(HEADERS))
        names = ", ".join(f"c{i}" for i in range(len(HEADERS)))
        with con:
            con.executemany(f"INSERT INTO person_raw ({names}) VALUES ({marks})", reader)
    count = con.execute("SELECT count(*) FROM person_raw").fetchone()[0]
    con.close()
    return time.perf_counter() - start, count


def reader_peak(path: Path) -> tuple[int, int]:
    from tasks.files.tabular import open_table

    tracemalloc.start()
    with open_table(path, "referral", required=["family_name", "given_names", "municipality"]) as (_l, rows):
        count = sum(1 for _ in rows)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return count, peak


def real_import(path: Path) -> tuple[float, float, int, int, int, int]:
    from sqlmodel import Session

    from tasks.core.partners import sync_organisations
    from tasks.referral.ingest import ingest_referral_file
    from tasks.runtime.db import get_engine, migrate

    migrate()
    engine = get_engine()
    with Session(engine) as session:
        sync_organisations(session)
        session.commit()
    # Loaded in every flow run before an import starts (the progress artifact asks whether it
    # runs in one): its one-off import time is no part of the rows/s of the ingest.
    import prefect.context  # noqa: F401

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu = time.perf_counter(), time.process_time()
    with Session(engine, expire_on_commit=False) as session:
        summary = ingest_referral_file(session, path, "CARITAS-BG")
        events = len(session.info.pop("incontro_pending_events", []))
        session.commit()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    return elapsed, cpu, summary.accepted_rows, summary.rejected_rows, events, rss_growth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    os.environ["INCONTRO_VAR_DIR"] = str(work / "var")
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect"))
    from config.settings import get_settings

    get_settings.cache_clear()
    path = work / "segnalazioni.csv"
    t = time.perf_counter()
    write_file(path, args.rows)
    size_mb = path.stat().st_size / 2**20
    print(f"file: {args.rows} rows, {size_mb:.1f} MB, written in {time.perf_counter() - t:.1f} s")
    print(f"chunk_size: {get_settings().chunk_size}")

    base_s, base_n = baseline(path, work / "baseline.db")
    count, peak = reader_peak(path)
    load = os.getloadavg()[0]
    real_s, cpu_s, accepted, rejected, events, rss_kb = real_import(path)
    assert base_n == count == accepted + rejected == args.rows, (base_n, count, accepted, rejected)
    base_rate, real_rate = base_n / base_s, args.rows / real_s
    print(f"baseline csv + executemany : {base_rate:10,.0f} rows/s ({base_s:.2f} s)")
    print(f"real import (validated)    : {real_rate:10,.0f} rows/s ({real_s:.2f} s)")
    # On a shared machine the wall clock counts other processes' turns; the CPU time does not.
    print(f"real import, CPU time      : {args.rows / cpu_s:10,.0f} rows/s ({cpu_s:.2f} s; load average {load:.1f})")
    print(
        f"ratio real / baseline      : {real_rate / base_rate:10.4f}  (baseline is {base_rate / real_rate:.0f}x faster)"
    )
    print(f"accepted {accepted}, rejected {rejected}, Prefect events queued {events}")
    print(f"reader peak (tracemalloc)  : {peak / 2**20:.2f} MB for a {size_mb:.1f} MB file")
    print(f"import ru_maxrss growth    : {rss_kb / 1024:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
