"""Operator forms for human-in-the-loop steps (Prefect RunInput): structured fields only.

Prefect stores form inputs in plain text, so these carry case codes, levels, codes, yes/no and
enums — never names or free text. Titles and descriptions are Italian: the UI shows them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from prefect.input import RunInput
from pydantic import BaseModel, Field, field_validator

from models.enums import Availability, Cefr, Isced, Licence, Recognition

#: A case code (BG-2026-000123); the number grows past six digits after a million cases.
CASE_CODE = r"^[A-Z]{2}-\d{4}-\d{6,}$"


class IntakeResult(BaseModel):
    """Esito del colloquio di presa in carico per una pratica."""

    case_code: str = Field(pattern=CASE_CODE, title="Pratica", description="Codice pratica (es. BG-2026-000123)")
    present: bool = Field(True, title="Presente al colloquio", description="No = assente (NO_SHOW, da riprogrammare)")
    listening: Cefr = Field(Cefr.PRE_A1, title="Italiano: ascolto", description="Livello QCER (test UniBG)")
    reading: Cefr = Field(Cefr.PRE_A1, title="Italiano: lettura", description="Livello QCER")
    interaction: Cefr = Field(Cefr.PRE_A1, title="Italiano: interazione", description="Livello QCER")
    production: Cefr = Field(Cefr.PRE_A1, title="Italiano: produzione orale", description="Livello QCER")
    writing: Cefr = Field(Cefr.PRE_A1, title="Italiano: scrittura", description="Livello QCER")
    education: Isced = Field(
        Isced.LOWER_SECONDARY, title="Titolo di studio (ISCED)", description="0 = nessuno … 3 = diploma … 6 = laurea"
    )
    recognition: Recognition = Field(
        Recognition.NOT_NEEDED, title="Riconoscimento del titolo", description="Titolo estero: stato del riconoscimento"
    )
    occupations: list[str] = Field(
        default_factory=list,
        max_length=5,
        title="Mansioni (codici ISCO-08)",
        description="Fino a 5 codici a 4 cifre dalla tassonomia, es. 7212",
    )
    experience_years: int = Field(0, ge=0, le=50, title="Anni di esperienza")
    licence: Licence = Field(Licence.NONE, title="Patente", description="Patente di guida o patentino muletto")
    availability: Availability = Field(
        Availability.FULL_TIME, title="Disponibilità", description="Tempo pieno, part-time o turni"
    )
    shifts: bool = Field(True, title="Disponibile a turni")
    mobility_km: int = Field(20, ge=0, le=200, title="Raggio di spostamento (km)")
    consent_confindustria: bool = Field(False, title="Consenso invio profilo a Confindustria")
    consent_cpia: bool = Field(False, title="Consenso iscrizione al CPIA")
    consent_privacy: bool | None = Field(
        None,
        title="Consenso al trattamento dei dati (se da raccogliere)",
        description="Solo per le persone segnalate senza consenso: Sì = raccolto al colloquio, "
        "No = rifiutato (la pratica si chiude); lasciare vuoto per le altre",
    )

    @field_validator("occupations")
    @classmethod
    def _isco_codes(cls, v: list[str]) -> list[str]:
        for code in v:
            if not (len(code) == 4 and code.isdigit()):
                raise ValueError(f"codice ISCO non valido: {code!r} (servono 4 cifre)")
        return v


class IntakeForm(RunInput):
    """Esiti della giornata di colloqui di un CPI (una riga per pratica)."""

    results: list[IntakeResult] = Field(title="Esiti dei colloqui")


class LiteracyResult(BaseModel):
    case_code: str = Field(pattern=CASE_CODE, title="Pratica")
    outcome: Literal["passed", "failed", "dropped"] = Field(
        title="Esito del corso", description="passed = superato, failed = non superato, dropped = ritirato"
    )
    listening: Cefr = Field(title="Italiano: ascolto", description="Livello QCER dopo il corso")
    reading: Cefr = Field(title="Italiano: lettura", description="Livello QCER dopo il corso")
    interaction: Cefr = Field(title="Italiano: interazione", description="Livello QCER dopo il corso")
    production: Cefr = Field(title="Italiano: produzione orale", description="Livello QCER dopo il corso")
    writing: Cefr = Field(title="Italiano: scrittura", description="Livello QCER dopo il corso")


class LiteracyForm(RunInput):
    """Esiti dei corsi di italiano CPIA e nuova valutazione."""

    results: list[LiteracyResult] = Field(title="Esiti dei corsi")


class DedupDecisionRow(BaseModel):
    review_id: int = Field(title="Segnalazione da verificare", description="Numero della verifica")
    case_code: str = Field(pattern=CASE_CODE, title="Nuova pratica")
    candidate_code: str = Field(pattern=CASE_CODE, title="Pratica esistente simile")
    score: float = Field(0, title="Somiglianza (0-100)", description="Solo indicativo")
    same_person: bool = Field(False, title="Stessa persona", description="Sì = unire alla pratica esistente")


class DedupForm(RunInput):
    """Possibili duplicati nella fascia grigia: decidere se si tratta della stessa persona."""

    decisions: list[DedupDecisionRow] = Field(title="Decisioni")


class MatchApprovalRow(BaseModel):
    vacancy_code: str = Field(title="Posizione")
    approved: list[str] = Field(
        default_factory=list,
        title="Pratiche approvate",
        description="Codici pratica da proporre (dalla graduatoria); vuoto = nessuna proposta",
    )


class MatchApprovalForm(RunInput):
    """Approvazione delle graduatorie posizione–profili prima dell'invio."""

    vacancies: list[MatchApprovalRow] = Field(title="Posizioni")


# --- operator forms (Prefect RunInput: codes, enums and yes/no only) ----------------------------


class PolicyDecisionRow(BaseModel):
    """La misura scelta per una pratica."""

    case_code: str = Field(pattern=CASE_CODE, title="Pratica")
    options: list[str] = Field(
        default_factory=list, title="Misure proposte", description="Solo informativo: codici delle misure ammissibili"
    )
    choice: str = Field(
        "",
        max_length=64,
        title="Misura scelta",
        description="Uno dei codici proposti (es. gol, training:TRN-0001-0002); vuoto = decide il tavolo",
    )
    provider_code: str = Field(
        "",
        max_length=64,
        title="Ente attuatore",
        description="Codice dell'ente accreditato o di formazione; vuoto = quello previsto",
    )


class PolicyDecisionForm(RunInput):
    """Scelta delle politiche attive per le pratiche senza interesse delle aziende."""

    decisions: list[PolicyDecisionRow] = Field(title="Decisioni")


class TavoloDecisionKind(StrEnum):
    ASSIGN = "assign"  # assign a proposed measure
    BACK_TO_POOL = "back_to_pool"  # back among profiles sent to companies
    DEFER = "defer"  # discussed again next month
    CLOSE = "close"


class TavoloDecisionRow(BaseModel):
    """Decisione del tavolo su una pratica in agenda."""

    case_code: str = Field(pattern=CASE_CODE, title="Pratica")
    decision: TavoloDecisionKind = Field(
        TavoloDecisionKind.DEFER,
        title="Decisione",
        description="assign = assegna la misura, back_to_pool = torna tra i profili inviati, defer = rinvia, "
        "close = chiude la pratica",
    )
    measure: str = Field("", max_length=64, title="Misura", description="Codice misura (solo per assign)")


class TavoloDecisionForm(RunInput):
    """Decisioni del tavolo mensile Sistema Lavoro (solo codici pratica e misura)."""

    decisions: list[TavoloDecisionRow] = Field(title="Decisioni del tavolo")
