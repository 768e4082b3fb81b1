"""Italian words for every stored value of models/enums.py: what people read in emails, forms,
spreadsheets and pages instead of a storage string (``full_time``, ``none``, ``ISCED 2``).

Kept next to the enums, at the bottom layer, so the public profile (tasks/core/profiles.py), the
templates' filters (tasks/mail/formatting.py) and the reports all say the same words;
tests/unit/test_italian_everywhere.py checks that every value has its label.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from models.enums import (
    AssessmentSource,
    Availability,
    Cefr,
    Channel,
    CloseReason,
    ConsentPurpose,
    InterestAnswer,
    Isced,
    Language,
    Licence,
    OrgKind,
    OutboxStatus,
    OutcomeKind,
    PolicyKind,
    Recognition,
    State,
    VacancyStatus,
)

LABELS: dict[type[StrEnum], dict[str, str]] = {
    State: {
        "referred": "segnalata",
        "duplicate": "doppione",
        "accepted": "presa in carico",
        "rejected": "respinta",
        "intake_scheduled": "colloquio fissato",
        "intake_done": "colloquio svolto",
        "no_show": "assente al colloquio",
        "literacy": "corso di italiano",
        "profile_ready": "profilo pronto",
        "dispatched": "inviata a Confindustria",
        "interest": "interesse di un'azienda",
        "interview": "colloquio in azienda",
        "hired": "assunta",
        "not_selected": "non selezionata",
        "policy": "politica attiva",
        "withdrawn": "ritirata",
        "closed": "chiusa",
        "erased": "cancellata",
    },
    Cefr: {"pre-A1": "pre-A1", "A1": "A1", "A2": "A2", "B1": "B1", "B2": "B2", "C1": "C1", "C2": "C2"},
    OrgKind: {
        "caritas": "Caritas",
        "ambito": "ambito territoriale",
        "association": "associazione",
        "cpia": "CPIA",
        "confindustria": "Confindustria",
        "labour_service": "servizio provinciale per il lavoro",
        "coordinator": "coordinamento",
        "training_body": "ente accreditato",
        "company": "azienda",
        "cpi": "Centro per l'Impiego",
    },
    ConsentPurpose: {
        "cpi_processing": "trattamento dei dati da parte del CPI",
        "cpia_enrolment": "iscrizione al CPIA",
        "profile_to_confindustria": "invio del profilo a Confindustria",
        "contact_to_company": "recapiti a un'azienda",
        "referrer_contact": "aggiornamenti all'ente segnalante",
    },
    Channel: {"file": "file", "form": "modulo", "api": "collegamento"},
    CloseReason: {
        "no_show_repeated": "assenze ripetute ai colloqui",
        "moved_away": "trasferita altrove",
        "found_job_alone": "ha trovato lavoro da sola",
        "not_reachable": "non rintracciabile",
        "not_interested": "non più interessata",
        "consent_withdrawn": "consenso revocato",
        "retention": "termine di conservazione dei dati",
        "other": "altro motivo",
    },
    AssessmentSource: {
        "unibg_test": "test dell'Università di Bergamo",
        "cpia_certificate": "certificato del CPIA",
        "self_report": "dichiarato dalla persona",
        "operator": "valutazione dell'operatore",
    },
    Isced: {
        "0": "nessun titolo di studio",
        "1": "licenza elementare",
        "2": "licenza media",
        "3": "diploma di scuola superiore",
        "4": "diploma post-secondario",
        "5": "diploma di tecnico superiore (ITS)",
        "6": "laurea triennale",
        "7": "laurea magistrale",
        "8": "dottorato",
    },
    Recognition: {
        "not_needed": "non necessario",
        "not_requested": "non richiesto",
        "in_progress": "in corso",
        "recognised": "riconosciuto",
    },
    Licence: {  # shown under the heading "Patente"
        "none": "nessuna",
        "B": "B",
        "C": "C",
        "CE": "CE",
        "D": "D",
        "forklift": "solo patentino del muletto",
    },
    Availability: {"full_time": "tempo pieno", "part_time": "part-time", "shifts": "turni"},
    VacancyStatus: {"open": "aperta", "closed": "chiusa", "awaiting_company": "azienda da identificare"},
    InterestAnswer: {"interested": "interessata", "interview": "chiede un colloquio", "no": "non interessata"},
    OutcomeKind: {
        "hired": "assunta",
        "not_selected": "non selezionata",
        "policy": "avviata alle politiche attive",
        "employed_180": "ancora occupata a 180 giorni",
        "left_180": "non più occupata a 180 giorni",
        "unknown_180": "esito a 180 giorni non verificabile",
    },
    PolicyKind: {
        "gol": "GOL",
        "dul": "Dote Unica Lavoro",
        "garanzia_giovani": "Garanzia Giovani",
        "training": "corso di formazione",
    },
    OutboxStatus: {
        "pending": "in attesa",
        "sending": "in invio",
        "sent": "inviato",
        "failed": "non recapitato",
        "cancelled": "annullato",
    },
    Language: {"it": "italiano", "en": "inglese", "uk": "ucraino"},
}

_BY_VALUE: dict[str, str] = {}
for _enum in (Availability, Licence, Recognition, InterestAnswer, OutcomeKind, PolicyKind, CloseReason):
    _BY_VALUE.update(LABELS[_enum])  # the values a template may receive bare (no enum type)


def label(value: Any, enum: type[StrEnum] | None = None, *, empty: str = "—") -> str:
    """The Italian words for ``value`` (an enum member, or its stored string with ``enum``);
    a value without a label is returned as written, never dropped."""
    if value is None or value == "":
        return empty
    if isinstance(value, StrEnum):
        return LABELS.get(type(value), {}).get(value.value, value.value)
    text = str(value)
    if enum is not None:
        return LABELS.get(enum, {}).get(text, text)
    return _BY_VALUE.get(text, text)
