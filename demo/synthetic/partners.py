"""Partner referral files shaped like what partners really send: an XLSX with a title block, a UTF-8
CSV with Ukrainian names in Cyrillic, an Excel "CSV UTF-8" with BOM, Italian Excel CSVs (cp1252,
``;``, CRLF); people referred twice with realistic variation and a few deliberately broken rows,
each recorded in a :class:`ReferralFileSpec` so tests and the demo know what the importer should do.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from demo.synthetic.common import (
    REFERENCE_DATE,
    ascii_fold,
    save_workbook_deterministic,
    sub_rng,
    weighted,
    write_csv,
)
from demo.synthetic.names import LATIN_NAME_VARIANTS
from demo.synthetic.people import SyntheticPerson, format_phone, italian_job_text
from demo.synthetic.taxcodes import corrupt_check_char

CARITAS_TITLE = "Caritas Diocesana Bergamasca - Segnalazioni"

REFERRAL_HEADERS: tuple[str, ...] = (
    "Cognome",
    "Nome",
    "Data di nascita",
    "Sesso",
    "Luogo di nascita",
    "Cittadinanza",
    "Codice fiscale",
    "Cellulare",
    "E-mail",
    "Comune di residenza",
    "Lingue parlate",
    "Titolo di studio",
    "Esperienze",
    "Patente",
    "Livello italiano",
    "Consenso privacy",
    "Consenso Confindustria",
)

# File formats a partner may send.
FMT_XLSX = "xlsx"
FMT_CSV_CP1252 = "csv_cp1252"
FMT_CSV_UTF8_BOM = "csv_utf8_bom"
FMT_CSV_CYRILLIC = "csv_utf8_cyrillic"

UNKNOWN_MUNICIPALITIES: tuple[str, ...] = (
    "Roccacannuccia",
    "Borgo Fantasma",
    "Vattelapesca",
    "Cittanova del Serio",
)

BAD_KINDS: tuple[str, ...] = (
    "invalid_date",
    "cf_checksum",
    "missing_surname",
    "invalid_email",
    "unknown_municipality",
)


@dataclass
class RowSpec:
    """One data row as written, so tests and the demo can check what the importer should do with it."""

    row_number: int
    line: int
    person_key: str
    written_family_name: str
    written_given_names: str
    variations: list[str] = field(default_factory=list)
    bad_reason: str | None = None
    duplicate: bool = False


@dataclass
class ExpectedDuplicate:
    """A row whose person was also referred by another partner."""

    person_key: str
    row_number: int
    other_referrer: str
    other_path: Path
    other_row_number: int
    variations: list[str]


@dataclass
class BadRow:
    """A row the importer is expected to reject, and why."""

    row_number: int
    line: int
    person_key: str
    reason: str


@dataclass
class ReferralFileSpec:
    """What one partner file contains: enough to assert importer behaviour end to end."""

    path: Path
    referrer: str
    file_format: str
    encoding: str
    delimiter: str | None
    newline: str | None
    header_row: int
    rows_written: int
    rows: list[RowSpec] = field(default_factory=list)
    expected_duplicates: list[ExpectedDuplicate] = field(default_factory=list)
    expected_bad: list[BadRow] = field(default_factory=list)


def _typo(text: str, rng: random.Random) -> str:
    """One realistic keyboard slip in the longest word."""
    words = text.split(" ")
    idx = max(range(len(words)), key=lambda i: len(words[i]))
    w = words[idx]
    if len(w) < 4:
        return text + text[-1]
    op = rng.randrange(3)
    pos = rng.randint(1, len(w) - 3)
    if op == 0 and w[pos] != w[pos + 1]:
        w = w[:pos] + w[pos + 1] + w[pos] + w[pos + 2 :]
    elif op == 1:
        w = w[:pos] + w[pos + 1 :]
    else:
        w = w[:pos] + w[pos] + w[pos:]
    words[idx] = w
    return " ".join(words)


def _latin_variant(name: str, rng: random.Random) -> str | None:
    """A plausible alternative spelling of a non-Cyrillic name, if one exists."""
    if name in LATIN_NAME_VARIANTS:
        return rng.choice(LATIN_NAME_VARIANTS[name])
    parts = name.split(" ")
    for i, p in enumerate(parts):
        if p in LATIN_NAME_VARIANTS:
            parts[i] = rng.choice(LATIN_NAME_VARIANTS[p])
            return " ".join(parts)
    if ascii_fold(name) != name:
        return ascii_fold(name)
    if len(parts) == 2 and rng.random() < 0.5:  # Latin American double surname: only the first
        return parts[0]
    return None


@dataclass
class _Placement:
    """Internal: one person placed in one partner file."""

    person: SyntheticPerson
    referrer: str
    variations: list[str] = field(default_factory=list)
    bad_reason: str | None = None
    duplicate: bool = False
    phone_style: int = 0
    family: str = ""
    given: str = ""
    swapped: bool = False
    missing_birth: bool = False
    missing_cf: bool = False
    row_number: int = 0


def _default_formats(referrers: Sequence[str]) -> dict[str, str]:
    order = (FMT_XLSX, FMT_CSV_CYRILLIC, FMT_CSV_UTF8_BOM)
    return {r: (order[i] if i < len(order) else FMT_CSV_CP1252) for i, r in enumerate(referrers)}


def _name_for_file(p: _Placement, fmt: str, rng: random.Random) -> None:
    """Choose the written name: Cyrillic where the partner types Cyrillic, Latin otherwise."""
    person = p.person
    if fmt == FMT_CSV_CYRILLIC and person.is_ukrainian:
        p.family, p.given = person.native_family_name, person.native_given_names
        p.variations.append("cyrillic")
    else:
        p.family, p.given = person.family_name, person.given_names


def _apply_name_variation(p: _Placement, kind: str, rng: random.Random) -> None:
    person = p.person
    if kind == "transliteration":
        if "cyrillic" in p.variations:
            return  # the other script already is the variation
        if person.is_ukrainian:
            changed = False
            if person.given_name_variants and rng.random() < 0.75:
                p.given = rng.choice(person.given_name_variants)
                changed = True
            if person.family_name_variants and (not changed or rng.random() < 0.4):
                p.family = rng.choice(person.family_name_variants)
                changed = True
            if changed:
                p.variations.append("transliteration")
                return
        else:
            target = rng.choice(("given", "family"))
            for which in (target, "family" if target == "given" else "given"):
                current = p.given if which == "given" else p.family
                alt = _latin_variant(current, rng)
                if alt and alt != current:
                    if which == "given":
                        p.given = alt
                    else:
                        p.family = alt
                    p.variations.append("transliteration")
                    return
        kind = "typo"
    if kind == "typo":
        p.family = _typo(p.family, rng)
        p.variations.append("typo")
    elif kind == "swapped":
        p.swapped = True
        p.variations.append("swapped_names")


def _row_values(p: _Placement, fmt: str, ref: date, rng: random.Random, style: dict[str, Any]) -> list[Any]:
    person = p.person
    cp1252 = fmt == FMT_CSV_CP1252
    family, given = (p.given, p.family) if p.swapped else (p.family, p.given)
    if style.get("upper_surname"):
        family = family.upper()
    birth: Any
    if p.missing_birth:
        birth = ""
    elif p.bad_reason == "invalid_date":
        birth = f"31/02/{person.birth_date.year}"
    elif fmt == FMT_XLSX:
        birth = person.birth_date
    else:
        birth = person.birth_date.strftime("%d/%m/%Y")
    code = "" if p.missing_cf else person.codice_fiscale
    if p.bad_reason == "cf_checksum":
        code = corrupt_check_char(person.codice_fiscale)
    if p.bad_reason == "missing_surname":
        family = ""
    email = person.email or ""
    if p.bad_reason == "invalid_email":
        email = ascii_fold(person.given_names.split()[0]).lower() + "@"
    municipality = person.municipality
    if p.bad_reason == "unknown_municipality":
        municipality = rng.choice(UNKNOWN_MUNICIPALITIES)
    experiences = [(italian_job_text(e, person.sex) if cp1252 else e) for e in person.experiences]
    licence = person.driving_licence
    if licence == "nessuna":
        licence = style.get("no_licence", "nessuna")
    values: list[Any] = [
        family,
        given,
        birth,
        person.sex,
        person.birth_place,
        person.citizenship,
        code,
        format_phone(person.phone, p.phone_style),
        email,
        municipality,
        ", ".join(person.languages),
        person.education,
        ", ".join(experiences),
        licence,
        person.italian_self_level,
        "SI" if (person.consent_privacy and person.consent_cpi) else "NO",
        "SI" if person.consent_confindustria else "NO",
    ]
    if cp1252:
        values = [v if not isinstance(v, str) or _cp1252_ok(v) else ascii_fold(v) for v in values]
    return values


def _cp1252_ok(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _write_referral_xlsx(path: Path, rows: list[list[Any]], title: str, ref: date, referrer: str) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Segnalazioni"
    wb.properties.creator = title.split(" - ")[0]
    wb.properties.title = title
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(REFERRAL_HEADERS))
    ws.cell(
        row=2,
        column=1,
        value=f"Estrazione del {ref:%d/%m/%Y} - Centro di Ascolto ({referrer})",
    )
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(REFERRAL_HEADERS))
    for c, h in enumerate(REFERRAL_HEADERS, start=1):
        ws.cell(row=3, column=c, value=h).font = Font(bold=True)
    for r, values in enumerate(rows, start=4):
        for c, v in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c, value=(v if v != "" else None))
            if isinstance(v, date):
                cell.number_format = "DD/MM/YYYY"
    widths = (18, 18, 13, 6, 16, 14, 19, 18, 30, 22, 26, 22, 40, 9, 10, 10, 12)
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=3, column=c).column_letter].width = w
    ws.freeze_panes = "A4"
    save_workbook_deterministic(wb, path)


def generate_referral_files(
    people: list[SyntheticPerson],
    referrers: list[str],
    out_dir: Path,
    seed: int,
    duplicates: int = 25,
    *,
    formats: Mapping[str, str] | None = None,
    reference_date: date = REFERENCE_DATE,
    xlsx_title: str = CARITAS_TITLE,
    bad_share: float = 0.03,
) -> list[ReferralFileSpec]:
    """Write one file per referring partner, shaped like what partners really send.

    Default formats by position: 1st referrer XLSX with a title block, 2nd a UTF-8 CSV
    with Ukrainian names in Cyrillic, 3rd an Excel "CSV UTF-8" (BOM), the rest Italian
    Excel CSVs (cp1252, ``;``, CRLF). ``duplicates`` people are referred by two different
    partners with realistic variation; about ``bad_share`` of rows are deliberately broken.
    """
    if not referrers:
        raise ValueError("at least one referrer is needed")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = sub_rng(seed, "referrals")
    fmt_by_ref = dict(formats) if formats is not None else _default_formats(referrers)
    for r in referrers:
        fmt_by_ref.setdefault(r, FMT_CSV_CP1252)
    cyr_refs = [r for r in referrers if fmt_by_ref[r] == FMT_CSV_CYRILLIC]

    # Primary referrer: Ukrainians gravitate to the partner that writes Cyrillic.
    placements: list[_Placement] = []
    for person in people:
        weights = [(r, (3.0 if person.is_ukrainian else 0.4) if r in cyr_refs else 1.0) for r in referrers]
        placements.append(_Placement(person=person, referrer=weighted(rng, weights)))
    # Make sure every referrer has at least one row.
    for i, r in enumerate(referrers):
        if not any(p.referrer == r for p in placements) and len(placements) > i:
            placements[i].referrer = r

    # Duplicates: same person, a different partner.
    dup_pairs: list[tuple[_Placement, _Placement]] = []
    if len(referrers) >= 2:
        candidates = list(range(len(placements)))
        rng.shuffle(candidates)
        for idx in candidates[: min(duplicates, len(placements))]:
            first = placements[idx]
            second = _Placement(
                person=first.person,
                referrer=rng.choice([r for r in referrers if r != first.referrer]),
            )
            first.duplicate = second.duplicate = True
            dup_pairs.append((first, second))

    all_placements = placements + [b for _, b in dup_pairs]
    for p in all_placements:
        p.phone_style = rng.randrange(6)
        _name_for_file(p, fmt_by_ref[p.referrer], rng)

    # Non-duplicate Ukrainians in Latin files: a few carry an old-passport spelling.
    for p in placements:
        if not p.duplicate and p.person.is_ukrainian and "cyrillic" not in p.variations and rng.random() < 0.1:
            _apply_name_variation(p, "transliteration", rng)

    for first, second in dup_pairs:
        second.phone_style = (first.phone_style + rng.randint(1, 3)) % 6
        second.variations.append("phone_format")
        kind = weighted(rng, [("transliteration", 0.45), ("typo", 0.25), ("swapped", 0.3)])
        _apply_name_variation(second, kind, rng)
        missing = weighted(rng, [(None, 0.45), ("birth", 0.25), ("cf", 0.3)])
        target = first if rng.random() < 0.4 else second
        if missing == "birth":
            target.missing_birth = True
            target.variations.append("missing_birth_date")
        elif missing == "cf":
            target.missing_cf = True
            target.variations.append("missing_codice_fiscale")

    # Deliberately bad rows, only among people referred once so expectations stay unambiguous.
    total = len(all_placements)
    n_bad = round(bad_share * total)
    singles = [p for p in placements if not p.duplicate]
    rng.shuffle(singles)
    for k, p in enumerate(singles[:n_bad]):
        reason = BAD_KINDS[k % len(BAD_KINDS)]
        if reason == "cf_checksum" and p.person.cf_temporary:
            reason = "invalid_date"
        p.bad_reason = reason

    specs: list[ReferralFileSpec] = []
    by_ref: dict[str, list[_Placement]] = {r: [] for r in referrers}
    for p in all_placements:
        by_ref[p.referrer].append(p)
    paths: dict[str, Path] = {}
    for i, r in enumerate(referrers):
        ext = "xlsx" if fmt_by_ref[r] == FMT_XLSX else "csv"
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in r)
        paths[r] = out_dir / f"segnalazioni_{i + 1:02d}_{safe}.{ext}"

    for i, r in enumerate(referrers):
        fmt = fmt_by_ref[r]
        file_rows = by_ref[r]
        if not file_rows:
            continue
        rng.shuffle(file_rows)
        style = {
            "upper_surname": fmt == FMT_CSV_CP1252 and i % 2 == 1,
            "no_licence": "NO" if fmt == FMT_CSV_CP1252 and i % 3 == 2 else "nessuna",
        }
        header_row = 3 if fmt == FMT_XLSX else 1
        values = []
        for n, p in enumerate(file_rows, start=1):
            p.row_number = n
            values.append(_row_values(p, fmt, reference_date, rng, style))
        if fmt == FMT_XLSX:
            _write_referral_xlsx(paths[r], values, xlsx_title, reference_date, r)
            spec = ReferralFileSpec(paths[r], r, fmt, "xlsx", None, None, header_row, len(values))
        elif fmt == FMT_CSV_CYRILLIC:
            write_csv(paths[r], REFERRAL_HEADERS, values, encoding="utf-8", delimiter=",", newline="\n")
            spec = ReferralFileSpec(paths[r], r, fmt, "utf-8", ",", "\n", header_row, len(values))
        elif fmt == FMT_CSV_UTF8_BOM:
            write_csv(paths[r], REFERRAL_HEADERS, values, encoding="utf-8-sig", delimiter=";", newline="\r\n")
            spec = ReferralFileSpec(paths[r], r, fmt, "utf-8-sig", ";", "\r\n", header_row, len(values))
        else:
            write_csv(paths[r], REFERRAL_HEADERS, values, encoding="cp1252", delimiter=";", newline="\r\n")
            spec = ReferralFileSpec(paths[r], r, fmt, "cp1252", ";", "\r\n", header_row, len(values))
        for p, v in zip(file_rows, values, strict=True):
            row = RowSpec(
                row_number=p.row_number,
                line=header_row + p.row_number,
                person_key=p.person.key,
                written_family_name=str(v[0]) if not p.swapped else str(v[1]),
                written_given_names=str(v[1]) if not p.swapped else str(v[0]),
                variations=list(p.variations),
                bad_reason=p.bad_reason,
                duplicate=p.duplicate,
            )
            spec.rows.append(row)
            if p.bad_reason:
                spec.expected_bad.append(BadRow(p.row_number, row.line, p.person.key, p.bad_reason))
        specs.append(spec)

    spec_by_ref = {s.referrer: s for s in specs}
    for first, second in dup_pairs:
        for a, b in ((first, second), (second, first)):
            spec_by_ref[a.referrer].expected_duplicates.append(
                ExpectedDuplicate(
                    person_key=a.person.key,
                    row_number=a.row_number,
                    other_referrer=b.referrer,
                    other_path=paths[b.referrer],
                    other_row_number=b.row_number,
                    variations=list(a.variations),
                )
            )
    for s in specs:
        s.expected_duplicates.sort(key=lambda d: d.row_number)
        s.expected_bad.sort(key=lambda b: b.row_number)
    return specs
