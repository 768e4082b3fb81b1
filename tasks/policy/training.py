"""Funded training: the skills/Italian gaps a course can cover (pure) and the training offer file ingest."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError, ValidationInfo, field_validator, model_validator
from sqlmodel import Session, select

from config.data import load_taxonomy, normalize_text
from config.skills import load_skills
from models.enums import Cefr, OrgKind
from models.exchange import Vacancy
from models.people import Organisation
from models.policy import MeasureKind, TrainingOffer
from tasks.files.imports import RowRejected, context_session, import_rows, start_import
from tasks.files.rows import parse_level, parse_yes_no, required_text, safe_value
from tasks.files.tabular import parse_date
from tasks.matching.scoring import (
    ITALIAN_TOO_LOW,
    MatchWeights,
    ProfileFacts,
    VacancyFacts,
    configured_matching,
    score_pair,
)
from tasks.policy.measures import CaseFacts, Check, Verdict, dmy, permit_check
from tasks.policy.rules import PolicyRules

# --------------------------------------------------------------------------------------------
# Training gaps (pure): from match parts to what a person lacks, and the courses that cover it


@dataclass(frozen=True)
class Gap:
    """A vacancy the profile is near to, and what it lacks for it: the coded requirements it does
    not hold (``missing_codes``, codes of config/skills.yaml) and, as written, the requirements
    that name nothing of that list and that its skills do not cover (``missing_skills``)."""

    vacancy_code: str
    occupation_code: str
    occupation_part: float
    missing_skills: tuple[str, ...] = ()
    italian_needed: Cefr | None = None
    missing_codes: tuple[str, ...] = ()

    @property
    def missing_count(self) -> int:
        return len(self.missing_codes) + len(self.missing_skills)


def _words(text: str) -> list[str]:
    return [w for w in normalize_text(text).replace("-", " ").split() if len(w) >= 3]


def skill_covered(need: str, have: Sequence[str], threshold: int) -> bool:
    """Every significant word of ``need`` appears (fuzzily: ``threshold`` 0-100, so
    "saldature" meets "saldatura") in one of the ``have`` skills — "saldatura MIG" does not
    cover "saldatura TIG", which a whole-string similarity would call 92% alike.

    The rule for texts that name nothing of config/skills.yaml: what the list names is compared
    by code (:func:`text_codes`), where "patente C" is not covered by "patente B"."""
    words = _words(need)
    if not words:
        return True
    from rapidfuzz import fuzz  # here, not at import: the policy flow starts without rapidfuzz

    for skill in have:
        mine = _words(skill)
        if mine and all(max(fuzz.ratio(w, m) for m in mine) >= threshold for w in words):
            return True
    return False


@lru_cache(maxsize=4096)
def text_codes(text: str) -> tuple[str, ...]:
    """The codes of config/skills.yaml one requirement or course skill names, as a vacancy's
    import codes it (tasks/matching/skills.py); empty when it names nothing of the list."""
    from tasks.matching.skills import default_matcher  # rapidfuzz: only when gaps are computed

    return tuple(default_matcher().codes(text))


def held_codes(texts: Iterable[str], codes: Iterable[str] = ()) -> frozenset[str]:
    """What a person holds (or a course teaches): ``codes`` and the codes ``texts`` name, with
    everything they imply (patente CE covers C and B)."""
    named = [c for text in texts for c in text_codes(text)]
    return frozenset(load_skills().with_implied([*codes, *named]))


def missing_requirements(
    profile: ProfileFacts, requirements: Sequence[str], threshold: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The coded requirements the profile does not hold, and the uncoded ones (as written) that
    its skills do not cover by words: ``(missing_codes, missing_skills)``."""
    held = held_codes(profile.skills, profile.skill_codes)
    codes: dict[str, None] = {}
    texts: list[str] = []
    for need in requirements:
        named = text_codes(need)
        if named:
            codes.update((c, None) for c in named if c not in held)
        elif not skill_covered(need, profile.skills, threshold):
            texts.append(need)
    return tuple(codes), tuple(texts)


def training_gaps(
    profile: ProfileFacts,
    vacancies: Sequence[VacancyFacts],
    rules: PolicyRules,
    *,
    weights: MatchWeights | None = None,
    max_km: float | None = None,
) -> list[Gap]:
    """Vacancies whose occupation is near the profile's (``near_occupation``) and where only
    skills (part below ``skills_ok``) or the Italian level keep the person out; nearest first.
    Other hard constraints (licence, distance) are not a training matter and exclude the pair;
    the pair is scored with the matching rules of config/routing.yaml unless given."""
    if weights is None or max_km is None:
        configured, configured_km, _ = configured_matching()
        weights = configured if weights is None else weights
        max_km = configured_km if max_km is None else max_km
    t = rules.training
    out: list[Gap] = []
    for v in vacancies:
        result = score_pair(profile, v, weights, max_km)
        if result.parts["occupation"] < t.near_occupation:
            continue
        if set(result.excluded) - {ITALIAN_TOO_LOW}:
            continue
        codes: tuple[str, ...] = ()
        texts: tuple[str, ...] = ()
        if result.parts["skills"] < t.skills_ok:
            codes, texts = missing_requirements(profile, v.skills, t.skill_covered)
        italian = v.italian_required if result.parts["language"] < 1.0 else None
        if codes or texts or italian is not None:
            out.append(Gap(v.vacancy_code, v.occupation_code, result.parts["occupation"], texts, italian, codes))
    return sorted(out, key=lambda g: (-g.occupation_part, g.missing_count, g.vacancy_code))


def _covers(offer: TrainingOffer, gap: Gap, rules: PolicyRules) -> bool:
    if offer.vacancy_code is not None and offer.vacancy_code == gap.vacancy_code:
        return True  # built with the company for this very position
    near = any(code[:3] == gap.occupation_code[:3] for code in offer.occupation_codes)
    if not near:
        return False
    taught = held_codes(offer.skills) if gap.missing_codes else frozenset()
    codes_ok = all(code in taught for code in gap.missing_codes)
    skills_ok = codes_ok and all(
        skill_covered(s, offer.skills, rules.training.skill_covered) for s in gap.missing_skills
    )
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
    if gap.missing_count:
        named = [load_skills().label(c) for c in gap.missing_codes]
        lacks.append(f"competenze mancanti: {', '.join([*named, *gap.missing_skills])}")
    if gap.italian_needed is not None:
        lacks.append(f"italiano {facts.italian.value}, richiesto {gap.italian_needed.value}")
    extras = [
        "con tirocinio" if offer.internship else "senza tirocinio",
        "indennità di frequenza" if offer.allowance else "senza indennità",
    ]
    checks = (
        Check(True, f"vicino alla posizione {gap.vacancy_code} (ISCO {gap.occupation_code}); {'; '.join(lacks)}"),
        Check(True, f"corso {offer.code} dal {dmy(offer.start)}, {offer.hours} ore, {', '.join(extras)}"),
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
# Training offers: ingestion like vacancies


def int_in(v: Any, low: int, high: int, what: str) -> int:
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
        return int_in(v, 1, 2000, "numero di ore")

    @field_validator("seats", mode="before")
    @classmethod
    def _seats(cls, v: Any) -> int:
        return int_in(v, 1, 500, "numero di posti")

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
    from tasks.matching.occupations import CONFIRM_BELOW, default_coder

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
        # Only sure codes: the position's unless it is still to confirm, else the title's when the
        # coder is sure (Coding.code); none is better than a wrong one.
        if not codes and row.vacancy_code:
            vacancy = session.exec(select(Vacancy).where(Vacancy.code == row.vacancy_code)).one()
            sure = vacancy.occupation_score is None or vacancy.occupation_score >= CONFIRM_BELOW
            codes = [vacancy.occupation_code] if vacancy.occupation_code and sure else []
        if not codes:
            best = coder.suggest(row.title).code
            codes = [best] if best else []
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
