"""Duplicate search measured through the referral import, beside the function (issue 21).

    .venv/bin/python -m bench.bench_dedup_import [--sizes 3000,100000]
    .venv/bin/python -m bench.bench_dedup --through-import [--sizes 3000,100000]

A labelled set of ``bench.dedup_sets`` (seed 7, the one bench/bench_dedup.py scores) is written
as a partner file: an Italian Excel list saved as CSV UTF-8 (``;``, dd/mm/yyyy, headers
"Cognome", "Nome", "Data di nascita", "Codice fiscale", "Cellulare", "E-mail", "Comune di
residenza", "Consenso privacy"). In a child process with a fresh migrated SQLite database
(a temporary ``INCONTRO_VAR_DIR``), the real steps run: ``ingest_referral_file`` (validation,
normalisation, bulk INSERTs) and ``deduplicate_import`` (the search on the stored people,
merges into the earlier case, grey-band rows in ``dedup_review``). What they stored is read
back: ``case.merged_into_id`` (the merges) and ``dedup_review`` (the review pairs), each case
mapped to its labelled record by the referral's row number.

Figures, side by side on the same set:

* ``funzione``: ``find_duplicates`` on the labelled records as generated (bench_dedup's figure);
* ``funzione, righe importate``: ``find_duplicates`` on the people as the import stored them, in
  the import's order (what the dedup step is given: separates validation and normalisation from
  the plumbing of merges and reviews);
* ``import``: the stored merges and reviews.

The dedup step is also split in two, wall and CPU seconds each: the search (``find_duplicates``)
and the rest (reading the stored people, the merges in bulk, the review rows), with the SQL
statements the step sends (before the bulk merges, about 15 per merged case: 42,015 at 10k) and
the peak memory of the process after the step.

Precision/recall are those of bench_dedup (pairs inside the merge clusters) over all labelled
records (a rejected row is a person the import never saw: its pairs are missed), then over the
accepted rows only. The rows the import refused are counted by column and reason (no values).
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import resource
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any

from bench.bench_dedup import EVAL_SEED, GOALS, quality

HEADERS = [
    "Cognome",
    "Nome",
    "Data di nascita",
    "Codice fiscale",
    "Cellulare",
    "E-mail",
    "Comune di residenza",
    "Consenso privacy",
]
REFERRER = "CARITAS-BG"


@dataclass(frozen=True, slots=True)
class Link:
    """A merge or review read back from the database, as bench_dedup's ``quality`` reads decisions."""

    new_key: str
    match_key: str | None
    band: str


def write_partner_file(path: Path, size: int, seed: int = EVAL_SEED) -> dict[str, int]:
    """The labelled set as a partner's CSV; returns each record's cluster by record id (file order)."""
    from bench.dedup_sets import make_dedup_set

    records = make_dedup_set(size, seed).records
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADERS)
        for r in records:
            writer.writerow(
                [
                    r.family_name,
                    r.given_names,
                    r.birth_date.strftime("%d/%m/%Y") if r.birth_date else "",
                    r.codice_fiscale or "",
                    r.phone or "",
                    r.email or "",
                    r.municipality,
                    "SI",
                ]
            )
    return {r.record_id: r.cluster for r in records}


def _function(records: list[Any], thresholds: Any) -> tuple[list[Any], float]:
    from tasks.matching.dedup import find_duplicates

    started = time.perf_counter()
    decisions = find_duplicates(records, [], thresholds)
    return decisions, time.perf_counter() - started


def _run(size: int, work: str, queue: Any) -> None:
    """In a child process: write the file, import it into a fresh database, score what it stored."""
    os.environ["INCONTRO_VAR_DIR"] = str(Path(work) / "var")
    os.environ.setdefault("PREFECT_HOME", str(Path(work) / "prefect"))
    import prefect.context  # noqa: F401  (loaded by every flow run before an import; not timed)
    from sqlalchemy import event
    from sqlmodel import Session, col, select

    import tasks.referral.ingest as ingest_module
    from bench.dedup_sets import make_dedup_set
    from config.data import load_routing
    from models.cases import Case
    from models.ops import DedupReview, ImportRow
    from models.people import Person, Referral
    from tasks.core.partners import sync_organisations
    from tasks.matching.dedup import DedupThresholds, PersonRecord
    from tasks.referral.ingest import deduplicate_import, ingest_referral_file
    from tasks.runtime.db import get_engine, migrate

    path = Path(work) / "segnalazioni.csv"
    cluster = write_partner_file(path, size)
    order = list(cluster)  # record ids in file order
    migrate()
    engine = get_engine()
    with Session(engine) as session:
        sync_organisations(session)
        session.commit()
    rules = load_routing().dedup
    thresholds = DedupThresholds(merge=rules.merge_threshold, review=rules.review_threshold)

    timings: dict[str, float] = {}
    # The dedup step split in two: the search (find_duplicates) and the rest (reading the people,
    # merges, reviews), with the SQL statements the step sends.
    statements = [0]
    search = ingest_module.find_duplicates

    def timed_search(*args: Any, **kwargs: Any) -> Any:
        begun, begun_cpu = time.perf_counter(), time.process_time()
        try:
            return search(*args, **kwargs)
        finally:
            timings["search"] = time.perf_counter() - begun
            timings["search_cpu"] = time.process_time() - begun_cpu

    def count(*_args: Any) -> None:
        statements[0] += 1

    with Session(engine, expire_on_commit=False) as session:
        started, cpu = time.perf_counter(), time.process_time()
        summary = ingest_referral_file(session, path, REFERRER)
        session.info.pop("incontro_pending_events", None)  # no Prefect server: counted, not sent
        session.commit()
        timings["ingest"] = time.perf_counter() - started
        ingest_module.find_duplicates = timed_search  # type: ignore[assignment]
        event.listen(engine, "before_cursor_execute", count)
        started, dedup_cpu = time.perf_counter(), time.process_time()
        deduplicate_import(session, summary.import_id)
        session.info.pop("incontro_pending_events", None)
        session.commit()
        timings["dedup"] = time.perf_counter() - started
        timings["dedup_cpu"] = time.process_time() - dedup_cpu
        timings["cpu"] = time.process_time() - cpu
        step_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        event.remove(engine, "before_cursor_execute", count)
        ingest_module.find_duplicates = search  # type: ignore[assignment]
        merged = session.exec(select(Case.id).where(col(Case.merged_into_id).is_not(None))).all()
        reviewed = session.exec(select(DedupReview.id)).all()

        # Row numbers of the file: the first data row is the first labelled record.
        rows = {k: n for k, n in session.exec(select(Referral.person_key, Referral.row_number)).all() if n is not None}
        refused = session.exec(select(ImportRow).where(ImportRow.import_file_id == summary.import_id)).all()
        first_row = min([*rows.values(), *(r.row_number for r in refused)])
        record_of_key = {key: order[n - first_row] for key, n in rows.items()}
        cases = session.exec(select(Case.id, Case.person_key, Case.merged_into_id)).all()
        record_of_case = {case_id: record_of_key[key] for case_id, key, _ in cases}
        links = [Link(record_of_case[c], record_of_case[t], "merge") for c, _, t in cases if t is not None]
        links += [
            Link(record_of_case[r.case_id], record_of_case[r.candidate_case_id], "review")
            for r in session.exec(select(DedupReview)).all()
        ]
        # What the dedup step was given: the stored people in the order of their cases.
        stored = session.exec(select(Person, Case.id).join(Case, col(Case.person_key) == col(Person.key))).all()
        stored_records = [
            PersonRecord(
                key=record_of_key[p.key],
                family_name=p.family_name,
                given_names=p.given_names,
                birth_date=p.birth_date,
                codice_fiscale=p.codice_fiscale,
                phone=p.phone,
                email=p.email,
                municipality=p.municipality,
            )
            for p, _ in sorted(stored, key=lambda pc: pc[1])
        ]
        reasons = Counter(f"{e.get('column', '?')}: {e.get('reason', '?')}" for r in refused for e in r.errors)

    labelled = make_dedup_set(size, EVAL_SEED).records
    raw_records = [
        PersonRecord(
            key=r.record_id,
            family_name=r.family_name,
            given_names=r.given_names,
            birth_date=r.birth_date,
            codice_fiscale=r.codice_fiscale,
            phone=r.phone,
            email=r.email,
            municipality=r.municipality,
        )
        for r in labelled
    ]
    function, timings["function"] = _function(raw_records, thresholds)
    on_stored, timings["function_stored"] = _function(stored_records, thresholds)
    accepted = {k: cluster[k] for k in record_of_key.values()}

    def on_accepted(decisions: list[Any]) -> dict[str, float]:
        kept = [d for d in decisions if d.new_key in accepted and (d.match_key is None or d.match_key in accepted)]
        return quality(kept, accepted)

    queue.put(
        {
            "records": len(cluster),
            "accepted": summary.accepted_rows,
            "refused": summary.rejected_rows,
            "reasons": reasons.most_common(8),
            "timings": timings,
            "statements": statements[0],
            "merged": len(merged),
            "reviews": len(reviewed),
            "step_peak_mb": step_peak_mb,  # the import and the dedup step
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # and the scoring above
            "rows": {
                "funzione": (quality(function, cluster), on_accepted(function)),
                "funzione, righe importate": (quality(on_stored, cluster), on_accepted(on_stored)),
                "import": (quality(links, cluster), on_accepted(links)),
            },
        }
    )


def measure(size: int) -> dict[str, Any]:
    """One size in a spawned child with its own temporary database."""
    with tempfile.TemporaryDirectory(prefix="bench-dedup-import-") as work:
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=_run, args=(size, work, queue))
        proc.start()
        while True:
            try:
                figures: dict[str, Any] = queue.get(timeout=5)
                break
            except Empty:
                if not proc.is_alive():
                    raise RuntimeError(f"the measurement at {size} failed (exit code {proc.exitcode})") from None
        proc.join()
    return figures


def _fmt(q: dict[str, float]) -> str:
    return (
        f"P {q['precision']:.4f}  R {q['recall']:.4f}  review {q['review']:6.2%} (giuste {q['review_precision']:.2f})"
    )


def report(size: int, f: dict[str, Any]) -> None:
    t = f["timings"]
    print(
        f"indipendente {size:,}: {f['records']:,} righe, accettate {f['accepted']:,}, rifiutate {f['refused']:,};"
        f" import {t['ingest']:.1f} s + ricerca dei doppioni {t['dedup']:.1f} s"
        f" (funzione {t['function']:.1f} s, sulle righe importate {t['function_stored']:.1f} s)"
    )
    rest, rest_cpu = t["dedup"] - t["search"], t["dedup_cpu"] - t["search_cpu"]
    print(
        f"  ricerca dei doppioni: funzione {t['search']:.1f} s (CPU {t['search_cpu']:.1f} s) + resto del passo"
        f" (lettura, unioni, revisioni) {rest:.1f} s (CPU {rest_cpu:.1f} s);"
        f" {f['merged']:,} unioni, {f['reviews']:,} in revisione, {f['statements']:,} istruzioni SQL;"
        f" import + passo CPU {t['cpu']:.1f} s; memoria di picco {f['step_peak_mb']:,.0f} MB"
        f" ({f['peak_mb']:,.0f} MB col resto del banco)"
    )
    for reason, n in f["reasons"]:
        print(f"  rifiutate per «{reason}»: {n}")
    print(f"  {'':28s} {'su tutte le righe':58s} sulle righe accettate")
    for label, (every, accepted) in f["rows"].items():
        print(f"  {label:28s} {_fmt(every)}   {_fmt(accepted)}")
    imp = f["rows"]["import"][0]
    missed = [k for k in ("precision", "recall") if imp[k] < GOALS[k]] + (
        ["review"] if imp["review"] > GOALS["review"] else []
    )
    print(f"  {'obiettivi (import)':28s} {'OK' if not missed else 'NON RAGGIUNTI: ' + ', '.join(missed)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="3000,100000", help="sizes of the independent set")
    args = parser.parse_args(argv)
    for size in (int(s) for s in args.sizes.split(",")):
        report(size, measure(size))


if __name__ == "__main__":
    main()
