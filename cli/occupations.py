"""``incontro occupations``: the ISCO-08 unit groups the coder proposes for free-text job titles.

The same coder as intake, vacancies and training (``tasks.matching.occupations.default_coder``)
over config/occupations.yaml; nothing is written and Prefect is not involved. Each text gets its
three best candidates; when the coder is unsure (``Coding.to_confirm``) the table says so and
the operator picks among them. ``--json`` prints the stable shape documented in the README.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cli.main import CliError, out


def register(sub: Any) -> None:
    p = sub.add_parser(
        "occupations",
        help="codici ISCO-08 proposti per mansioni scritte a mano / ISCO-08 codes for job titles",
    )
    p.add_argument("texts", nargs="*", metavar="testo", help='una o più mansioni, es. "saldatrice a filo"')
    p.add_argument("--file", help="file di testo UTF-8: una mansione per riga")
    p.add_argument("--json", action="store_true", help="risultato in JSON")
    p.set_defaults(fn=cmd_occupations)


def cmd_occupations(args: argparse.Namespace) -> int:
    """Print the top 3 candidates of every text, as a table or as JSON."""
    try:
        texts = _texts(args.texts, args.file)
    except CliError as exc:
        # Reported here, not by cli.main: under ``python -m cli.main`` that module is
        # ``__main__`` and would not recognise this CliError class.
        sys.stderr.write(f"errore: {exc}\n")
        return 2
    result = code_texts(texts)
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        _table(result)
    return 0


def code_texts(texts: list[str]) -> list[dict[str, Any]]:
    """``[{"text", "candidates": [{"code", "label", "score"}], "to_confirm", "doubt"}]``, one per text,
    in order; ``doubt`` says in Italian why the coder is unsure ("" when sure)."""
    from tasks.matching.occupations import default_coder

    coder = default_coder()
    return [
        {
            "text": text,
            "candidates": [
                {"code": code, "label": coder.label(code, "it"), "score": score} for code, score in coding.candidates
            ],
            "to_confirm": coding.to_confirm,
            "doubt": coding.doubt,
        }
        for text, coding in zip(texts, coder.suggest_many(texts), strict=True)
    ]


def _texts(given: list[str], file: str | None) -> list[str]:
    """The texts of the command line, or every line of the file (blank lines too, so that
    output line N answers input line N; a final newline adds nothing)."""
    if given and file:
        raise CliError("indicare le mansioni sulla riga di comando oppure --file, non entrambi")
    if file is None:
        if not given:
            raise CliError('manca il testo: incontro occupations "saldatore a filo" … oppure --file FILE')
        return list(given)
    path = Path(file)
    if not path.is_file():
        raise CliError(f"file {file} non trovato")
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"il file {file} non è un testo UTF-8; salvarlo come UTF-8 e riprovare") from None
    return [line.strip() for line in content.splitlines()]


def _table(result: list[dict[str, Any]]) -> None:
    """One block per text: the candidates numbered, and whether the operator must choose."""
    unsure = 0
    for item in result:
        cands = item["candidates"]
        if not cands:
            verdict = "nessuna proposta"
        elif item["to_confirm"]:
            verdict = "da confermare: scegliere tra le proposte"
            if item["doubt"]:
                verdict += f" ({item['doubt']})"
            unsure += 1
        else:
            verdict = "proposta sicura"
        out(f"«{item['text']}» — {verdict}")
        for rank, c in enumerate(cands, start=1):
            out(f"  {rank}. {c['code']}  {c['label']:<60.60}  punteggio {c['score']:5.1f}")
    out(f"({len(result)} mansioni, {unsure} da confermare)")
