"""Active labour policies and funded training (issue 11).

Three layers, so the rules stay testable without a database or Prefect:

* **rules** (pure): :func:`load_policies` reads ``config/policies.yaml``; the eligibility
  functions take :class:`CaseFacts` and a day and return a :class:`Verdict` whose checks carry
  an Italian reason for every yes and every no (age on the exact birthday, NEET, region,
  permit validity, DUL success at exactly 180 days, hire within the outcome window);
  :func:`training_gaps` and :func:`courses_for_gap` turn the match parts of
  :mod:`tasks.matching.scoring` into the skills/Italian a person lacks and the courses that cover it.
* **steps** (``fn(session, ...)``, wrapped by ``db_step`` in ``flows/policy.py``): ingest
  training offers, propose measures, record the operator's choice and notify the provider,
  record the provider's register (enrolment → hire), build and record the monthly table.
* **agenda** rendering: :func:`agenda_markdown` is the artifact the table reads.

Reasons may mention ages or permit dates: they stay in the application database
(``policy_measure.reasons``). Prefect and emails get case codes, measure codes and counts only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from rapidfuzz import fuzz
from sqlalchemy import func
from sqlmodel import Session, col, select

from config.data import (
    CONFIG_DIR,
    ConfigError,
    _read_yaml,
    load_taxonomy,
    normalize_text,
    office_for_municipality,
)
from models.base import utcnow
from models.cases import Case, CaseEvent, Enrollment, Profile
from models.enums import Cefr, ConsentPurpose, Isced, OrgKind, OutcomeKind, PolicyKind, Recognition, State
from models.exchange import Outcome, Vacancy
from models.forms import TavoloDecisionKind
from models.people import Organisation, Person, Referral
from models.policy import (
    OPEN_MEASURE,
    MeasureKind,
    MeasureStatus,
    PolicyEvent,
    PolicyMeasure,
    TavoloMeeting,
    TrainingOffer,
)
from tasks.core.transitions import transition
from tasks.files.imports import RowRejected, context_session, import_rows, start_import
from tasks.files.rows import parse_level, parse_yes_no, required_text, safe_value
from tasks.files.tabular import parse_date
from tasks.mail.outbox import enqueue_email
from tasks.matching.scoring import ITALIAN_TOO_LOW, ProfileFacts, VacancyFacts, score_pair
from tasks.runtime.events import EventSpec, queue_event
from tasks.runtime.progress import Progress

POLICIES_FILE = CONFIG_DIR / "policies.yaml"
ACTOR = "flow:policy"
TAVOLO_ACTOR = "tavolo"

# --------------------------------------------------------------------------------------------
# Rules (config/policies.yaml)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PermitRules(_Rule):
    renewal_receipt_types: list[str] = []


class ProfilingClass(_Rule):
    class_: int = Field(alias="class", ge=1, le=4)
    max_points: int = Field(ge=0)


class ProfilingRules(_Rule):
    points: dict[str, int]
    classes: list[ProfilingClass] = Field(min_length=1)

    @field_validator("points")
    @classmethod
    def _known_factors(cls, v: dict[str, int]) -> dict[str, int]:
        unknown = set(v) - set(PROFILING_FACTORS)
        if unknown:
            raise ValueError(f"fattori di profilazione sconosciuti: {sorted(unknown)} (ammessi: {PROFILING_FACTORS})")
        return v


class GaranziaGiovaniRules(_Rule):
    label: str
    min_age: int = Field(ge=0)
    max_age: int = Field(ge=0)
    neet_required: bool = True
    provider: str
    duration_days: int = Field(ge=1)


GOL_PATHWAYS = ("job_placement", "upskilling", "reskilling", "work_inclusion", "collective_reskilling")


class GolRules(_Rule):
    label: str
    min_age: int = Field(ge=0)
    requires_profile: bool = True
    pathways: dict[int, str]
    collective_pathway: str
    pathway_labels: dict[str, str]
    provider: str
    duration_days: int = Field(ge=1)

    @model_validator(mode="after")
    def _pathways_known(self) -> GolRules:
        used = {*self.pathways.values(), self.collective_pathway}
        if not used <= set(GOL_PATHWAYS):
            raise ValueError(f"percorsi GOL sconosciuti: {sorted(used - set(GOL_PATHWAYS))}")
        if set(self.pathways) != {1, 2, 3, 4}:
            raise ValueError("pathways: servono le classi di profilazione 1, 2, 3 e 4")
        if not used <= set(self.pathway_labels):
            raise ValueError("pathway_labels: manca l'etichetta di un percorso usato")
        return self


class DulRules(_Rule):
    label: str
    region: str
    min_age: int = Field(ge=0)
    max_age: int = Field(ge=0)
    bands: dict[int, str]
    success_min_contract_days: int = Field(ge=1)
    provider: str
    duration_days: int = Field(ge=1)


class TrainingRules(_Rule):
    near_occupation: float = Field(ge=0, le=1)
    skills_ok: float = Field(ge=0, le=1)
    skill_covered: int = Field(ge=0, le=100)
    min_attendance_pct: int = Field(ge=0, le=100)
    duration_days: int = Field(ge=1)


class TerritorialProject(_Rule):
    """A local project; every criterion left out does not apply."""

    code: str = Field(pattern=r"^[A-Z0-9]+(-[A-Z0-9]+)*$")
    label: str
    provider: str
    min_age: int | None = None
    max_age: int | None = None
    offices: list[str] | None = None
    referrer_kinds: list[OrgKind] | None = None
    sex: list[str] | None = None
    italian_min: Cefr | None = None
    italian_max: Cefr | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    duration_days: int = Field(90, ge=1)


class TavoloRules(_Rule):
    members: list[str] = Field(min_length=1)
    ending_within_days: int = Field(ge=0)


class PolicyRules(_Rule):
    version: str
    priority: list[MeasureKind]
    permit: PermitRules
    profiling: ProfilingRules
    garanzia_giovani: GaranziaGiovaniRules
    gol: GolRules
    dul: DulRules
    outcome_window_days: int = Field(ge=1)
    training: TrainingRules
    territorial: list[TerritorialProject] = []
    tavolo: TavoloRules

    def provider_codes(self) -> set[str]:
        return {
            self.garanzia_giovani.provider,
            self.gol.provider,
            self.dul.provider,
            *(p.provider for p in self.territorial),
            *self.tavolo.members,
        }


PROFILING_FACTORS = (
    "italian_below_a2",
    "italian_below_b1",
    "no_experience",
    "short_experience",
    "low_education",
    "title_not_recognised",
    "no_occupation",
)


def _parse_policies(path: Path) -> PolicyRules:
    try:
        rules = PolicyRules.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    from config.data import organisation_by_code

    unknown = sorted(c for c in rules.provider_codes() if organisation_by_code(c) is None)
    if unknown:
        raise ConfigError(f"{path}: enti non presenti in config/organisations.yaml: {', '.join(unknown)}")
    return rules


@lru_cache(maxsize=1)
def _default_policies() -> PolicyRules:
    return _parse_policies(POLICIES_FILE)


def load_policies(path: Path | None = None) -> PolicyRules:
    """Policy rules; the default file is parsed once per process, explicit paths every call."""
    return _default_policies() if path is None else _parse_policies(Path(path))


# --------------------------------------------------------------------------------------------
# Facts and verdicts (pure)


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about one case (gathered by :func:`case_facts`)."""

    case_code: str
    birth_date: date | None = None
    sex: str | None = None
    employed: bool = False
    in_education: bool = False
    has_profile: bool = True
    italian: Cefr = Cefr.PRE_A1
    experience_years: int = 0
    education: Isced = Isced.LOWER_SECONDARY
    recognition: Recognition = Recognition.NOT_NEEDED
    occupations: tuple[str, ...] = ()
    region: str | None = "Lombardia"
    office_code: str | None = None
    referrer_kinds: tuple[str, ...] = ()
    permit_type: str | None = None
    permit_expiry: date | None = None
    collective_crisis: bool = False


@dataclass(frozen=True)
class Check:
    """One criterion: yes/no and why, in Italian."""

    ok: bool
    reason: str

    def text(self) -> str:
        return ("sì – " if self.ok else "no – ") + self.reason


@dataclass(frozen=True)
class Verdict:
    """Whether a measure applies to a case, with the reason for each criterion."""

    kind: MeasureKind
    code: str
    label: str
    checks: tuple[Check, ...]
    pathway: str | None = None
    provider: str | None = None
    duration_days: int = 90
    offer_id: int | None = None

    @property
    def eligible(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        return [c.text() for c in self.checks]


def age_on(birth: date, day: date) -> int:
    """Completed years on ``day`` (the birthday itself counts; 29 Feb birthdays turn on 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _dmy(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def age_check(facts: CaseFacts, day: date, low: int | None, high: int | None) -> Check:
    """Age within [low, high] on ``day``; an unknown birth date cannot be verified."""
    if low is None and high is None:
        return Check(True, "nessun limite di età")
    if facts.birth_date is None:
        return Check(False, "data di nascita mancante: età non verificabile")
    age = age_on(facts.birth_date, day)
    span = f"{low if low is not None else 0}–{high}" if high is not None else f"almeno {low}"
    if low is not None and age < low:
        return Check(False, f"età {age} anni: sotto il minimo ({span})")
    if high is not None and age > high:
        return Check(False, f"età {age} anni: oltre il massimo ({span})")
    return Check(True, f"età {age} anni: entro {span}")


def permit_check(facts: CaseFacts, day: date, rules: PolicyRules) -> Check:
    """A permit valid on ``day`` (the expiry day included), or a pending renewal receipt."""
    if facts.permit_expiry is None:
        return Check(True, "nessuna scadenza di permesso registrata")
    if facts.permit_expiry >= day:
        return Check(True, f"permesso di soggiorno valido fino al {_dmy(facts.permit_expiry)}")
    kind = (facts.permit_type or "").casefold()
    if any(t.casefold() in kind for t in rules.permit.renewal_receipt_types):
        return Check(True, f"permesso scaduto il {_dmy(facts.permit_expiry)} con ricevuta di rinnovo: può lavorare")
    return Check(
        False,
        f"permesso di soggiorno scaduto il {_dmy(facts.permit_expiry)}: "
        "serve la ricevuta di rinnovo prima della misura",
    )


def neet_check(facts: CaseFacts) -> Check:
    if facts.employed:
        return Check(False, "occupato: non è NEET")
    if facts.in_education:
        return Check(False, "in istruzione o formazione (corso in corso): non è NEET")
    return Check(True, "non occupato né in istruzione o formazione (NEET)")


def not_employed_check(facts: CaseFacts) -> Check:
    return Check(False, "occupato") if facts.employed else Check(True, "disoccupato")


def profiling(facts: CaseFacts, rules: PolicyRules) -> tuple[int, int, list[str]]:
    """(class 1-4, points, factors): the distance from the labour market the rules weigh."""
    present = {
        "italian_below_a2": facts.italian.rank < Cefr.A2.rank,
        "italian_below_b1": facts.italian is Cefr.A2,
        "no_experience": facts.experience_years == 0,
        "short_experience": 0 < facts.experience_years < 2,
        "low_education": int(facts.education.value) <= 2,
        "title_not_recognised": facts.recognition in (Recognition.NOT_REQUESTED, Recognition.IN_PROGRESS),
        "no_occupation": not facts.occupations,
    }
    factors = [name for name, on in present.items() if on and rules.profiling.points.get(name, 0)]
    points = sum(rules.profiling.points[f] for f in factors)
    for cls in rules.profiling.classes:
        if points <= cls.max_points:
            return cls.class_, points, factors
    return rules.profiling.classes[-1].class_, points, factors


def garanzia_giovani(facts: CaseFacts, day: date, rules: PolicyRules) -> Verdict:
    """Youth guarantee: 15–29 on the day (not on the 30th birthday) and NEET."""
    gg = rules.garanzia_giovani
    checks = [age_check(facts, day, gg.min_age, gg.max_age)]
    if gg.neet_required:
        checks.append(neet_check(facts))
    checks.append(permit_check(facts, day, rules))
    return Verdict(
        MeasureKind.GARANZIA_GIOVANI,
        "garanzia_giovani",
        gg.label,
        tuple(checks),
        provider=gg.provider,
        duration_days=gg.duration_days,
    )


def gol(facts: CaseFacts, day: date, rules: PolicyRules) -> Verdict:
    """GOL: taken in charge and profiled; the class picks one of the five pathways."""
    g = rules.gol
    cls, points, factors = profiling(facts, rules)
    checks = [age_check(facts, day, g.min_age, None)]
    if g.requires_profile:
        checks.append(
            Check(True, "presa in carico con profilo al CPI")
            if facts.has_profile
            else Check(False, "nessun profilo: serve il colloquio di presa in carico al CPI")
        )
    checks.append(not_employed_check(facts))
    checks.append(permit_check(facts, day, rules))
    if facts.collective_crisis:
        pathway = g.collective_pathway
        checks.append(Check(True, f"crisi aziendale collettiva: {g.pathway_labels[pathway]}"))
    else:
        pathway = g.pathways[cls]
        why = ", ".join(factors) or "nessun fattore di distanza"
        checks.append(Check(True, f"profilazione classe {cls} ({points} punti: {why}): {g.pathway_labels[pathway]}"))
    return Verdict(
        MeasureKind.GOL,
        "gol",
        g.label,
        tuple(checks),
        pathway=pathway,
        provider=g.provider,
        duration_days=g.duration_days,
    )


def dul(facts: CaseFacts, day: date, rules: PolicyRules) -> Verdict:
    """Dote Unica Lavoro: Lombardy residents, intensity band from the profiling class."""
    d = rules.dul
    cls, points, _ = profiling(facts, rules)
    checks = [
        Check(True, f"residente in {d.region}")
        if (facts.region or "").casefold() == d.region.casefold()
        else Check(False, f"residenza fuori da {d.region}: la Dote è regionale"),
        age_check(facts, day, d.min_age, d.max_age),
        not_employed_check(facts),
        permit_check(facts, day, rules),
        Check(True, f"profilazione classe {cls} ({points} punti): {d.bands[cls]}"),
    ]
    return Verdict(
        MeasureKind.DUL,
        "dul",
        d.label,
        tuple(checks),
        pathway=d.bands[cls],
        provider=d.provider,
        duration_days=d.duration_days,
    )


def territorial(facts: CaseFacts, day: date, rules: PolicyRules, project: TerritorialProject) -> Verdict:
    """A territorial project: only the criteria it lists apply (plus a valid permit)."""
    p = project
    checks: list[Check] = []
    if p.valid_from and day < p.valid_from:
        checks.append(Check(False, f"progetto attivo dal {_dmy(p.valid_from)}"))
    elif p.valid_until and day > p.valid_until:
        checks.append(Check(False, f"progetto concluso il {_dmy(p.valid_until)}"))
    else:
        checks.append(Check(True, "progetto attivo"))
    if p.min_age is not None or p.max_age is not None:
        checks.append(age_check(facts, day, p.min_age, p.max_age))
    if p.offices is not None:
        ok = facts.office_code in p.offices
        checks.append(Check(ok, f"CPI {facts.office_code or '—'} {'tra' if ok else 'non tra'} {', '.join(p.offices)}"))
    if p.referrer_kinds is not None:
        kinds = {k.value for k in p.referrer_kinds}
        ok = bool(kinds & set(facts.referrer_kinds))
        checks.append(
            Check(ok, f"segnalato da {'un servizio previsto' if ok else 'nessuno di'}: {', '.join(sorted(kinds))}")
        )
    if p.sex is not None:
        ok = (facts.sex or "").upper() in {s.upper() for s in p.sex}
        checks.append(Check(ok, "destinatari del progetto" if ok else "fuori dai destinatari del progetto"))
    if p.italian_min is not None:
        ok = facts.italian.rank >= p.italian_min.rank
        checks.append(Check(ok, f"italiano {facts.italian.value} {'≥' if ok else '<'} {p.italian_min.value} richiesto"))
    if p.italian_max is not None:
        ok = facts.italian.rank <= p.italian_max.rank
        checks.append(
            Check(
                ok,
                f"italiano {facts.italian.value} {'≤' if ok else '>'} {p.italian_max.value} "
                "(progetto per livelli iniziali)",
            )
        )
    checks.append(permit_check(facts, day, rules))
    return Verdict(
        MeasureKind.TERRITORIAL,
        f"territorial:{p.code}",
        p.label,
        tuple(checks),
        provider=p.provider,
        duration_days=p.duration_days,
    )


def evaluate_measures(facts: CaseFacts, day: date, rules: PolicyRules) -> list[Verdict]:
    """Every programme and territorial project for this case, in the configured priority."""
    by_kind = {
        MeasureKind.GARANZIA_GIOVANI: garanzia_giovani,
        MeasureKind.GOL: gol,
        MeasureKind.DUL: dul,
    }
    out = [by_kind[k](facts, day, rules) for k in rules.priority if k in by_kind]
    out += [territorial(facts, day, rules, p) for p in rules.territorial]
    return out


_POLICY_KIND = {
    MeasureKind.GOL: PolicyKind.GOL,
    MeasureKind.DUL: PolicyKind.DUL,
    MeasureKind.GARANZIA_GIOVANI: PolicyKind.GARANZIA_GIOVANI,
    MeasureKind.TRAINING: PolicyKind.TRAINING,
}


def policy_kind(kind: MeasureKind) -> PolicyKind | None:
    """The Outcome's policy for a measure kind (territorial projects have none of their own)."""
    return _POLICY_KIND.get(kind)


def primary_policy(facts: CaseFacts, day: date, rules: PolicyRules | None = None) -> PolicyKind | None:
    """The first eligible programme in the configured priority (None: the table decides)."""
    rules = rules or load_policies()
    for verdict in evaluate_measures(facts, day, rules):
        if verdict.eligible and verdict.kind is not MeasureKind.TERRITORIAL:
            return policy_kind(verdict.kind)
    return None


def dul_success(contract: str | None, length_days: int | None, rules: PolicyRules) -> Check:
    """DUL counts a success for an open-ended contract or one of at least N days (N included)."""
    need = rules.dul.success_min_contract_days
    if contract and "indeterminato" in contract.casefold():
        return Check(True, "contratto a tempo indeterminato")
    if length_days is None:
        return Check(False, "durata del contratto non indicata")
    if length_days >= need:
        return Check(True, f"contratto di {length_days} giorni (almeno {need})")
    return Check(False, f"contratto di {length_days} giorni: sotto i {need} richiesti")


def hire_attributed(measure_start: date, hired_on: date, rules: PolicyRules) -> Check:
    """A hire counts for the measure when it starts within the window (its last day included)."""
    window = rules.outcome_window_days
    days = (hired_on - measure_start).days
    if days < 0:
        return Check(False, "assunzione precedente all'avvio della misura")
    if days <= window:
        return Check(True, f"assunzione {days} giorni dopo l'avvio (entro {window})")
    return Check(False, f"assunzione {days} giorni dopo l'avvio: oltre i {window} giorni")


# --------------------------------------------------------------------------------------------
# Training gaps (pure): from match parts to what a person lacks, and the courses that cover it


@dataclass(frozen=True)
class Gap:
    """A vacancy the profile is near to, and what it lacks for it."""

    vacancy_code: str
    occupation_code: str
    occupation_part: float
    missing_skills: tuple[str, ...] = ()
    italian_needed: Cefr | None = None


def _words(text: str) -> list[str]:
    return [w for w in normalize_text(text).replace("-", " ").split() if len(w) >= 3]


def skill_covered(need: str, have: Sequence[str], threshold: int) -> bool:
    """Every significant word of ``need`` appears (fuzzily: ``threshold`` 0-100, so
    "saldature" meets "saldatura") in one of the ``have`` skills — "saldatura MIG" does not
    cover "saldatura TIG", which a whole-string similarity would call 92% alike."""
    words = _words(need)
    if not words:
        return True
    for skill in have:
        mine = _words(skill)
        if mine and all(max(fuzz.ratio(w, m) for m in mine) >= threshold for w in words):
            return True
    return False


def training_gaps(profile: ProfileFacts, vacancies: Sequence[VacancyFacts], rules: PolicyRules) -> list[Gap]:
    """Vacancies whose occupation is near the profile's (``near_occupation``) and where only
    skills (part below ``skills_ok``) or the Italian level keep the person out; nearest first.
    Other hard constraints (licence, distance) are not a training matter and exclude the pair."""
    t = rules.training
    out: list[Gap] = []
    for v in vacancies:
        result = score_pair(profile, v)
        if result.parts["occupation"] < t.near_occupation:
            continue
        if set(result.excluded) - {ITALIAN_TOO_LOW}:
            continue
        missing: tuple[str, ...] = ()
        if result.parts["skills"] < t.skills_ok:
            missing = tuple(s for s in v.skills if not skill_covered(s, profile.skills, t.skill_covered))
        italian = v.italian_required if result.parts["language"] < 1.0 else None
        if missing or italian is not None:
            out.append(Gap(v.vacancy_code, v.occupation_code, result.parts["occupation"], missing, italian))
    return sorted(out, key=lambda g: (-g.occupation_part, len(g.missing_skills), g.vacancy_code))


def _covers(offer: TrainingOffer, gap: Gap, rules: PolicyRules) -> bool:
    if offer.vacancy_code is not None and offer.vacancy_code == gap.vacancy_code:
        return True  # built with the company for this very position
    near = any(code[:3] == gap.occupation_code[:3] for code in offer.occupation_codes)
    if not near:
        return False
    skills_ok = all(skill_covered(s, offer.skills, rules.training.skill_covered) for s in gap.missing_skills)
    target = parse_level(offer.italian_target) if offer.italian_target else None
    italian_ok = gap.italian_needed is None or (target is not None and target.rank >= gap.italian_needed.rank)
    return skills_ok and italian_ok


def courses_for_gap(
    gap: Gap,
    offers: Iterable[TrainingOffer],
    italian: Cefr,
    day: date,
    seats_left: dict[str, int],
    rules: PolicyRules,
) -> list[TrainingOffer]:
    """Courses that cover the gap, not yet started, with seats, whose entry level the person
    has; courses tied to the gap's own position first, then by start date."""
    found = []
    for offer in offers:
        entry = parse_level(offer.italian_min) if offer.italian_min else None
        if offer.start < day or seats_left.get(offer.code, offer.seats) <= 0:
            continue
        if entry is not None and italian.rank < entry.rank:
            continue
        if _covers(offer, gap, rules):
            found.append(offer)
    return sorted(found, key=lambda o: (o.vacancy_code != gap.vacancy_code, o.start, o.code))


def training_verdict(facts: CaseFacts, day: date, rules: PolicyRules, offer: TrainingOffer, gap: Gap) -> Verdict:
    """A course proposal: the gap it covers plus the permit rule every measure shares."""
    lacks = []
    if gap.missing_skills:
        lacks.append(f"competenze mancanti: {', '.join(gap.missing_skills)}")
    if gap.italian_needed is not None:
        lacks.append(f"italiano {facts.italian.value}, richiesto {gap.italian_needed.value}")
    extras = [
        "con tirocinio" if offer.internship else "senza tirocinio",
        "indennità di frequenza" if offer.allowance else "senza indennità",
    ]
    checks = (
        Check(True, f"vicino alla posizione {gap.vacancy_code} (ISCO {gap.occupation_code}); {'; '.join(lacks)}"),
        Check(True, f"corso {offer.code} dal {_dmy(offer.start)}, {offer.hours} ore, {', '.join(extras)}"),
        permit_check(facts, day, rules),
    )
    end = offer.ends_on
    duration = (end - offer.start).days if end else rules.training.duration_days
    return Verdict(
        MeasureKind.TRAINING,
        f"training:{offer.code}",
        offer.title,
        checks,
        pathway=gap.vacancy_code,
        provider=offer.body_code,
        duration_days=max(duration, 1),
        offer_id=offer.id,
    )


# --------------------------------------------------------------------------------------------
# Facts from the database


def case_facts(session: Session, case: Case) -> CaseFacts:
    """Gather the rule inputs of one case (person row read here, never returned to Prefect)."""
    person = session.exec(select(Person).where(Person.key == case.person_key)).first()
    profile = session.exec(select(Profile).where(Profile.case_id == case.id)).first()
    hired = session.exec(
        select(Outcome.id).where(Outcome.case_id == case.id, Outcome.kind == OutcomeKind.HIRED)
    ).first()
    in_course = (
        session.exec(
            select(Enrollment.id).where(Enrollment.case_id == case.id, col(Enrollment.outcome).is_(None))
        ).first()
        or session.exec(
            select(PolicyMeasure.id).where(
                PolicyMeasure.case_id == case.id,
                PolicyMeasure.kind == MeasureKind.TRAINING,
                col(PolicyMeasure.status).in_([MeasureStatus.STARTED]),
            )
        ).first()
    )
    kinds = session.exec(
        select(Organisation.kind)
        .join(Referral, col(Referral.referrer_code) == col(Organisation.code))
        .where(Referral.case_id == case.id)
    ).all()
    municipality = (person.municipality if person else None) or (profile.area if profile else None) or ""
    return CaseFacts(
        case_code=case.code,
        birth_date=person.birth_date if person else None,
        sex=person.sex if person else None,
        employed=hired is not None,
        in_education=in_course is not None,
        has_profile=profile is not None,
        italian=profile.italian if profile else Cefr.PRE_A1,
        experience_years=profile.experience_years if profile else 0,
        education=profile.education if profile else Isced.LOWER_SECONDARY,
        recognition=profile.recognition if profile else Recognition.NOT_NEEDED,
        occupations=tuple(profile.occupations) if profile else (),
        region="Lombardia" if office_for_municipality(municipality) else None,
        office_code=case.office_code,
        referrer_kinds=tuple(sorted({OrgKind(k).value for k in kinds})),
        permit_type=person.permit_type if person else None,
        permit_expiry=person.permit_expiry if person else None,
    )


# --------------------------------------------------------------------------------------------
# Training offers: ingestion like vacancies


def _int_in(v: Any, low: int, high: int, what: str) -> int:
    text = "" if v is None else str(v).strip()
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        raise ValueError(f"{what} «{safe_value(text)[:10]}» non valido: scrivere un numero") from None
    if not number.is_integer() or not low <= number <= high:
        raise ValueError(f"{what} non valido: un intero da {low} a {high}")
    return int(number)


class TrainingRow(BaseModel):
    """One course as a training body (or the labour service) sends it; Italian errors."""

    body: str
    title: str
    occupations: list[str] = []
    skills: list[str] = []
    italian_min: Cefr | None = None
    italian_target: Cefr | None = None
    hours: int
    seats: int
    start: date
    ends_on: date | None = None
    co_funded: bool = False
    vacancy_code: str | None = None
    internship: bool = False
    allowance: bool = False

    @field_validator("body", "title", mode="before")
    @classmethod
    def _required(cls, v: Any) -> str:
        return required_text(v)

    @field_validator("body")
    @classmethod
    def _accredited(cls, v: str, info: ValidationInfo) -> str:
        session = context_session(info)
        body = session.get(Organisation, v) if session is not None else None
        if session is not None and (body is None or body.kind is not OrgKind.TRAINING_BODY):
            raise ValueError("ente di formazione non accreditato nella rete (usare il codice ente, es. FORM-OROBICA)")
        return v

    @field_validator("vacancy_code")
    @classmethod
    def _known_vacancy(cls, v: str | None, info: ValidationInfo) -> str | None:
        session = context_session(info)
        if v and session is not None and session.exec(select(Vacancy.id).where(Vacancy.code == v)).first() is None:
            raise ValueError("posizione aziendale inesistente (usare il codice VAC-… ricevuto da Confindustria)")
        return v

    @field_validator("occupations", mode="before")
    @classmethod
    def _codes(cls, v: Any) -> list[str]:
        codes = [c.strip() for c in str(v or "").replace(";", ",").split(",") if c.strip()]
        known = load_taxonomy().by_code
        bad = [c for c in codes if c not in known]
        if bad:
            raise ValueError(f"codici ISCO non presenti nella tassonomia: {', '.join(safe_value(b)[:8] for b in bad)}")
        return codes

    @field_validator("skills", mode="before")
    @classmethod
    def _skills(cls, v: Any) -> list[str]:
        return [s.strip() for s in str(v or "").replace(";", ",").split(",") if s.strip()]

    @field_validator("italian_min", "italian_target", mode="before")
    @classmethod
    def _level(cls, v: Any) -> Cefr | None:
        return parse_level(v)

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, v: Any) -> int:
        return _int_in(v, 1, 2000, "numero di ore")

    @field_validator("seats", mode="before")
    @classmethod
    def _seats(cls, v: Any) -> int:
        return _int_in(v, 1, 500, "numero di posti")

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, v: Any) -> date:
        if v in (None, ""):
            raise ValueError("data di inizio obbligatoria (gg/mm/aaaa)")
        return parse_date(v)

    @field_validator("ends_on", mode="before")
    @classmethod
    def _end(cls, v: Any) -> date | None:
        return None if v in (None, "") else parse_date(v)

    @field_validator("co_funded", "internship", "allowance", mode="before")
    @classmethod
    def _yes_no(cls, v: Any) -> bool:
        return parse_yes_no(v)

    @field_validator("vacancy_code", mode="before")
    @classmethod
    def _vacancy(cls, v: Any) -> str | None:
        text = "" if v is None else str(v).strip().upper()
        return text or None

    @model_validator(mode="after")
    def _dates(self) -> TrainingRow:
        if self.ends_on is not None and self.ends_on < self.start:
            raise ValueError("la data di fine precede la data di inizio")
        return self


def _training_row(session: Session, raw: dict[str, Any]) -> TrainingRow:
    """The validated course, or every error of the row (fields, unknown body or position)."""
    try:
        return TrainingRow.model_validate(raw, context={"session": session})
    except ValidationError as exc:
        raise RowRejected.from_validation(exc, "ends_on") from None


def ingest_training_file(session: Session, path: Path, sender_code: str) -> tuple[int | None, dict[str, int]]:
    """Store every valid course; bad rows kept with all their errors and reported to the
    sender. A file rejected as a whole raises before anything is written; the same bytes
    again change nothing."""
    from tasks.matching.occupations import default_coder

    imp, table = start_import(
        session, path, kind="training", sender_code=sender_code, required=["body", "title", "start"]
    )
    if table is None:
        return imp.id, {"already_imported": 1}
    assert imp.id is not None
    import_id = imp.id
    coder = default_coder()

    def add(number: int, row: TrainingRow) -> str:
        codes = row.occupations
        if not codes and row.vacancy_code:
            vacancy = session.exec(select(Vacancy).where(Vacancy.code == row.vacancy_code)).one()
            codes = [vacancy.occupation_code] if vacancy.occupation_code else []
        if not codes:
            best = coder.code(row.title, k=1)
            codes = [best[0][0]] if best else []
        session.add(
            TrainingOffer(
                code=f"TRN-{import_id:04d}-{number:04d}",
                body_code=row.body,
                title=row.title,
                occupation_codes=codes,
                skills=row.skills,
                italian_min=row.italian_min.value if row.italian_min else None,
                italian_target=row.italian_target.value if row.italian_target else None,
                hours=row.hours,
                seats=row.seats,
                start=row.start,
                ends_on=row.ends_on,
                co_funded=row.co_funded,
                vacancy_code=row.vacancy_code,
                internship=row.internship,
                allowance=row.allowance,
                import_file_id=import_id,
            )
        )
        return "accepted"

    counts = import_rows(session, imp, table, lambda raw: _training_row(session, raw), add)
    return imp.id, dict(counts)


# --------------------------------------------------------------------------------------------
# Proposals and the operator's decision


def _event(
    session: Session,
    case: Case,
    kind: str,
    day: date,
    *,
    measure: PolicyMeasure | None = None,
    detail: str | None = None,
    actor: str = ACTOR,
    flow_run_id: str | None = None,
) -> None:
    """One row of the case's policy history, plus a Prefect event (codes only) after commit."""
    assert case.id is not None
    session.add(
        PolicyEvent(
            case_id=case.id,
            measure_id=measure.id if measure else None,
            kind=kind,
            detail=detail,
            occurred_on=day,
            actor=actor,
            flow_run_id=flow_run_id,
        )
    )
    queue_event(
        session,
        EventSpec(
            name=f"incontro.policy.{kind}",
            resource_id=f"incontro.case.{case.code}",
            labels={"incontro.office": case.office_code or "none"},
            payload={"measure": measure.code if measure else None, "detail": detail},
        ),
    )


def _seats_left(session: Session) -> dict[str, int]:
    taken = dict(
        session.exec(
            select(TrainingOffer.code, func.count(col(PolicyMeasure.id)))
            .join(PolicyMeasure, col(PolicyMeasure.training_offer_id) == col(TrainingOffer.id))
            .where(col(PolicyMeasure.status).in_([*OPEN_MEASURE, MeasureStatus.HIRED]))
            .group_by(col(TrainingOffer.code))
        ).all()
    )
    return {o.code: o.seats - taken.get(o.code, 0) for o in session.exec(select(TrainingOffer)).all()}


def _open_vacancies(session: Session, day: date) -> list[VacancyFacts]:
    from tasks.matching.facts import vacancy_facts

    rows = session.exec(
        select(Vacancy).where((col(Vacancy.valid_until).is_(None)) | (col(Vacancy.valid_until) >= day))
    ).all()
    return [vacancy_facts(v) for v in rows if v.occupation_code]


def measures_for_case(
    session: Session, case: Case, day: date, rules: PolicyRules, vacancies: Sequence[VacancyFacts]
) -> list[Verdict]:
    """Every eligible measure for one case: programmes, projects, and courses for its gaps."""
    from tasks.matching.facts import profile_facts

    facts = case_facts(session, case)
    verdicts = [v for v in evaluate_measures(facts, day, rules) if v.eligible]
    profile = session.exec(select(Profile).where(Profile.case_id == case.id)).first()
    if profile is not None and permit_check(facts, day, rules).ok:
        offers = list(session.exec(select(TrainingOffer).order_by(col(TrainingOffer.id))).all())
        seats = _seats_left(session)
        seen: set[str] = set()
        for gap in training_gaps(profile_facts(case, profile), vacancies, rules):
            for offer in courses_for_gap(gap, offers, profile.italian, day, seats, rules):
                if offer.code not in seen:
                    seen.add(offer.code)
                    verdicts.insert(len(seen) - 1, training_verdict(facts, day, rules, offer, gap))
    return verdicts


def propose_measures(
    session: Session, *, as_of: date, case_codes: list[str] | None = None, flow_run_id: str | None = None
) -> dict[str, list[str]]:
    """Store the eligible measures (with reasons) of every POLICY case that has none pending
    or running; courses for a skills/Italian gap come first. Idempotent. Returns codes only."""
    rules = load_policies()
    busy = select(PolicyMeasure.case_id).where(col(PolicyMeasure.status).in_([MeasureStatus.PROPOSED, *OPEN_MEASURE]))
    stmt = select(Case).where(Case.state == State.POLICY, col(Case.id).not_in(busy)).order_by(col(Case.code))
    if case_codes:
        stmt = stmt.where(col(Case.code).in_(case_codes))
    cases = session.exec(stmt).all()
    vacancies = _open_vacancies(session, as_of) if cases else []
    out: dict[str, list[str]] = {}
    progress = Progress("policy", len(cases), "Pratiche valutate per le politiche attive")
    for case in progress.track(cases):
        assert case.id is not None
        verdicts = measures_for_case(session, case, as_of, rules, vacancies)
        for rank, verdict in enumerate(verdicts, start=1):
            session.add(
                PolicyMeasure(
                    case_id=case.id,
                    kind=verdict.kind,
                    code=verdict.code,
                    pathway=verdict.pathway,
                    training_offer_id=verdict.offer_id,
                    provider_code=verdict.provider,
                    status=MeasureStatus.PROPOSED,
                    rank=rank,
                    reasons=verdict.reasons,
                )
            )
        _event(
            session,
            case,
            "proposed",
            as_of,
            detail=",".join(v.code for v in verdicts)[:200] or "nessuna misura ammissibile",
            flow_run_id=flow_run_id,
        )
        out[case.code] = [v.code for v in verdicts]
    progress.finish()
    return out


def _proposed(session: Session, case_codes: Iterable[str] | None = None) -> dict[str, list[PolicyMeasure]]:
    stmt = (
        select(Case.code, PolicyMeasure)
        .join(PolicyMeasure, col(PolicyMeasure.case_id) == col(Case.id))
        .where(PolicyMeasure.status == MeasureStatus.PROPOSED, Case.state == State.POLICY)
        .order_by(col(Case.code), col(PolicyMeasure.rank))
    )
    if case_codes is not None:
        stmt = stmt.where(col(Case.code).in_(list(case_codes)))
    out: dict[str, list[PolicyMeasure]] = defaultdict(list)
    for code, measure in session.exec(stmt).all():
        out[code].append(measure)
    return dict(out)


def pending_decisions(session: Session, case_codes: list[str] | None = None) -> list[dict[str, Any]]:
    """The decision form's starting rows: per case its proposals, the first one pre-selected."""
    return [
        {"case_code": code, "options": [m.code for m in ms], "choice": ms[0].code, "provider_code": ""}
        for code, ms in _proposed(session, case_codes).items()
    ]


def _provider_problem(session: Session, measure: PolicyMeasure, provider: str) -> str | None:
    if not provider:
        return None
    org = session.get(Organisation, provider)
    if org is None or org.kind not in (OrgKind.TRAINING_BODY, OrgKind.LABOUR_SERVICE):
        return f"ente {provider[:40]} non è un ente accreditato o di formazione della rete"
    if measure.kind is MeasureKind.TRAINING and provider != measure.provider_code:
        return f"il corso {measure.code} è erogato da {measure.provider_code}: lasciare vuoto l'ente"
    return None


def validate_decisions(session: Session, rows: list[dict[str, Any]]) -> list[str]:
    """Each choice must be one of the case's own proposals; the provider a network body."""
    proposed = _proposed(session, [str(r.get("case_code")) for r in rows])
    problems = []
    for row in rows:
        code, choice = str(row.get("case_code")), str(row.get("choice") or "")
        if code not in proposed:
            problems.append(f"{code}: nessuna proposta in attesa per questa pratica")
            continue
        if not choice:
            continue
        measure = next((m for m in proposed[code] if m.code == choice), None)
        if measure is None:
            problems.append(
                f"{code}: misura «{choice[:64]}» non tra quelle proposte ({', '.join(m.code for m in proposed[code])})"
            )
            continue
        if problem := _provider_problem(session, measure, str(row.get("provider_code") or "")):
            problems.append(f"{code}: {problem}")
    return problems


def _measure_label(measure: PolicyMeasure, rules: PolicyRules, offer: TrainingOffer | None) -> str:
    if measure.kind is MeasureKind.GOL:
        return f"{rules.gol.label} – {rules.gol.pathway_labels.get(measure.pathway or '', measure.pathway or '')}"
    if measure.kind is MeasureKind.DUL:
        return f"{rules.dul.label} – {measure.pathway}"
    if measure.kind is MeasureKind.GARANZIA_GIOVANI:
        return rules.garanzia_giovani.label
    if measure.kind is MeasureKind.TRAINING and offer is not None:
        return f"Corso «{offer.title}»"
    project = next((p for p in rules.territorial if f"territorial:{p.code}" == measure.code), None)
    return project.label if project else measure.code


def choose_measure(
    session: Session,
    case: Case,
    measure: PolicyMeasure,
    day: date,
    *,
    provider: str = "",
    actor: str = ACTOR,
    flow_run_id: str | None = None,
) -> bool:
    """Mark ``measure`` chosen (its siblings not chosen) and email its provider; returns
    whether an email was queued (the outbox key makes a rerun harmless)."""
    rules = load_policies()
    for other in _proposed(session, [case.code]).get(case.code, []):
        if other.id != measure.id:
            other.status = MeasureStatus.NOT_CHOSEN
            session.add(other)
    measure.status = MeasureStatus.CHOSEN
    measure.decided_at = measure.decided_at or utcnow()
    if provider:
        measure.provider_code = provider
    session.add(measure)
    session.flush()
    _event(session, case, "chosen", day, measure=measure, detail=measure.code, actor=actor, flow_run_id=flow_run_id)
    case.next_step = f"misura {measure.code}"[:200]
    case.next_due = day + timedelta(days=14)
    session.add(case)
    org = session.get(Organisation, measure.provider_code) if measure.provider_code else None
    if org is None:
        return False
    offer = session.get(TrainingOffer, measure.training_offer_id) if measure.training_offer_id else None
    office = session.get(Organisation, case.office_code) if case.office_code else None
    context: dict[str, Any] = {
        "case_code": case.code,
        "measure_code": measure.code,
        "measure_label": _measure_label(measure, rules, offer),
        "provider_name": org.name,
        "office_name": office.name if office else None,
        "pathway": measure.pathway,
    }
    if offer is not None:
        context["course"] = {
            "code": offer.code,
            "title": offer.title,
            "start": offer.start,
            "hours": offer.hours,
            "internship": offer.internship,
            "allowance": offer.allowance,
            "vacancy_code": offer.vacancy_code,
        }
    return (
        enqueue_email(
            session,
            key=f"policy:{case.code}:{measure.id}:provider",
            kind="policy_proposal",
            recipient=org.email,
            recipient_code=org.code,
            case_code=case.code,
            context=context,
        )
        is not None
    )


def record_decisions(
    session: Session, rows: list[dict[str, Any]], *, as_of: date, flow_run_id: str | None = None
) -> dict[str, int]:
    """Apply the operator's (validated) choices; an empty choice leaves the case to the table."""
    proposed = _proposed(session, [str(r["case_code"]) for r in rows])
    counts: Counter[str] = Counter()
    for row in rows:
        code, choice = str(row["case_code"]), str(row.get("choice") or "")
        measures = proposed.get(code, [])
        case = session.exec(select(Case).where(Case.code == code)).one()
        measure = next((m for m in measures if m.code == choice), None)
        if measure is None:
            _event(session, case, "deferred", as_of, detail="al tavolo", flow_run_id=flow_run_id)
            counts["deferred"] += 1
            continue
        counts["chosen"] += 1
        if choose_measure(
            session, case, measure, as_of, provider=str(row.get("provider_code") or ""), flow_run_id=flow_run_id
        ):
            counts["notified"] += 1
    return dict(counts)


# --------------------------------------------------------------------------------------------
# The provider's register: enrolment, attendance, completion, internship, hire


_PROGRESS = {
    "iscritto": MeasureStatus.STARTED,
    "iscritta": MeasureStatus.STARTED,
    "iscrizione": MeasureStatus.STARTED,
    "avviato": MeasureStatus.STARTED,
    "avviata": MeasureStatus.STARTED,
    "avvio": MeasureStatus.STARTED,
    "started": MeasureStatus.STARTED,
    "frequenza": MeasureStatus.STARTED,  # attendance update: stays started, hours recorded
    "presenze": MeasureStatus.STARTED,
    "completato": MeasureStatus.COMPLETED,
    "completata": MeasureStatus.COMPLETED,
    "concluso": MeasureStatus.COMPLETED,
    "conclusa": MeasureStatus.COMPLETED,
    "completed": MeasureStatus.COMPLETED,
    "tirocinio": MeasureStatus.INTERNSHIP,
    "internship": MeasureStatus.INTERNSHIP,
    "assunto": MeasureStatus.HIRED,
    "assunta": MeasureStatus.HIRED,
    "hired": MeasureStatus.HIRED,
    "ritirato": MeasureStatus.DROPPED,
    "ritirata": MeasureStatus.DROPPED,
    "abbandono": MeasureStatus.DROPPED,
    "dropped": MeasureStatus.DROPPED,
}
_ATTENDANCE = {"frequenza", "presenze"}
_FROM: dict[MeasureStatus, tuple[MeasureStatus, ...]] = {
    MeasureStatus.STARTED: (MeasureStatus.CHOSEN, MeasureStatus.STARTED),
    MeasureStatus.COMPLETED: (MeasureStatus.STARTED,),
    MeasureStatus.INTERNSHIP: (MeasureStatus.STARTED, MeasureStatus.COMPLETED),
    MeasureStatus.HIRED: (MeasureStatus.STARTED, MeasureStatus.COMPLETED, MeasureStatus.INTERNSHIP),
    MeasureStatus.DROPPED: (
        MeasureStatus.CHOSEN,
        MeasureStatus.STARTED,
        MeasureStatus.COMPLETED,
        MeasureStatus.INTERNSHIP,
    ),
}
_STATUS_IT = {
    MeasureStatus.PROPOSED: "proposta",
    MeasureStatus.CHOSEN: "scelta, non ancora avviata",
    MeasureStatus.NOT_CHOSEN: "non scelta",
    MeasureStatus.STARTED: "avviata",
    MeasureStatus.COMPLETED: "completata",
    MeasureStatus.INTERNSHIP: "in tirocinio",
    MeasureStatus.HIRED: "conclusa con assunzione",
    MeasureStatus.DROPPED: "interrotta",
}


def _progress_target(session: Session, raw: dict[str, Any]) -> tuple[Case, PolicyMeasure, str]:
    code = str(raw.get("case_code") or "").strip().upper()
    case = session.exec(select(Case).where(Case.code == code)).first()
    if case is None or case.id is None:
        raise RowRejected("case_code", f"pratica {safe_value(code)[:20]} inesistente")
    wanted = str(raw.get("measure") or "").strip()
    measures = session.exec(
        select(PolicyMeasure).where(
            PolicyMeasure.case_id == case.id,
            col(PolicyMeasure.status).not_in([MeasureStatus.PROPOSED, MeasureStatus.NOT_CHOSEN]),
        )
    ).all()
    measure = next(
        (m for m in measures if wanted and wanted.casefold() in (m.code.casefold(), m.code.split(":")[-1].casefold())),
        None,
    )
    if measure is None:
        active = ", ".join(m.code for m in measures) or "nessuna"
        raise RowRejected(
            "measure", f"misura «{safe_value(wanted)[:40]}» non assegnata alla pratica {code} (assegnate: {active})"
        )
    event = str(raw.get("event") or "").strip().casefold()
    if event not in _PROGRESS:
        raise RowRejected(
            "event", "evento non riconosciuto (iscritto, frequenza, completato, tirocinio, assunto, ritirato)"
        )
    return case, measure, event


def _optional_int(raw: dict[str, Any], name: str, what: str) -> int | None:
    if raw.get(name) in (None, ""):
        return None
    try:
        return _int_in(raw[name], 0, 10000, what)
    except ValueError as exc:
        raise RowRejected(name, str(exc)) from None


def _apply_progress(
    session: Session,
    case: Case,
    measure: PolicyMeasure,
    event: str,
    raw: dict[str, Any],
    rules: PolicyRules,
    flow_run_id: str | None,
) -> str:
    """Validate then apply one register row; returns the counter key. Nothing is written
    unless every check passed."""
    target = _PROGRESS[event]
    if measure.status not in _FROM[target]:
        raise RowRejected("event", f"evento «{event}» non possibile: la misura è {_STATUS_IT[measure.status]}")
    try:
        day = parse_date(raw.get("occurred_on")) if raw.get("occurred_on") not in (None, "") else None
    except ValueError as exc:
        raise RowRejected("occurred_on", str(exc)) from None
    if day is None:
        raise RowRejected("occurred_on", "data dell'evento obbligatoria (gg/mm/aaaa)")
    hours = _optional_int(raw, "hours", "ore frequentate")
    offer = session.get(TrainingOffer, measure.training_offer_id) if measure.training_offer_id else None
    if offer is not None and hours is not None and hours > offer.hours:
        raise RowRejected("hours", f"ore frequentate {hours} oltre le {offer.hours} del corso")
    detail = measure.code
    if target is MeasureStatus.STARTED and event in _ATTENDANCE:
        if measure.status is not MeasureStatus.STARTED:
            raise RowRejected("event", "presenze registrate prima dell'iscrizione: inviare prima la riga «iscritto»")
        if hours is None:
            raise RowRejected("hours", "ore frequentate obbligatorie per l'evento «frequenza»")
        measure.hours_attended = max(measure.hours_attended, hours)
        session.add(measure)
        _event(session, case, "attendance", day, measure=measure, detail=f"{hours} ore", flow_run_id=flow_run_id)
        return "attendance"
    if target is MeasureStatus.COMPLETED and offer is not None:
        attended = max(measure.hours_attended, hours or 0)
        need = offer.hours * rules.training.min_attendance_pct / 100
        if attended < need:
            raise RowRejected(
                "hours",
                f"frequenza {attended}/{offer.hours} ore, sotto il {rules.training.min_attendance_pct}%: "
                "corso non completato (registrare «ritirato» o le ore mancanti)",
            )
        measure.hours_attended = attended
        measure.allowance_due = offer.allowance
    if target is MeasureStatus.HIRED:
        return _apply_hire(session, case, measure, day, raw, rules, flow_run_id)
    if target is MeasureStatus.STARTED:
        measure.started_on = day
        end = offer.ends_on if offer is not None and offer.ends_on else None
        measure.expected_end = end or day + timedelta(days=_duration(measure, rules))
    elif target is MeasureStatus.COMPLETED:
        measure.completed_on = day
    elif target is MeasureStatus.INTERNSHIP:
        measure.internship_on = day
    measure.status = target
    session.add(measure)
    kind = {"started": "enrolled"}.get(target.value, target.value)
    _event(session, case, kind, day, measure=measure, detail=detail, flow_run_id=flow_run_id)
    return kind


def _duration(measure: PolicyMeasure, rules: PolicyRules) -> int:
    by_kind = {
        MeasureKind.GOL: rules.gol.duration_days,
        MeasureKind.DUL: rules.dul.duration_days,
        MeasureKind.GARANZIA_GIOVANI: rules.garanzia_giovani.duration_days,
        MeasureKind.TRAINING: rules.training.duration_days,
    }
    if measure.kind in by_kind:
        return by_kind[measure.kind]
    project = next((p for p in rules.territorial if f"territorial:{p.code}" == measure.code), None)
    return project.duration_days if project else 90


def _apply_hire(
    session: Session,
    case: Case,
    measure: PolicyMeasure,
    day: date,
    raw: dict[str, Any],
    rules: PolicyRules,
    flow_run_id: str | None,
) -> str:
    """Hire: Outcome + POLICY → HIRED; the measure becomes the case's route when the hire
    starts within the outcome window of the measure's start."""
    company = str(raw.get("company") or "").strip()
    org = session.get(Organisation, company) if company else None
    if org is None or org.kind is not OrgKind.COMPANY:
        raise RowRejected("company", "azienda obbligatoria per «assunto» (codice azienda della rete, es. COMP-…)")
    length = _optional_int(raw, "length_days", "durata del contratto in giorni")
    contract = str(raw.get("contract") or "").strip() or None
    if case.state is not State.POLICY:
        raise RowRejected("case_code", f"pratica {case.code} non è in politica attiva (stato: {case.state.value})")
    assert case.id is not None and measure.started_on is not None
    attributed = hire_attributed(measure.started_on, day, rules)
    measure.status = MeasureStatus.HIRED
    measure.hired_on, measure.contract_days = day, length
    if measure.kind is MeasureKind.DUL:
        measure.success = dul_success(contract, length, rules).ok
    else:
        measure.success = attributed.ok
    session.add(measure)
    session.add(
        Outcome(
            case_id=case.id,
            kind=OutcomeKind.HIRED,
            company_code=org.code,
            contract_type=contract,
            start=day,
            length_days=length,
            policy=policy_kind(measure.kind) if attributed.ok else None,
        )
    )
    if attributed.ok:
        case.route = measure.code
        session.add(case)
    _event(
        session,
        case,
        "hired",
        day,
        measure=measure,
        detail=f"{org.code}:{'attribuita' if attributed.ok else 'oltre finestra'}",
        flow_run_id=flow_run_id,
    )
    transition(session, case, State.HIRED, actor=ACTOR, reason=f"policy:{measure.code}"[:200], flow_run_id=flow_run_id)
    return "hired"


def record_progress_file(
    session: Session, path: Path, sender_code: str, *, flow_run_id: str | None = None
) -> dict[str, int]:
    """A provider's register (one event per row). Each row is checked in full before it
    writes; rejected rows are kept with column and reason and reported to the sender."""
    imp, table = start_import(
        session,
        path,
        kind="training_progress",
        sender_code=sender_code,
        required=["case_code", "measure", "event"],
        record_kind="progress",
    )
    if table is None:
        return {"already_imported": 1}
    rules = load_policies()
    Target = tuple[dict[str, Any], Case, PolicyMeasure, str]

    def check(raw: dict[str, Any]) -> Target:
        return (raw, *_progress_target(session, raw))

    def apply(_number: int, target: Target) -> str:
        raw, case, measure, event = target
        return _apply_progress(session, case, measure, event, raw, rules, flow_run_id)

    return dict(import_rows(session, imp, table, check, apply))


# --------------------------------------------------------------------------------------------
# The monthly coordination table


@dataclass(frozen=True)
class Agenda:
    """What the table discusses: case codes, measure codes, dates and counts only."""

    held_on: date
    since: date
    new_referrals: list[dict[str, str]] = field(default_factory=list)
    awaiting: list[dict[str, str]] = field(default_factory=list)
    ending: list[dict[str, str]] = field(default_factory=list)
    placements: list[dict[str, str]] = field(default_factory=list)

    def codes(self) -> dict[str, list[str]]:
        return {
            "new_referrals": [r["case_code"] for r in self.new_referrals],
            "awaiting": [r["case_code"] for r in self.awaiting],
            "ending": [r["case_code"] for r in self.ending],
            "placements": [r["case_code"] for r in self.placements],
        }


def _month_before(day: date) -> date:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _day(value: Any) -> date:
    return value if isinstance(value, date) and not hasattr(value, "hour") else value.date()


def build_agenda(session: Session, held_on: date) -> Agenda:
    """The agenda of the meeting on ``held_on``: window = since the previous meeting (or one
    month), end excluded. Sections: new referrals, POLICY cases waiting for a decision,
    measures ending within ``ending_within_days``, placements (hires) with their route."""
    rules = load_policies()
    previous = session.exec(
        select(TavoloMeeting).where(TavoloMeeting.held_on < held_on).order_by(col(TavoloMeeting.held_on).desc())
    ).first()
    since = previous.held_on if previous else _month_before(held_on)
    start, end = since, held_on

    created = session.exec(
        select(Case, CaseEvent.at)
        .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
        .where(col(CaseEvent.from_state).is_(None), func.date(CaseEvent.at) >= start, func.date(CaseEvent.at) < end)
        .where(Case.state != State.DUPLICATE)
        .order_by(col(Case.code))
    ).all()
    new_referrals = [
        {"case_code": c.code, "office": c.office_code or "—", "state": c.state.value, "on": _dmy(_day(at))}
        for c, at in created
    ]

    busy = select(PolicyMeasure.case_id).where(col(PolicyMeasure.status).in_(OPEN_MEASURE))
    entered = (
        select(CaseEvent.case_id, func.max(CaseEvent.at).label("at"))
        .where(CaseEvent.to_state == State.POLICY)
        .group_by(col(CaseEvent.case_id))
        .subquery()
    )
    waiting = session.exec(
        select(Case, entered.c.at)
        .join(entered, entered.c.case_id == Case.id)
        .where(Case.state == State.POLICY, col(Case.id).not_in(busy), func.date(entered.c.at) < end)
        .order_by(col(Case.code))
    ).all()
    proposals = _proposed(session, [c.code for c, _ in waiting])
    awaiting = [
        {
            "case_code": c.code,
            "office": c.office_code or "—",
            "since": _dmy(_day(at)),
            "days": str((held_on - _day(at)).days),
            "options": ", ".join(m.code for m in proposals.get(c.code, [])) or "—",
        }
        for c, at in waiting
    ]

    horizon = held_on + timedelta(days=rules.tavolo.ending_within_days)
    ending_rows = session.exec(
        select(Case, PolicyMeasure)
        .join(PolicyMeasure, col(PolicyMeasure.case_id) == col(Case.id))
        .where(
            col(PolicyMeasure.status).in_([MeasureStatus.STARTED, MeasureStatus.COMPLETED, MeasureStatus.INTERNSHIP]),
            col(PolicyMeasure.expected_end) >= held_on,
            col(PolicyMeasure.expected_end) <= horizon,
        )
        .order_by(col(PolicyMeasure.expected_end), col(Case.code))
    ).all()
    ending = [
        {
            "case_code": c.code,
            "measure": m.code,
            "status": _STATUS_IT[m.status],
            "expected_end": _dmy(m.expected_end) if m.expected_end else "—",
        }
        for c, m in ending_rows
    ]

    hires = session.exec(
        select(Case, CaseEvent.at)
        .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
        .where(CaseEvent.to_state == State.HIRED, func.date(CaseEvent.at) >= start, func.date(CaseEvent.at) < end)
        .order_by(col(Case.code))
    ).all()
    placements = []
    for c, at in hires:
        outcome = session.exec(
            select(Outcome)
            .where(Outcome.case_id == c.id, Outcome.kind == OutcomeKind.HIRED)
            .order_by(col(Outcome.id).desc())
        ).first()
        placements.append(
            {
                "case_code": c.code,
                "route": c.route or "—",
                "company": outcome.company_code or "—" if outcome else "—",
                "days": str(outcome.length_days) if outcome and outcome.length_days is not None else "—",
                "on": _dmy(_day(at)),
            }
        )
    return Agenda(held_on, since, new_referrals, awaiting, ending, placements)


_SECTIONS = (
    (
        "new_referrals",
        "Nuove segnalazioni",
        (("case_code", "Pratica"), ("office", "CPI"), ("state", "Stato"), ("on", "Segnalata il")),
    ),
    (
        "awaiting",
        "In attesa di decisione",
        (
            ("case_code", "Pratica"),
            ("office", "CPI"),
            ("since", "In politica dal"),
            ("days", "Giorni"),
            ("options", "Misure proposte"),
        ),
    ),
    (
        "ending",
        "Misure in scadenza",
        (("case_code", "Pratica"), ("measure", "Misura"), ("status", "Stato"), ("expected_end", "Fine prevista")),
    ),
    (
        "placements",
        "Inserimenti lavorativi",
        (
            ("case_code", "Pratica"),
            ("route", "Percorso"),
            ("company", "Azienda"),
            ("days", "Giorni contratto"),
            ("on", "Data"),
        ),
    ),
)


def agenda_markdown(agenda: Agenda) -> str:
    """The agenda as the table reads it (and as the artifact stores it): codes only."""
    lines = [
        f"# Tavolo Sistema Lavoro – {_dmy(agenda.held_on)}",
        "",
        f"Periodo: dal {_dmy(agenda.since)} al {_dmy(agenda.held_on - timedelta(days=1))}",
    ]
    for attr, title, columns in _SECTIONS:
        rows: list[dict[str, str]] = getattr(agenda, attr)
        lines += ["", f"## {title} ({len(rows)})", ""]
        if not rows:
            lines.append("Nessuna.")
            continue
        lines.append("| " + " | ".join(label for _, label in columns) + " |")
        lines.append("|" + "---|" * len(columns))
        lines += ["| " + " | ".join(r[key] for key, _ in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def open_meeting(session: Session, *, held_on: date) -> tuple[Agenda, int]:
    """Build the agenda, record the meeting (once per day) and email every member of the
    table (one outbox row each; a rerun sends nothing twice). Returns (agenda, emails queued)."""
    rules = load_policies()
    agenda = build_agenda(session, held_on)
    meeting = session.exec(select(TavoloMeeting).where(TavoloMeeting.held_on == held_on)).first()
    if meeting is None:
        session.add(TavoloMeeting(held_on=held_on, since=agenda.since, agenda=agenda.codes()))
    queued = 0
    context = {
        "meeting_date": held_on,
        "since": agenda.since,
        "until": held_on - timedelta(days=1),
        "new_referrals": agenda.new_referrals,
        "awaiting": agenda.awaiting,
        "ending": agenda.ending,
        "placements": agenda.placements,
    }
    for code in rules.tavolo.members:
        org = session.get(Organisation, code)
        if org is None:
            continue
        if enqueue_email(
            session,
            key=f"tavolo:{held_on.isoformat()}:{code}",
            kind="tavolo_agenda",
            recipient=org.email,
            recipient_code=org.code,
            context={**context, "member_name": org.name},
        ):
            queued += 1
    return agenda, queued


def tavolo_initial(session: Session, *, held_on: date) -> list[dict[str, Any]]:
    """The decision form's rows: the meeting's waiting cases, 'defer' and the first proposal."""
    meeting = session.exec(select(TavoloMeeting).where(TavoloMeeting.held_on == held_on)).one()
    codes = meeting.agenda.get("awaiting", [])
    proposals = _proposed(session, codes)
    return [
        {
            "case_code": c,
            "decision": TavoloDecisionKind.DEFER.value,
            "measure": proposals[c][0].code if proposals.get(c) else "",
        }
        for c in codes
    ]


def validate_tavolo(session: Session, rows: list[dict[str, Any]], *, held_on: date) -> list[str]:
    """Decisions only about the agenda's cases; assign needs a proposed measure; back to the
    pool needs the candidate's consent to share the profile again."""
    from tasks.core.consent import has_consent

    meeting = session.exec(select(TavoloMeeting).where(TavoloMeeting.held_on == held_on)).one()
    on_agenda = {c for codes in meeting.agenda.values() for c in codes}
    problems = []
    for row in rows:
        code, decision = str(row.get("case_code")), TavoloDecisionKind(row.get("decision", "defer"))
        if code not in on_agenda:
            problems.append(f"{code}: pratica non all'ordine del giorno")
            continue
        case = session.exec(select(Case).where(Case.code == code)).one()
        if decision is TavoloDecisionKind.ASSIGN:
            options = [m.code for m in _proposed(session, [code]).get(code, [])]
            if str(row.get("measure") or "") not in options:
                problems.append(
                    f"{code}: per «assign» indicare una misura proposta ({', '.join(options) or 'nessuna'})"
                )
        elif decision is TavoloDecisionKind.BACK_TO_POOL:
            if case.state is not State.POLICY:
                problems.append(f"{code}: solo le pratiche in politica attiva tornano tra i profili inviati")
            elif not has_consent(session, case.person_key, ConsentPurpose.PROFILE_TO_CONFINDUSTRIA):
                problems.append(f"{code}: manca il consenso all'invio del profilo a Confindustria")
        elif decision is TavoloDecisionKind.CLOSE and case.state not in (State.POLICY, State.DISPATCHED):
            problems.append(f"{code}: chiusura dal tavolo solo per pratiche in politica attiva")
    return problems


def record_tavolo_decisions(
    session: Session, rows: list[dict[str, Any]], *, held_on: date, flow_run_id: str | None = None
) -> dict[str, int]:
    """Each decision becomes a ``tavolo_decision`` event of its case; assign chooses the
    measure (provider emailed), back_to_pool and close move the case."""
    from models.enums import CloseReason

    meeting = session.exec(select(TavoloMeeting).where(TavoloMeeting.held_on == held_on)).one()
    counts: Counter[str] = Counter()
    for row in rows:
        code, decision = str(row["case_code"]), TavoloDecisionKind(row.get("decision", "defer"))
        case = session.exec(select(Case).where(Case.code == code)).one()
        measure = None
        if decision is TavoloDecisionKind.ASSIGN:
            measure = next(m for m in _proposed(session, [code])[code] if m.code == row.get("measure"))
            choose_measure(session, case, measure, held_on, actor=TAVOLO_ACTOR, flow_run_id=flow_run_id)
        elif decision is TavoloDecisionKind.BACK_TO_POOL:
            for m in _proposed(session, [code]).get(code, []):
                m.status = MeasureStatus.NOT_CHOSEN
                session.add(m)
            transition(
                session,
                case,
                State.DISPATCHED,
                actor=TAVOLO_ACTOR,
                reason="tavolo:back_to_pool",
                flow_run_id=flow_run_id,
            )
        elif decision is TavoloDecisionKind.CLOSE:
            transition(
                session,
                case,
                State.CLOSED,
                actor=TAVOLO_ACTOR,
                reason=f"tavolo:{CloseReason.OTHER.value}",
                flow_run_id=flow_run_id,
            )
        _event(
            session,
            case,
            "tavolo_decision",
            held_on,
            measure=measure,
            detail=f"{decision.value}:{measure.code}" if measure else decision.value,
            actor=TAVOLO_ACTOR,
            flow_run_id=flow_run_id,
        )
        counts[decision.value] += 1
    meeting.decisions_recorded += sum(counts.values())
    session.add(meeting)
    return dict(counts)


def policy_routes(session: Session) -> dict[str, int]:
    """Hired cases per kind of the measure that led to the hire (gol, dul, garanzia_giovani,
    territorial, training): what the demo's funnel prints under the hires."""
    rows = session.exec(
        select(PolicyMeasure.kind, func.count(func.distinct(PolicyMeasure.case_id)))
        .join(Case, col(Case.id) == col(PolicyMeasure.case_id))
        .where(
            PolicyMeasure.status == MeasureStatus.HIRED,
            Case.state == State.HIRED,
            col(Case.route) == col(PolicyMeasure.code),
        )
        .group_by(col(PolicyMeasure.kind))
    ).all()
    return {MeasureKind(k).value: n for k, n in rows}
