"""Confindustria's open positions: seeded vacancies, each tied to the occupation it truly is (for
match scoring), and the XLSX their office circulates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from demo.synthetic.common import CEFR_LEVELS, REFERENCE_DATE, save_workbook_deterministic, sub_rng, weighted
from demo.synthetic.jobs import JOB_BY_KEY, job_key_for_occupation

VACANCY_HEADERS: tuple[str, ...] = (
    "Azienda",
    "Mansione",
    "Sede",
    "Requisiti",
    "Livello di italiano",
    "Patente",
    "Tipo contratto",
    "Posti",
    "Scadenza",
)

CONTRACTS: tuple[tuple[str, float], ...] = (
    ("tempo determinato 6 mesi", 0.35),
    ("tempo indeterminato", 0.2),
    ("somministrazione", 0.3),
    ("apprendistato", 0.15),
)


@dataclass
class SyntheticVacancy:
    """One open position as Confindustria lists it, with the occupation code it really is."""

    company: str
    title: str
    occupation_code: str
    job_key: str | None
    site: str
    requirements: list[str]
    italian_level: str
    licence: str
    contract: str
    openings: int
    deadline: date


def generate_vacancies(
    companies: list[str],
    occupation_codes_by_company: Mapping[str, list[str]],
    municipalities: list[str],
    n: int = 40,
    seed: int = 2026,
    *,
    reference_date: date = REFERENCE_DATE,
    occupation_titles: Mapping[str, Sequence[str]] | None = None,
    company_municipalities: Mapping[str, str] | None = None,
) -> list[SyntheticVacancy]:
    """Seeded open positions, each tied to the occupation code it truly is (for match scoring)."""
    if not companies:
        raise ValueError("at least one company is needed")
    rng = sub_rng(seed, "vacancies")
    titles = occupation_titles or {}
    out: list[SyntheticVacancy] = []
    for _ in range(n):
        company = rng.choice(companies)
        codes = list(occupation_codes_by_company.get(company) or [])
        code = rng.choice(codes) if codes else rng.choice(("assembly", "warehouse", "cleaner"))
        job_key = job_key_for_occupation(code)
        job = JOB_BY_KEY.get(job_key) if job_key else None
        if job:
            title = rng.choice(job.vacancy_titles)
            skills = rng.sample(list(job.skills), k=rng.randint(2, len(job.skills)))
            req_rank = CEFR_LEVELS.index(job.italian_req)
        else:
            labels = list(titles.get(code, ()))[:3] or [code.replace("_", " ")]
            label = rng.choice(labels)
            title = label[:1].upper() + label[1:]
            skills = ["esperienza nel ruolo"]
            req_rank = 2
        if rng.random() < 0.3:
            skills.append(
                rng.choice(
                    (
                        "disponibilità su turni",
                        "automunito/a",
                        "puntualità",
                        "lavoro in team",
                    )
                )
            )
        req_rank = min(4, max(1, req_rank + rng.choice((-1, 0, 0, 1))))
        if job and job.key == "driver":
            licence = "C" if "C" in title else "B"
        else:
            licence = "B" if rng.random() < 0.15 else "nessuna"
        home = (company_municipalities or {}).get(company)
        site = home if home and rng.random() < 0.75 else rng.choice(municipalities)
        out.append(
            SyntheticVacancy(
                company=company,
                title=title,
                occupation_code=code,
                job_key=job_key,
                site=site,
                requirements=skills,
                italian_level=CEFR_LEVELS[req_rank],
                licence=licence,
                contract=weighted(rng, CONTRACTS),
                openings=weighted(rng, [(1, 0.4), (2, 0.3), (3, 0.15), (4, 0.1), (5, 0.05)]),
                deadline=reference_date + timedelta(days=rng.randint(30, 92)),
            )
        )
    return out


#: A row the import must refuse twice over: a company that is not a member, openings in words.
BAD_VACANCY_ROW = ("COMP-NON-ASSOCIATA", "Operaio generico", "Bergamo", "", "A2", "B", "tempo determinato", "tanti")


def write_vacancy_file(vacancies: list[SyntheticVacancy], out_path: Path, *, bad_rows: int = 0) -> Path:
    """Confindustria's open positions as the XLSX their office circulates; ``bad_rows`` copies of
    :data:`BAD_VACANCY_ROW` at the end show the error report going back to Confindustria."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Posizioni aperte"
    wb.properties.creator = "Confindustria Bergamo"
    for c, h in enumerate(VACANCY_HEADERS, start=1):
        ws.cell(row=1, column=c, value=h).font = Font(bold=True)
    for r, v in enumerate(vacancies, start=2):
        row: list[Any] = [
            v.company,
            v.title,
            v.site,
            ", ".join(v.requirements),
            v.italian_level,
            v.licence,
            v.contract,
            v.openings,
            v.deadline,
        ]
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
    for r in range(len(vacancies) + 2, len(vacancies) + 2 + bad_rows):
        for c, value in enumerate(BAD_VACANCY_ROW, start=1):
            ws.cell(row=r, column=c, value=value)
    for c, w in enumerate((16, 34, 22, 50, 10, 9, 24, 7, 12), start=1):
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = w
    save_workbook_deterministic(wb, out_path)
    return out_path


def generate_vacancy_file(
    companies: list[str],
    occupation_codes_by_company: dict[str, list[str]],
    municipalities: list[str],
    out_path: Path,
    n: int = 40,
    seed: int = 2026,
    *,
    reference_date: date = REFERENCE_DATE,
    occupation_titles: Mapping[str, Sequence[str]] | None = None,
    company_municipalities: Mapping[str, str] | None = None,
) -> Path:
    """Generate and write the vacancy XLSX (header on row 1, deadlines 1-3 months after reference_date)."""
    vacancies = generate_vacancies(
        companies,
        occupation_codes_by_company,
        municipalities,
        n,
        seed,
        reference_date=reference_date,
        occupation_titles=occupation_titles,
        company_municipalities=company_municipalities,
    )
    return write_vacancy_file(vacancies, out_path)
