"""``incontro duplicates FILE [--json]``: the duplicate search on one referral file, writing nothing.

The file is read like the import reads it (``tasks.files.tabular.open_table``: CSV, XLSX, JSON,
the header aliases of ``config/columns.yaml`` in Italian, English and Ukrainian), every row is
compared with the earlier rows by ``tasks.matching.dedup.find_duplicates``, and each pair that
would be merged or sent to review is printed with its score and the Italian explanation.
Records are named by the file's ``record_id`` column (``id``, ``id segnalazione`` …) when there
is one, else by their row number: never by a name, so the output can be pasted in a ticket.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from cli.main import out

#: Headers (folded: lowercase, no punctuation) that name the partner's own record id.
ID_HEADERS = frozenset(
    {"record id", "id", "record", "id record", "id segnalazione", "codice segnalazione", "n segnalazione"}
)
REQUIRED = ("family_name", "given_names")
BANDS = {"merge": "stessa persona", "review": "da verificare"}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "duplicates", help="cerca i doppioni in un file di segnalazioni / find duplicates in a referral file"
    )
    p.add_argument("file", help="il file di segnalazioni (CSV, XLSX, JSON)")
    p.add_argument("--json", action="store_true", help="risultato in JSON")
    p.set_defaults(fn=cmd_duplicates)


def cmd_duplicates(args: argparse.Namespace) -> int:
    """Print the pairs; exit 0 when the file could be read, 1 when it could not."""
    from tasks.files.tabular import FileRejected

    path = Path(args.file)
    if not path.is_file():
        sys.stderr.write(f"errore: file {args.file} non trovato\n")
        return 2
    try:
        result = find_in_file(path)
    except FileRejected as exc:
        sys.stderr.write(f"errore: {exc}\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_text(path.name, result)
    return 0


def find_in_file(path: Path) -> dict[str, Any]:
    """``{"records": int, "pairs": [{"a", "b", "band", "score", "why"}]}``, ``a`` the earlier record."""
    from config.data import load_routing
    from tasks.matching.dedup import DedupThresholds, find_duplicates

    records, ids = _read(path)
    rules = load_routing().dedup  # the import's own thresholds: the same verdict
    decisions = find_duplicates(records, [], DedupThresholds(rules.merge_threshold, rules.review_threshold))
    pairs = [
        {"a": ids[d.match_key], "b": ids[d.new_key], "band": d.band, "score": d.score, "why": d.why}
        for d in decisions
        if d.band in BANDS and d.match_key is not None
    ]
    return {"records": len(records), "pairs": pairs}


def _read(path: Path) -> tuple[list[Any], dict[str, str | int]]:
    from tasks.files.headers import fold_header
    from tasks.files.tabular import open_table, parse_date
    from tasks.matching.dedup import PersonRecord

    records: list[PersonRecord] = []
    ids: dict[str, str | int] = {}
    with open_table(path, "referral", required=REQUIRED) as (layout, rows):
        id_col = next(
            (i for i, h in enumerate(layout.headers) if h and i not in layout.mapping and fold_header(h) in ID_HEADERS),
            None,
        )
        for number, cells in rows:
            raw = layout.record(cells)
            own = _text(cells[id_col]) if id_col is not None and id_col < len(cells) else ""
            key = f"r{number}"
            ids[key] = own or number
            records.append(
                PersonRecord(
                    key=key,
                    family_name=_text(raw.get("family_name")),
                    given_names=_text(raw.get("given_names")),
                    birth_date=_date(raw.get("birth_date"), parse_date),
                    codice_fiscale=_text(raw.get("codice_fiscale")) or None,
                    phone=_text(raw.get("phone")) or None,
                    email=_text(raw.get("email")) or None,
                    municipality=_text(raw.get("municipality")) or None,
                )
            )
    return records, ids


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value: Any, parse: Any) -> Any:
    """A birth date as the import reads it; an unreadable one counts as missing. Only comparing,
    not storing: a month-first date that cannot be day-first (12/30/2005, an English-language
    form) is read as such here, where the import refuses the row and asks the partner."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse(value, past=True)
    except ValueError:
        pass
    if isinstance(value, str) and (m := _MONTH_FIRST.fullmatch(value.strip())) and int(m[2]) > 12:
        try:
            return parse(f"{m[2]}/{m[1]}/{m[3]}", past=True)
        except ValueError:
            return None
    return None


_MONTH_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def _print_text(name: str, result: dict[str, Any]) -> None:
    pairs = result["pairs"]
    merges = sum(p["band"] == "merge" for p in pairs)
    out(
        f"{name}: {result['records']} segnalazioni, {merges} doppioni da unire, "
        f"{len(pairs) - merges} coppie da verificare"
    )
    for p in pairs:
        out(f"  {p['b']} ↔ {p['a']}: {BANDS[p['band']]} (punteggio {p['score']:.1f})")
        out(f"      {p['why']}")
    if not pairs:
        out("  nessun doppione trovato")
