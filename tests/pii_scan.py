"""The PII scanner: does any identifier of the application database appear where Prefect keeps things?

It collects every identifier of every person in the app database (names as written - Latin or
Cyrillic - and transliterated, alone and together; birth dates ISO and dd/mm/yyyy; codici
fiscali; phones in E.164 and national format; emails; see ``tasks.privacy.identifiers.identifier_strings``)
and searches:

- every table of every SQLite database under ``PREFECT_HOME`` (flow runs, parameters, states,
  logs, artifacts, events, run inputs, variables...), each row as text;
- result storage (``PREFECT_HOME/storage`` and any other local result directories given): each
  file as text, base64-decoded, and unpickled when it is a pickled result;
- the process logs in ``var/logs/*.log`` - except ``var/logs/app.log``, the application's own
  private log (``tasks.runtime.steps.private_log``): like the database, it may quote rows, and it never
  leaves the application side.

Text is compared case-insensitively after undoing JSON ``\\uXXXX`` escapes, HTML entities and
base64 wrapping. Single words (a given name, a tax code, a phone's national digits) count only
as whole words; longer identifiers as substrings bounded by non-word characters. Name parts
shorter than three letters are not searched for.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import html
import json
import pickle
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel, select

import models.tables  # noqa: F401 - every table registered on SQLModel.metadata
from models.people import Person
from tasks.privacy.identifiers import identifier_strings

PRIVATE_LOGS = frozenset({"app.log"})
_WORD = re.compile(r"\w+")
_SINGLE = re.compile(r"^\w+$")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")


@dataclass(frozen=True)
class Needle:
    """One identifier to look for; ``person_id`` says whose (the value is not printed)."""

    value: str
    kind: str
    person_id: int | None

    def __repr__(self) -> str:
        return f"Needle({self.kind}, person {self.person_id})"


@dataclass(frozen=True)
class Hit:
    needle: Needle
    where: str

    def __str__(self) -> str:
        return f"{self.needle.kind} of person {self.needle.person_id} in {self.where}"


@dataclass
class ScanReport:
    needles: int = 0
    scanned: dict[str, int] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"{len(self.hits)} hits for {self.needles} identifiers in {self.scanned}"]
        return "\n".join(lines + [f"  {h}" for h in self.hits[:50]])


def _kind(value: str, person: Person) -> str:
    v = value.casefold()
    if person.email and v == person.email.casefold():
        return "email"
    if person.codice_fiscale and v == person.codice_fiscale.casefold():
        return "codice_fiscale"
    if person.birth_date and value in (person.birth_date.isoformat(), person.birth_date.strftime("%d/%m/%Y")):
        return "birth_date"
    if re.fullmatch(r"[+\d ()-]+", value):
        return "phone"
    return "name"


def collect_identifiers(session: Session) -> list[Needle]:
    """Every identifier of every (non-erased) person in the application database."""
    needles: set[Needle] = set()
    for person in session.exec(select(Person)).all():
        for value in identifier_strings(person):
            needles.add(Needle(value=html.unescape(value).casefold(), kind=_kind(value, person), person_id=person.id))
    return sorted(needles, key=lambda n: (n.person_id or 0, n.kind, n.value))


# --------------------------------------------------------------------------------------------
# Text extraction


def _decode_text(text: str) -> str:
    """Undo JSON unicode escapes and HTML entities, then casefold."""
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)
    return html.unescape(text).casefold()


def _base64_parts(text: str) -> Iterator[bytes]:
    for match in _BASE64.finditer(text):
        chunk = match[0]
        try:
            yield base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=False)
        except (binascii.Error, ValueError):
            continue


def flatten(obj: Any, depth: int = 0) -> Iterator[str]:
    """Every leaf of a result as text (dates in both ISO and dd/mm/yyyy)."""
    if depth > 30:
        return
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, bytes):
        yield obj.decode("utf-8", "ignore")
    elif isinstance(obj, datetime | date):
        yield obj.isoformat()
        yield obj.strftime("%d/%m/%Y")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from flatten(k, depth + 1)
            yield from flatten(v, depth + 1)
    elif isinstance(obj, list | tuple | set | frozenset):
        for v in obj:
            yield from flatten(v, depth + 1)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        yield from flatten(dataclasses.asdict(obj), depth + 1)
    elif hasattr(obj, "model_dump"):
        try:
            yield from flatten(obj.model_dump(), depth + 1)
        except Exception:
            yield repr(obj)
    elif hasattr(obj, "__dict__"):
        yield from flatten(vars(obj), depth + 1)
    else:
        yield str(obj)


def _bytes_texts(data: bytes) -> Iterator[str]:
    """A stored blob as text: raw, JSON-flattened, base64-decoded and unpickled where it applies."""
    raw = data.decode("utf-8", "ignore")
    yield raw
    payloads = [data]
    try:
        payloads.append(base64.b64decode(data.strip(), validate=True))
    except (binascii.Error, ValueError):
        pass
    try:
        loaded = json.loads(raw)
    except ValueError:
        loaded = None
    if loaded is not None:
        yield from flatten(loaded)
        for text in flatten(loaded):
            payloads.extend(_base64_parts(text))
    for payload in payloads[1:]:
        yield payload.decode("utf-8", "ignore")
    for payload in payloads:
        if payload[:1] == b"\x80":  # a pickle: our own result files, written by this test run
            try:
                yield from flatten(pickle.loads(payload))
            except Exception:
                continue


def _row_text(values: Iterable[Any]) -> str:
    parts: list[str] = []
    for value in values:
        if value is None:
            continue
        if isinstance(value, bytes):
            parts.extend(_bytes_texts(value))
            continue
        text = str(value)
        parts.append(text)
        parts.extend(p.decode("utf-8", "ignore") for p in _base64_parts(text))
    return "\t".join(parts)


def prefect_db_rows(prefect_home: Path) -> Iterator[tuple[str, str]]:
    """(location, text) of every row of every table of every SQLite file under ``prefect_home``."""
    for path in sorted(prefect_home.rglob("*.db")):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                for n, row in enumerate(conn.execute(f'SELECT * FROM "{table}"')):
                    yield f"{path.name}:{table}#{n}", _row_text(row)
        finally:
            conn.close()


def storage_files(dirs: Iterable[Path]) -> Iterator[tuple[str, str]]:
    seen: set[Path] = set()
    for d in dirs:
        if not d.is_dir():
            continue
        for path in sorted(p for p in d.rglob("*") if p.is_file()):
            if path.resolve() in seen or path.suffix in (".db", ".db-wal", ".db-shm", ".log"):
                continue
            seen.add(path.resolve())
            yield f"storage:{path.name}", "\t".join(_bytes_texts(path.read_bytes()))


def log_lines(log_dir: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(log_dir.glob("*.log")):
        if path.name in PRIVATE_LOGS:
            continue
        with path.open(encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                yield f"logs/{path.name}:{n}", line


# --------------------------------------------------------------------------------------------
# Matching


class _Matcher:
    """Whole-word lookups through a word index; a longer identifier is tried (bounded substring
    search) only in text holding its longest word, so the cost follows the text, not the needles."""

    def __init__(self, needles: list[Needle]) -> None:
        self.words: dict[str, list[Needle]] = {}
        self.phrases: dict[str, list[tuple[Needle, re.Pattern[str]]]] = {}
        for n in needles:
            if _SINGLE.match(n.value):
                self.words.setdefault(n.value, []).append(n)
                continue
            tokens = _WORD.findall(n.value) or [n.value]
            pattern = re.compile(rf"(?<!\w){re.escape(n.value)}(?!\w)")
            self.phrases.setdefault(max(tokens, key=len), []).append((n, pattern))

    def search(self, where: str, text: str) -> list[Hit]:
        text = _decode_text(text)
        words = set(_WORD.findall(text))
        hits = [Hit(n, where) for w in words for n in self.words.get(w, ())]
        for w in words:
            hits += [Hit(n, where) for n, pattern in self.phrases.get(w, ()) if pattern.search(text)]
        return hits


def app_db_rows(session: Session) -> Iterator[tuple[str, str]]:
    """(location, text) of every row of every application table (JSON columns as written)."""
    for table in SQLModel.metadata.sorted_tables:
        for n, row in enumerate(session.execute(table.select())):
            values = (json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, dict | list) else v for v in row)
            yield f"app:{table.name}#{n}", _row_text(values)


def search(needles: list[Needle], items: Iterable[tuple[str, str]]) -> list[Hit]:
    """Every hit of ``needles`` in ``(location, text)`` pairs."""
    matcher = _Matcher(needles)
    return [hit for where, text in items for hit in matcher.search(where, text)]


def _coolname_words() -> frozenset[str]:
    import coolname.data

    return frozenset(
        w.casefold() for part in coolname.data.config.values() if part.get("type") == "words" for w in part["words"]
    )


def _generated_run_names(prefect_home: Path) -> re.Pattern[str] | None:
    """The run names Prefect made up (``precious-kagu``: coolname's adjectives and animals, as
    ``prefect.utilities.names.generate_slug``), as one pattern. They are masked before the search:
    a made-up word that is also somebody's name ("Precious") is no identifier of that person."""
    words = _coolname_words()
    names: set[str] = set()
    for path in sorted(prefect_home.rglob("*.db")):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            for table in {"flow_run", "task_run"} & tables:
                for (name,) in conn.execute(f'SELECT name FROM "{table}"'):
                    parts = str(name or "").split("-")
                    if len(parts) >= 2 and all(p in words for p in parts):
                        names.add(str(name).casefold())
        finally:
            conn.close()
    if not names:
        return None
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)), re.IGNORECASE)


def scan(
    needles: list[Needle],
    *,
    prefect_home: Path,
    storage_dirs: Iterable[Path] = (),
    log_dir: Path | None = None,
) -> ScanReport:
    """Search the Prefect database, result storage and process logs for ``needles``."""
    matcher = _Matcher(needles)
    report = ScanReport(needles=len(needles))
    generated = _generated_run_names(prefect_home)
    sources: dict[str, Iterator[tuple[str, str]]] = {
        "prefect_db_rows": prefect_db_rows(prefect_home),
        "storage_files": storage_files([prefect_home / "storage", *storage_dirs]),
    }
    if log_dir is not None:
        sources["log_lines"] = log_lines(log_dir)
    for name, items in sources.items():
        count = 0
        for where, text in items:
            count += 1
            report.hits.extend(matcher.search(where, generated.sub("<run>", text) if generated else text))
        report.scanned[name] = count
    return report
