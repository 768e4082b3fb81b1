"""Eligibility (pure): case facts, checks and verdicts for each programme, testable without a database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.enums import Cefr, Isced, PolicyKind, Recognition
from models.policy import MeasureKind
from tasks.policy.rules import PolicyRules, TerritorialProject, load_policies

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


def dmy(day: date) -> str:
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
        return Check(True, f"permesso di soggiorno valido fino al {dmy(facts.permit_expiry)}")
    kind = (facts.permit_type or "").casefold()
    if any(t.casefold() in kind for t in rules.permit.renewal_receipt_types):
        return Check(True, f"permesso scaduto il {dmy(facts.permit_expiry)} con ricevuta di rinnovo: può lavorare")
    return Check(
        False,
        f"permesso di soggiorno scaduto il {dmy(facts.permit_expiry)}: serve la ricevuta di rinnovo prima della misura",
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
        checks.append(Check(False, f"progetto attivo dal {dmy(p.valid_from)}"))
    elif p.valid_until and day > p.valid_until:
        checks.append(Check(False, f"progetto concluso il {dmy(p.valid_until)}"))
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
