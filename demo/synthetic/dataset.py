"""The whole demo input set from config and one seed: people, partner files, the vacancy file, and
the hidden profile behind every referral for the scripted operator (:func:`build_demo_dataset`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from demo.synthetic.common import CONFIG_DIR, REFERENCE_DATE, name_key, norm_label
from demo.synthetic.jobs import ISCO_HINTS, JOB_KINDS, job_key_for_occupation
from demo.synthetic.partners import ReferralFileSpec, generate_referral_files
from demo.synthetic.people import SyntheticPerson, generate_people
from demo.synthetic.vacancies import SyntheticVacancy, generate_vacancies, write_vacancy_file
from models import clock

FALLBACK_MUNICIPALITIES: tuple[str, ...] = (
    "Bergamo",
    "Dalmine",
    "Seriate",
    "Treviglio",
    "Romano di Lombardia",
    "Albino",
    "Alzano Lombardo",
    "Zogno",
    "Clusone",
    "Lovere",
    "Sarnico",
    "Ponte San Pietro",
    "Caravaggio",
    "Grumello del Monte",
    "Trescore Balneario",
    "Stezzano",
    "Osio Sotto",
    "Verdellino",
    "Ciserano",
    "Calcinate",
)


@dataclass
class OperatorProfile:
    """What the scripted operator 'learns' at intake: the hidden truths behind a referral."""

    person: SyntheticPerson
    italian_levels: dict[str, str]
    italian_overall: str
    occupation_codes: list[str]
    experience_keys: list[str]
    driving_licence: str


@dataclass
class DemoDataset:
    """Everything the demo needs, generated from one seed."""

    seed: int
    reference_date: date
    out_dir: Path
    municipalities: list[str]
    referrers: list[str]
    companies: list[str]
    people: list[SyntheticPerson]
    referral_files: list[ReferralFileSpec]
    vacancy_file: Path
    vacancies: list[SyntheticVacancy]
    people_by_key: dict[str, OperatorProfile]
    occupation_code_by_job: dict[str, str]
    _name_index: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _cf_index: dict[str, str] = field(default_factory=dict, repr=False)

    def lookup(
        self,
        family_name: str = "",
        given_names: str = "",
        birth_date: date | None = None,
        codice_fiscale: str | None = None,
    ) -> OperatorProfile | None:
        """Find the hidden profile behind an imported record, whatever spelling the partner used."""
        if codice_fiscale:
            key = self._cf_index.get(codice_fiscale.strip().upper())
            if key:
                return self.people_by_key[key]
        candidates = self._name_index.get(name_key(family_name, given_names), [])
        if birth_date is not None:
            dated = [k for k in candidates if self.people_by_key[k].person.birth_date == birth_date]
            candidates = dated or candidates
        return self.people_by_key[candidates[0]] if candidates else None


def _load_yaml(path: Path) -> Any:
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_municipalities(config_dir: Path = CONFIG_DIR) -> list[str]:
    """Municipality names from offices.yaml (every office's list), falling back to a built-in sample."""
    data = _load_yaml(config_dir / "offices.yaml")
    offices = data.get("offices", []) if isinstance(data, dict) else (data or [])
    names: list[str] = []
    for office in offices:
        for m in (office or {}).get("municipalities", []) or []:
            name = m.get("name") if isinstance(m, dict) else str(m)
            if name and name not in names:
                names.append(name)
    return names or list(FALLBACK_MUNICIPALITIES)


def load_organisations(config_dir: Path = CONFIG_DIR) -> list[dict[str, Any]]:
    """Organisation entries from organisations.yaml, or a small built-in set for standalone use."""
    data = _load_yaml(config_dir / "organisations.yaml")
    orgs = data.get("organisations", []) if isinstance(data, dict) else (data or [])
    if orgs:
        return [o for o in orgs if isinstance(o, dict) and o.get("code")]
    return [
        {
            "code": "CARITAS-BG",
            "kind": "caritas",
            "name": "Caritas Diocesana Bergamasca",
            "municipality": "Bergamo",
        },
        {
            "code": "ASS-UCR",
            "kind": "association",
            "name": "Associazione Ucraini Bergamo",
            "municipality": "Bergamo",
        },
        {
            "code": "CPIA-BG",
            "kind": "cpia",
            "name": "CPIA Bergamo",
            "municipality": "Bergamo",
        },
        {
            "code": "AMBITO-DALMINE",
            "kind": "ambito",
            "name": "Ambito di Dalmine",
            "municipality": "Dalmine",
        },
        {
            "code": "AMBITO-SERIATE",
            "kind": "ambito",
            "name": "Ambito di Seriate",
            "municipality": "Seriate",
        },
        {
            "code": "AZ-METAL",
            "kind": "company",
            "name": "Meccanica Orobica",
            "municipality": "Dalmine",
            "sectors": ["metalmeccanico"],
        },
        {
            "code": "AZ-LOG",
            "kind": "company",
            "name": "Logistica Bergamasca",
            "municipality": "Stezzano",
            "sectors": ["logistica"],
        },
        {
            "code": "AZ-FOOD",
            "kind": "company",
            "name": "Ristorazione Collettiva",
            "municipality": "Bergamo",
            "sectors": ["ristorazione", "pulizie"],
        },
        {
            "code": "AZ-RSA",
            "kind": "company",
            "name": "Cooperativa Sanitaria",
            "municipality": "Seriate",
            "sectors": ["sanità"],
        },
    ]


def load_occupations(config_dir: Path = CONFIG_DIR) -> list[dict[str, Any]]:
    """Occupation entries from occupations.yaml (empty if the file is not there yet)."""
    data = _load_yaml(config_dir / "occupations.yaml")
    occs = data.get("occupations", []) if isinstance(data, dict) else (data or [])
    return [o for o in occs if isinstance(o, dict) and o.get("code")]


def _occupation_labels(occ: Mapping[str, Any]) -> list[str]:
    labels = [str(occ.get(k)) for k in ("it", "en", "uk") if occ.get(k)]
    syn = occ.get("synonyms") or {}
    if isinstance(syn, dict):
        for values in syn.values():
            labels.extend(str(v) for v in values or [])
    elif isinstance(syn, list):
        labels.extend(str(v) for v in syn)
    return labels


def resolve_occupation_codes(occupations: list[dict[str, Any]]) -> dict[str, str]:
    """Catalogue job -> occupation code from occupations.yaml; unmatched jobs keep their own key."""
    known = {str(o["code"]) for o in occupations}
    found: dict[str, str] = {}
    for key, codes in ISCO_HINTS.items():
        hit = next((c for c in codes if c in known), None)
        if hit:
            found[key] = hit
    for occ in occupations:
        job = job_key_for_occupation(str(occ["code"]), _occupation_labels(occ))
        if job and job not in found:
            found[job] = str(occ["code"])
    return {j.key: found.get(j.key, j.key) for j in JOB_KINDS}


def _jobs_for_sectors(sectors: Sequence[str]) -> list[str]:
    words = [norm_label(str(s)) for s in sectors]
    keys = [j.key for j in JOB_KINDS if any(sw in w for w in words for sw in j.sector_words)]
    return keys or ["assembly", "warehouse", "cleaner"]


def _order_referrers(orgs: list[dict[str, Any]], limit: int = 6) -> list[str]:
    """Caritas first (XLSX), a Ukrainian-facing association second (Cyrillic CSV), then CPIA, ambiti, others."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for o in orgs:
        by_kind.setdefault(str(o.get("kind", "")), []).append(o)
    assoc = sorted(
        by_kind.get("association", []),
        key=lambda o: 0 if any(w in norm_label(str(o.get("name", ""))) for w in ("ucrain", "ukrain")) else 1,
    )
    ordered: list[dict[str, Any]] = []
    for group in (
        by_kind.get("caritas", [])[:1],
        assoc[:1],
        by_kind.get("cpia", [])[:1],
        by_kind.get("ambito", []),
        assoc[1:],
        by_kind.get("caritas", [])[1:],
        by_kind.get("cpia", [])[1:],
    ):
        for o in group:
            if o not in ordered:
                ordered.append(o)
    return [str(o["code"]) for o in ordered[:limit]]


def build_demo_dataset(out_dir: Path, seed: int = 2026, n_people: int = 280) -> DemoDataset:
    """Generate the whole demo input set (people, partner files, vacancy file) from config and one seed."""
    municipalities = load_municipalities()
    orgs = load_organisations()
    occupations = load_occupations()
    code_by_job = resolve_occupation_codes(occupations)
    titles = {
        str(o["code"]): [
            *((o.get("synonyms") or {}).get("it") or []),
            str(o.get("it") or o["code"]),
        ]
        for o in occupations
    }
    known_codes = set(titles)

    referrers = _order_referrers(orgs)
    companies_orgs = [o for o in orgs if o.get("kind") == "company"]
    companies = [str(o["code"]) for o in companies_orgs]
    occ_by_company: dict[str, list[str]] = {}
    for o in companies_orgs:
        sectors = [str(x) for x in o.get("sectors") or []]
        direct = [x for x in sectors if x in known_codes]  # sectors given as ISCO codes
        occ_by_company[str(o["code"])] = direct or sorted({code_by_job[k] for k in _jobs_for_sectors(sectors)})
    company_municipalities = {str(o["code"]): str(o["municipality"]) for o in companies_orgs if o.get("municipality")}

    out_dir.mkdir(parents=True, exist_ok=True)
    people = generate_people(n_people, seed, municipalities)
    specs = generate_referral_files(people, referrers, out_dir / "referrals", seed, duplicates=25)
    vacancies = generate_vacancies(
        companies,
        occ_by_company,
        municipalities,
        40,
        seed,
        occupation_titles=titles,
        company_municipalities=company_municipalities,
        reference_date=max(REFERENCE_DATE, clock.today()),  # deadlines after the demo's day: a past one is closed
    )
    vacancy_path = write_vacancy_file(vacancies, out_dir / "confindustria_posizioni_aperte.xlsx", bad_rows=1)

    code_by_text: dict[str, str] = {}
    for occ in occupations:
        for label in _occupation_labels(occ):
            if norm_label(label):
                code_by_text.setdefault(norm_label(label), str(occ["code"]))

    def occupation_codes(person: SyntheticPerson) -> list[str]:
        """The code each typed experience really means: exact synonym first, else the job's code."""
        codes = [
            code_by_text.get(norm_label(text), code_by_job[key])
            for text, key in zip(person.experiences, person.experience_keys, strict=True)
        ]
        return list(dict.fromkeys(codes))

    profiles = {
        p.key: OperatorProfile(
            person=p,
            italian_levels=dict(p.true_italian_skills),
            italian_overall=p.true_italian,
            occupation_codes=occupation_codes(p),
            experience_keys=list(p.experience_keys),
            driving_licence=p.driving_licence,
        )
        for p in people
    }
    dataset = DemoDataset(
        seed=seed,
        reference_date=REFERENCE_DATE,
        out_dir=out_dir,
        municipalities=municipalities,
        referrers=referrers,
        companies=companies,
        people=people,
        referral_files=specs,
        vacancy_file=vacancy_path,
        vacancies=vacancies,
        people_by_key=profiles,
        occupation_code_by_job=code_by_job,
    )
    for p in people:
        dataset._cf_index[p.codice_fiscale] = p.key
        for fam, giv in (
            (p.family_name, p.given_names),
            (p.native_family_name, p.native_given_names),
        ):
            dataset._name_index.setdefault(name_key(fam, giv), []).append(p.key)
    for spec in specs:
        for row in spec.rows:
            bucket = dataset._name_index.setdefault(name_key(row.written_family_name, row.written_given_names), [])
            if row.person_key not in bucket:
                bucket.append(row.person_key)
    return dataset
