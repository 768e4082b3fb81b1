"""Operator forms for human-in-the-loop steps (Prefect RunInput): structured fields only.

Prefect stores form inputs in plain text, so these carry case codes, levels, codes, yes/no and
closed choices — never names or free text. Everything the UI draws is Italian: titles,
descriptions and the choices, which are listed by their words and stored by their codes
(models/form_choices.py); tests/unit/test_form_labels.py checks every form's schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, field_validator

from models.enums import Availability, Cefr, Isced, Licence, Recognition
from models.form_choices import Choices, FormRow, ItalianForm, listing_choices, measure_choices, naming_measures

#: A case code (BG-2026-000123); the number grows past six digits after a million cases.
CASE_CODE = r"^[A-Z]{2}-\d{4}-\d{6,}$"
#: A code of config/skills.yaml (area.name, e.g. abilitazioni.carrello-elevatore): a name, a phone
#: or an email typed into the field does not fit, so the server refuses it before storing it.
SKILL_CODE = r"^[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*$"
#: A language spoken, as its ISO 639-1 code (uk, ru, en, ar).
LANGUAGE_CODE = r"^[a-z]{2}$"


#: The intake's choices, in the words of models/labels.py (the profile sent to Confindustria says the same).
LevelChoice = Annotated[Cefr, Choices.of(Cefr)]
EducationChoice = Annotated[Isced, Choices.of(Isced)]
RecognitionChoice = Annotated[Recognition, Choices.of(Recognition)]
LicenceChoice = Annotated[Licence, Choices.of(Licence)]
AvailabilityChoice = Annotated[Availability, Choices.of(Availability)]


class IntakeResult(FormRow):
    """Esito del colloquio di presa in carico per una pratica."""

    model_config = ConfigDict(title="Esito del colloquio")

    case_code: str = Field(pattern=CASE_CODE, title="Pratica", description="Codice pratica (es. BG-2026-000123)")
    present: bool = Field(
        True, title="Presente al colloquio", description="No = assente: la persona riceve un nuovo appuntamento"
    )
    listening: LevelChoice = Field(Cefr.PRE_A1, title="Italiano: ascolto", description="Livello QCER (test UniBG)")
    reading: LevelChoice = Field(Cefr.PRE_A1, title="Italiano: lettura", description="Livello QCER")
    interaction: LevelChoice = Field(Cefr.PRE_A1, title="Italiano: interazione", description="Livello QCER")
    production: LevelChoice = Field(Cefr.PRE_A1, title="Italiano: produzione orale", description="Livello QCER")
    writing: LevelChoice = Field(Cefr.PRE_A1, title="Italiano: scrittura", description="Livello QCER")
    education: EducationChoice = Field(
        Isced.LOWER_SECONDARY, title="Titolo di studio", description="Il titolo più alto conseguito, anche all'estero"
    )
    recognition: RecognitionChoice = Field(
        Recognition.NOT_NEEDED,
        title="Riconoscimento del titolo",
        description="Per un titolo conseguito all'estero: a che punto è il riconoscimento in Italia",
    )
    occupations: list[str] = Field(
        default_factory=list,
        max_length=5,
        title="Mansioni (codici delle professioni)",
        description="Fino a 5 codici a 4 cifre della classificazione internazionale delle professioni, "
        "es. 7212 = saldatori, 9329 = manovali dell'industria",
    )
    experience_years: int = Field(0, ge=0, le=50, title="Anni di esperienza")
    licence: LicenceChoice = Field(
        Licence.NONE, title="Patente", description="Patente di guida, o solo il patentino del muletto"
    )
    availability: AvailabilityChoice = Field(
        Availability.FULL_TIME, title="Disponibilità", description="Tempo pieno, part-time o turni"
    )
    shifts: bool = Field(True, title="Disponibile a turni")
    mobility_km: int = Field(20, ge=0, le=200, title="Raggio di spostamento (km)")
    consent_confindustria: bool = Field(False, title="Consenso invio profilo a Confindustria")
    consent_cpia: bool = Field(False, title="Consenso iscrizione al CPIA")
    skills: list[str] = Field(
        default_factory=list,
        max_length=30,
        title="Competenze, patentini e attestati (codici dell'elenco)",
        description="Codici dell'elenco delle competenze, es. abilitazioni.carrello-elevatore (muletto), "
        "ristorazione.haccp, saldatura.tig, sicurezza.rischio-medio, patenti.cqc-merci; il modulo propone quelli "
        "letti nella segnalazione, da confermare o correggere al colloquio",
        json_schema_extra={"items": {"type": "string", "pattern": SKILL_CODE}},
    )
    languages: list[str] = Field(
        default_factory=list,
        max_length=10,
        title="Lingue parlate oltre all'italiano (codici ISO)",
        # Codes only, no language names: Russo, Greco, Inglese, Tedesco are also surnames, and a
        # form's schema is stored by Prefect (the PII scan would rightly not tell them apart).
        description="Due lettere per lingua secondo la norma ISO 639-1 (per esempio uk, ru, en, fr, ar, es, ro); "
        "l'italiano si indica con i livelli QCER",
        json_schema_extra={"items": {"type": "string", "pattern": LANGUAGE_CODE}},
    )
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

    @field_validator("skills")
    @classmethod
    def _skill_codes(cls, v: list[str]) -> list[str]:
        """The shape of a code only (whether the list has it is checked with the form's answers)."""
        for code in v:
            if not re.fullmatch(SKILL_CODE, code):
                raise ValueError(
                    "codice di competenza non valido: scrivere il codice dell'elenco, in minuscolo, "
                    "es. abilitazioni.carrello-elevatore"
                )
        return list(dict.fromkeys(v))

    @field_validator("languages", mode="before")
    @classmethod
    def _language_case(cls, v: object) -> object:
        """A code in any case or spacing ("UK", " uk") is read as "uk"; so are a list's words."""
        if not isinstance(v, list):
            return v
        return [x.strip().casefold() if isinstance(x, str) else x for x in v]

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, v: list[str]) -> list[str]:
        """Two lowercase letters per language (whether the list has it is checked with the answers)."""
        for code in v:
            if not re.fullmatch(LANGUAGE_CODE, code):
                raise ValueError("lingua non valida: due lettere per lingua (codice ISO 639-1), es. uk, ru, en")
        return list(dict.fromkeys(v))


#: The intake form's skills and languages as closed lists (IntakeForm.listing): their words.
INTAKE_LIST_WORDS: dict[str, dict[str, str]] = {
    "skills": {
        "title": "Competenze, patentini e attestati",
        "description": "Scegliere dall'elenco, anche più di una; il modulo propone quelle lette nella "
        "segnalazione, da confermare o correggere al colloquio",
    },
    "languages": {
        "title": "Lingue parlate oltre all'italiano",
        "description": "Scegliere dall'elenco, anche più di una; l'italiano si indica con i livelli QCER",
    },
}


class IntakeForm(ItalianForm):
    """Esiti della giornata di colloqui di un CPI (una riga per pratica)."""

    model_config = ConfigDict(title="Esiti dei colloqui")

    results: list[IntakeResult] = Field(title="Esiti dei colloqui")

    @classmethod
    def listing(cls, skills: Mapping[str, str], languages: Mapping[str, str]) -> type[IntakeForm]:
        """The form an operator fills: skills and languages chosen from their lists (code → Italian
        words: tasks/matching/skills.py intake_lists), shown by their words and stored by their
        codes, like every other choice. Scripts may still answer by code (answer_in_words)."""
        lists = {"skills": Choices(tuple(skills.items())), "languages": Choices(tuple(languages.items()))}
        return listing_choices(cls, lists, INTAKE_LIST_WORDS)  # type: ignore[no-any-return]


class CourseOutcome(StrEnum):
    """How a CPIA course ended: the stored code (``enrollment.outcome``), ``label`` in Italian.

    The form shows the Italian words (``label``) and stores the code; an answer by code is turned
    into the words by ``answer_form`` before the server checks it against the schema."""

    PASSED = "passed"
    FAILED = "failed"
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        """The outcome in Italian words."""
        return {"passed": "superato", "failed": "non superato"}.get(self.value, "ritirato o abbandonato")


_COURSE_LEVEL = "Livello QCER certificato dal CPIA; vuoto per chi si è ritirato"


class LiteracyResult(FormRow):
    """Esito del corso di italiano di una pratica, come lo comunica il CPIA."""

    model_config = ConfigDict(title="Esito del corso di una pratica")

    case_code: str = Field(pattern=CASE_CODE, title="Pratica")
    outcome: Annotated[CourseOutcome, Choices.of(CourseOutcome, {o.value: o.label for o in CourseOutcome})] = Field(
        title="Esito del corso",
        description="Superato; non superato (frequentato senza raggiungere il livello); ritirato o abbandonato "
        "(nessuna certificazione: livelli vuoti)",
    )
    listening: LevelChoice | None = Field(None, title="Italiano: ascolto", description=_COURSE_LEVEL)
    reading: LevelChoice | None = Field(None, title="Italiano: lettura", description=_COURSE_LEVEL)
    interaction: LevelChoice | None = Field(None, title="Italiano: interazione", description=_COURSE_LEVEL)
    production: LevelChoice | None = Field(None, title="Italiano: produzione orale", description=_COURSE_LEVEL)
    writing: LevelChoice | None = Field(None, title="Italiano: scrittura", description=_COURSE_LEVEL)


class LiteracyForm(ItalianForm):
    """Esiti dei corsi di italiano CPIA e nuova valutazione."""

    model_config = ConfigDict(title="Esiti dei corsi di italiano")

    results: list[LiteracyResult] = Field(title="Esiti dei corsi")


class DedupDecisionRow(FormRow):
    """Una possibile coppia di pratiche della stessa persona."""

    model_config = ConfigDict(title="Possibile doppione")

    review_id: int = Field(title="Segnalazione da verificare", description="Numero della verifica")
    case_code: str = Field(pattern=CASE_CODE, title="Nuova pratica")
    candidate_code: str = Field(pattern=CASE_CODE, title="Pratica esistente simile")
    score: float = Field(0, title="Somiglianza (0-100)", description="Solo indicativo")
    same_person: bool = Field(False, title="Stessa persona", description="Sì = unire alla pratica esistente")


class DedupForm(ItalianForm):
    """Possibili duplicati nella fascia grigia: decidere se si tratta della stessa persona."""

    model_config = ConfigDict(title="Possibili doppioni")

    decisions: list[DedupDecisionRow] = Field(title="Decisioni")


class MatchApprovalRow(FormRow):
    """La graduatoria di una posizione aperta."""

    model_config = ConfigDict(title="Graduatoria di una posizione")

    vacancy_code: str = Field(title="Posizione")
    approved: list[str] = Field(
        default_factory=list,
        title="Pratiche approvate",
        description="Codici pratica da proporre (dalla graduatoria); vuoto = nessuna proposta",
    )


class MatchApprovalForm(ItalianForm):
    """Approvazione delle graduatorie posizione–profili prima dell'invio."""

    model_config = ConfigDict(title="Graduatorie da approvare")

    vacancies: list[MatchApprovalRow] = Field(title="Posizioni")


class PolicyDecisionRow(FormRow):
    """La misura scelta per una pratica."""

    model_config = ConfigDict(title="Scelta per una pratica")

    case_code: str = Field(pattern=CASE_CODE, title="Pratica")
    options: list[str] = Field(
        default_factory=list,
        title="Misure proposte",
        description="Solo da leggere: le misure a cui la persona può accedere (per primi i corsi che colmano il "
        "divario con una posizione aperta)",
    )
    choice: str = Field(
        "",
        max_length=64,
        title="Misura scelta",
        description="Una delle misure proposte; «nessuna: decide il tavolo» (o vuoto) la lascia al tavolo mensile",
    )
    provider_code: str = Field(
        "",
        max_length=64,
        title="Ente attuatore",
        description="Codice dell'ente accreditato o di formazione; vuoto = quello previsto",
    )


class PolicyDecisionForm(ItalianForm):
    """Scelta delle politiche attive per le pratiche senza interesse delle aziende."""

    model_config = ConfigDict(title="Scelta delle politiche attive")

    decisions: list[PolicyDecisionRow] = Field(title="Decisioni")

    @classmethod
    def naming(cls, measures: Mapping[str, str]) -> type[PolicyDecisionForm]:
        """This run's form: the proposed measures (code → name) listed and chosen by name."""
        choices = measure_choices(measures, TABLE_DECIDES)
        return naming_measures(cls, {"options": list, "choice": str}, choices)  # type: ignore[no-any-return]


#: The policy form's choice that leaves the measure to the monthly table.
TABLE_DECIDES = "nessuna: decide il tavolo"


class TavoloDecisionKind(StrEnum):
    """What the table decides for a case: the stored code (``case_event`` reasons, the policy
    events); the form shows ``label``."""

    ASSIGN = "assign"  # assign a proposed measure
    BACK_TO_POOL = "back_to_pool"  # back among profiles sent to companies
    DEFER = "defer"  # discussed again next month
    CLOSE = "close"
    NEW_COURSE = "new_course"  # literacy cases: one more Italian course at the CPIA
    PROFILE = "profile"  # literacy cases: on to the job profile below the Italian threshold

    @property
    def label(self) -> str:
        """The decision in the words of the table's form."""
        return TAVOLO_WORDS[self.value]


#: The table's decisions as its form lists them.
TAVOLO_WORDS: dict[str, str] = {
    "assign": "assegnare la misura indicata",
    "back_to_pool": "riproporre il profilo alle aziende",
    "defer": "rinviare al prossimo tavolo",
    "close": "chiudere la pratica",
    "new_course": "un altro corso di italiano al CPIA",
    "profile": "preparare il profilo senza il livello di italiano richiesto",
}


class TavoloDecisionRow(FormRow):
    """Decisione del tavolo su una pratica in agenda."""

    model_config = ConfigDict(title="Decisione su una pratica")

    case_code: str = Field(pattern=CASE_CODE, title="Pratica")
    decision: Annotated[TavoloDecisionKind, Choices.of(TavoloDecisionKind, TAVOLO_WORDS)] = Field(
        TavoloDecisionKind.DEFER,
        title="Decisione",
        description="Assegnare una delle misure proposte, riproporre il profilo alle aziende, rinviare o chiudere; "
        "per chi non progredisce nei corsi di italiano anche un altro corso al CPIA o il profilo per il lavoro "
        "senza il livello richiesto",
    )
    measure: str = Field(
        "",
        max_length=64,
        title="Misura",
        description="La misura da assegnare, tra quelle proposte nell'ordine del giorno; «nessuna» (o vuoto) per le "
        "altre decisioni",
    )


class TavoloDecisionForm(ItalianForm):
    """Decisioni del tavolo mensile Sistema Lavoro (solo codici pratica e misura)."""

    model_config = ConfigDict(title="Decisioni del tavolo")

    decisions: list[TavoloDecisionRow] = Field(title="Decisioni del tavolo")

    @classmethod
    def naming(cls, measures: Mapping[str, str]) -> type[TavoloDecisionForm]:
        """This meeting's form: the measures proposed to its cases (code → name) listed by name."""
        return naming_measures(cls, {"measure": str}, measure_choices(measures, NO_MEASURE))  # type: ignore[no-any-return]


#: The tavolo form's measure for the decisions that assign none.
NO_MEASURE = "nessuna"


class FollowUpAnswer(StrEnum):
    """The 180-day check of a hire, in the words the Prefect form shows (never a code)."""

    PENDING = "da verificare"
    EMPLOYED = "ancora occupata"
    LEFT = "non più occupata"
    UNKNOWN = "non verificabile"


class FollowUpRow(FormRow):
    """Verifica a 180 giorni dall'assunzione per una pratica."""

    model_config = ConfigDict(title="Verifica di una pratica")

    case_code: str = Field(pattern=CASE_CODE, title="Pratica")
    outcome: Annotated[FollowUpAnswer, Choices.of(FollowUpAnswer, {a.value: a.value for a in FollowUpAnswer})] = Field(
        FollowUpAnswer.PENDING,
        title="Esito della verifica",
        description="Ancora occupata, non più occupata (rapporto concluso) o non verificabile (persona non "
        "rintracciata); «da verificare» lascia la verifica in sospeso",
    )
    observed_on: date | None = Field(
        None,
        title="Data",
        description="Giorno della verifica, o in cui il rapporto si è concluso; vuoto = oggi",
    )


class FollowUpForm(ItalianForm):
    """Verifiche a 180 giorni delle assunzioni (solo codici pratica)."""

    model_config = ConfigDict(title="Verifiche a 180 giorni")

    follow_ups: list[FollowUpRow] = Field(title="Verifiche a 180 giorni")
