"""Duplicate search on an outsider's labelled referral files, beside the project's own set.

    .venv/bin/python -m bench.bench_dedup_outsider [--sizes 3000,100000] [--no-project] [--seed N]
    .venv/bin/python -m bench.bench_dedup_outsider --train   # retrain config/dedup_model.yaml

The outsider set (``bench/dedup_outsider.py``, written without reading the dedup code) is
written as a referral CSV with English headers and run through the command's own function,
``cli.duplicates.find_in_file`` (file reading, header aliases, date parsing included), in a child
process: its wall and CPU time and peak memory are the command's. Beside it, at the same size,
the project's independent set (``bench/bench_dedup.py``, ``bench/dedup_sets.py``) through
``find_duplicates``.

Figures: merge-cluster precision and recall over all pairs of records of one person (clusters
= the merge pairs, transitively), share of records sent to review and the share of review
pairs that are one person; for the outsider set the true pairs missed, by the variation the
generator applied, and the wrong merges, by the kind of hard negative. Goals: P ≥ 0.99,
R ≥ 0.95, review ≤ 5 % (≥ 1/3 true), 100k ≤ 30 s, ≤ 1 GB.

``--train`` learns ``u`` on random pairs and ``m`` by EM on the unlabelled blocked pairs of
30,000 referrals of the project's set (seed ``bench_dedup.TRAIN_SEED``) plus 30,000 of the
outsider generator (seed ``dedup_outsider.TRAIN_SEED``), never the seed measured here.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import resource
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.bench_dedup import GOALS
from bench.dedup_outsider import MEASURE_SEED, TRAIN_SEED, read_labels, write_outsider


def evidence_groups(rows: list[dict[str, str]], labels: list[dict[str, str]]) -> dict[str, int]:
    """record_id → group: the records of one person joined, transitively, by something beyond
    the name as written in the file – a birth date (day and month in either order, not the
    1 January placeholder), a tax code, a phone or an e-mail that is not on other people's
    referrals too. Pairs of one person in different groups have only their names in common:
    a search that never merges on a name alone cannot find them (the recall it can reach)."""
    truth = {x["record_id"]: x["cluster"] for x in labels}
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    ids: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        rid = row["record_id"]
        found = [("c", "".join(row["codice_fiscale"].split()).upper())] if row["codice_fiscale"].strip() else []
        digits = "".join(c for c in row["phone"] if c.isdigit())
        found += [("p", digits[-9:])] if len(digits) >= 9 else []
        found += [("e", row["email"].strip().lower())] if "@" in row["email"] else []
        born = _parse_day(row["birth_date"])
        found += [("d", born)] if born else []
        ids[rid] = found
        for key in found:
            owners[key].add(truth[rid])
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    first: dict[tuple[str, tuple[str, str]], str] = {}
    for rid, found in ids.items():
        for key in found:
            if key[0] in "pe" and len(owners[key]) > 2:
                continue  # a social worker's phone, a family's e-mail: not this person's
            other = first.setdefault((truth[rid], key), rid)
            if find(other) != find(rid):
                parent[find(rid)] = find(other)
    groups: dict[str, int] = {}
    return {rid: groups.setdefault(find(rid), len(groups)) for rid in ids}


def _parse_day(text: str) -> str | None:
    import re

    parts = [int(x) for x in re.split(r"[/.\-]", text.strip()) if x.isdigit()] if text.strip() else []
    if len(parts) != 3:
        return None
    year = next((p for p in parts if p > 31), None)
    if year is None:
        return None
    day_month = sorted(p for p in parts if p != year or parts.count(p) > 1)[:2]
    return None if day_month == [1, 1] else f"{year}-{day_month[0]}-{day_month[1]}"


def score_pairs(
    pairs: list[dict[str, Any]], labels: list[dict[str, str]], rows: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """Merge-cluster P/R, review share and precision; misses by variation, wrong merges by tag;
    with the file's ``rows``, the recall over the pairs with evidence beyond the name."""
    truth = {x["record_id"]: x["cluster"] for x in labels}
    by_id = {x["record_id"]: x for x in labels}
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for p in pairs:
        if p["band"] == "merge":
            a, b = find(str(p["a"])), find(str(p["b"]))
            if a != b:
                parent[a] = b
    predicted: dict[str, list[str]] = defaultdict(list)
    people: dict[str, list[str]] = defaultdict(list)
    for rid, c in truth.items():
        predicted[find(rid)].append(rid)
        people[c].append(rid)
    hit = wrong = 0
    for ids in predicted.values():
        clusters = Counter(truth[r] for r in ids)
        same = sum(n * (n - 1) // 2 for n in clusters.values())
        hit += same
        wrong += len(ids) * (len(ids) - 1) // 2 - same
    true_pairs = sum(len(ids) * (len(ids) - 1) // 2 for ids in people.values())
    groups = evidence_groups(rows, labels) if rows is not None else {}
    with_evidence = found_with_evidence = 0
    missed: Counter[str] = Counter()
    for ids in people.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                if groups and groups[a] == groups[b]:
                    with_evidence += 1
                    found_with_evidence += find(a) == find(b)
                if find(a) != find(b):
                    for v in set(by_id[a]["variations"].split()) | set(by_id[b]["variations"].split()):
                        missed[v.split(":")[0]] += 1
    wrong_kinds = Counter(
        "/".join(sorted({by_id[str(p["a"])]["tag"] or "-", by_id[str(p["b"])]["tag"] or "-"}))
        for p in pairs
        if p["band"] == "merge" and truth[str(p["a"])] != truth[str(p["b"])]
    )
    reviews = [p for p in pairs if p["band"] == "review"]
    right = sum(truth[str(p["a"])] == truth[str(p["b"])] for p in reviews)
    return {
        "precision": hit / max(hit + wrong, 1),
        "recall": hit / max(true_pairs, 1),
        "review": len(reviews) / max(len(truth), 1),
        "review_precision": right / max(len(reviews), 1),
        "true_pairs": true_pairs,
        "name_only_pairs": true_pairs - with_evidence if groups else None,
        "recall_with_evidence": found_with_evidence / max(with_evidence, 1) if groups else None,
        "missed_by_variation": missed.most_common(8),
        "wrong_merges_by_tag": wrong_kinds.most_common(5),
    }


def _run_command(path: str, queue: Any) -> None:
    """``find_in_file`` on the written file, in its own process (its own time and memory)."""
    from cli.duplicates import find_in_file

    warm = Path(path).with_name("warm.csv")
    warm.write_text("".join(Path(path).read_text(encoding="utf-8").splitlines(keepends=True)[:50]), encoding="utf-8")
    find_in_file(warm)  # imports (numpy, rapidfuzz, the header aliases) out of the timing
    wall, cpu = time.perf_counter(), time.process_time()
    result = find_in_file(Path(path))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"pairs": result["pairs"], "records": result["records"], "seconds": wall, "cpu": cpu, "peak_mb": peak})


def measure_outsider(size: int, workdir: Path, seed: int = MEASURE_SEED) -> dict[str, Any]:
    path = workdir / f"outsider_{size}_{seed}.csv"
    write_outsider(path, size, seed)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run_command, args=(str(path), queue))
    proc.start()
    run: dict[str, Any] = queue.get()
    proc.join()
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    figures = score_pairs(run["pairs"], read_labels(path), rows)
    figures.update(seconds=run["seconds"], cpu=run["cpu"], peak_mb=run["peak_mb"], records=run["records"])
    return figures


def _row(label: str, f: dict[str, Any]) -> str:
    return (
        f"  {label:34s} P {f['precision']:.4f}  R {f['recall']:.4f}  review {f['review']:6.2%}"
        f" (giuste {f['review_precision']:.2f})  {f['seconds']:6.1f} s  CPU {f['cpu']:6.1f} s"
        f"  picco {f['peak_mb']:4.0f} MB"
    )


def _goals(f: dict[str, Any], size: int) -> str:
    missed = [k for k in ("precision", "recall") if f[k] < GOALS[k]]
    missed += ["review"] if f["review"] > GOALS["review"] else []
    missed += ["review_precision"] if f["review"] and f["review_precision"] < GOALS["review_precision"] else []
    missed += ["seconds"] if size >= 100_000 and f["seconds"] > GOALS["seconds"] else []
    missed += ["memory"] if f["peak_mb"] > 1024 else []
    return "OK" if not missed else "NON RAGGIUNTI: " + ", ".join(missed)


def train(size: int = 30_000) -> None:
    """m/u on the project's training set plus the outsider's training seed (never the measured one)."""
    from bench.bench_dedup import TRAIN_SEED as PROJECT_SEED
    from bench.bench_dedup import _independent, fit_and_write
    from cli.duplicates import _read
    from tasks.matching.dedup_pairs import PersonRecord

    records, _ = _independent(size, PROJECT_SEED)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.csv"
        write_outsider(path, size, TRAIN_SEED)
        theirs, _ids = _read(path)
    records = [*records, *(PersonRecord(**{**_fields(r), "key": f"o{r.key}"}) for r in theirs)]
    fit_and_write(
        records,
        600_000,
        "# Trained by `python -m bench.bench_dedup_outsider --train`: u on random pairs, m by EM on\n"
        f"# the unlabelled blocked pairs of {size:,} referrals of bench/dedup_sets.py (seed {PROJECT_SEED})\n"
        f"# and {size:,} of bench/dedup_outsider.py (seed {TRAIN_SEED}; the benches measure other seeds);\n",
    )


def _fields(r: Any) -> dict[str, Any]:
    return {k: getattr(r, k) for k in r.__slots__}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="3000,100000")
    parser.add_argument("--no-project", action="store_true", help="only the outsider set")
    parser.add_argument("--train", action="store_true", help="retrain config/dedup_model.yaml and stop")
    parser.add_argument("--keep", type=Path, help="write the files here instead of a temporary folder")
    parser.add_argument(
        "--seed",
        type=int,
        default=MEASURE_SEED,
        help=f"the outsider set's seed (default {MEASURE_SEED}; never {TRAIN_SEED})",
    )
    args = parser.parse_args(argv)
    if args.seed == TRAIN_SEED:
        parser.error(f"seed {TRAIN_SEED} trains the model: measure another")
    if args.train:
        train()
        return
    from bench.bench_dedup import measure

    print(f"{os.cpu_count()} core; obiettivi: P ≥ 0.99, R ≥ 0.95, review ≤ 5 % (≥ 1/3 giuste), 100k ≤ 30 s, ≤ 1 GB")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"{size:,} segnalazioni")
            f = measure_outsider(size, workdir, args.seed)
            print(_row(f"esterno (incontro duplicates, seme {args.seed})", f))
            print(f"  {'obiettivi':34s} {_goals(f, size)}")
            print(
                f"  {'coppie vere':34s} {f['true_pairs']}, di cui {f['name_only_pairs']} con in comune solo il nome;"
                f" R sulle altre {f['recall_with_evidence']:.4f}"
            )
            print(f"  {'perse per variazione':34s} {f['missed_by_variation']}")
            print(f"  {'unioni sbagliate per tipo':34s} {f['wrong_merges_by_tag']}")
            if not args.no_project:
                print(
                    _row("progetto (bench_dedup, independent)", measure("independent", "Fellegi-Sunter + regole", size))
                )


if __name__ == "__main__":
    main()
