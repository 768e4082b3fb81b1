"""The Italian words the desk shows for stored codes (states, purposes, channels, actors, reasons)."""

from __future__ import annotations

from typing import Any

from models.enums import ConsentPurpose, Language, State

#: One case's state, as a sentence fragment ("Stato: colloquio fissato").
STATE_ONE: dict[State, str] = {
    State.REFERRED: "segnalata, da esaminare",
    State.DUPLICATE: "unita a un'altra pratica",
    State.ACCEPTED: "accettata, colloquio da fissare",
    State.REJECTED: "respinta",
    State.INTAKE_SCHEDULED: "colloquio di accoglienza fissato",
    State.INTAKE_DONE: "colloquio di accoglienza svolto",
    State.NO_SHOW: "assente al colloquio",
    State.LITERACY: "corso di italiano (CPIA)",
    State.PROFILE_READY: "profilo pronto",
    State.DISPATCHED: "profilo inviato a Confindustria",
    State.INTEREST: "un'azienda è interessata",
    State.INTERVIEW: "colloquio in azienda",
    State.HIRED: "assunta",
    State.NOT_SELECTED: "non selezionata",
    State.POLICY: "politica attiva proposta",
    State.WITHDRAWN: "ritirata",
    State.CLOSED: "chiusa",
    State.ERASED: "dati cancellati",
}

PURPOSE_LABELS: dict[ConsentPurpose, str] = {
    ConsentPurpose.CPI_PROCESSING: "trattamento dei dati da parte del CPI",
    ConsentPurpose.CPIA_ENROLMENT: "comunicazione dei dati al CPIA per il corso di italiano",
    ConsentPurpose.PROFILE_TO_CONFINDUSTRIA: "invio del profilo (senza nome) a Confindustria e alle aziende",
    ConsentPurpose.CONTACT_TO_COMPANY: "comunicazione dei recapiti all'azienda interessata",
    ConsentPurpose.REFERRER_CONTACT: "aggiornamenti all'ente che ha segnalato la persona",
}

#: How the consent was collected (stored in ``consent.source`` as ``scrivania:<channel>:<account>``).
CHANNELS: dict[str, str] = {
    "presenza": "di persona, allo sportello",
    "telefono": "al telefono",
    "cartaceo": "modulo cartaceo firmato",
    "email": "per email",
}

LANGUAGE_LABELS: dict[str, str] = {Language.IT: "italiano", Language.EN: "inglese", Language.UK: "ucraino"}

_ACTORS: dict[str, str] = {
    "flow:referral": "procedura automatica: segnalazioni",
    "flow:intake": "procedura automatica: colloqui",
    "flow:literacy": "procedura automatica: corsi di italiano",
    "flow:dispatch": "procedura automatica: invio dei profili",
    "flow:interest": "procedura automatica: risposte delle aziende",
    "flow:outcomes": "procedura automatica: esiti",
    "flow:policy": "procedura automatica: politiche attive",
    "flow:privacy": "procedura automatica: privacy",
    "flow:vacancies": "procedura automatica: posizioni aperte",
    "tavolo": "tavolo Sistema Lavoro",
}

_REASONS: dict[str, str] = {
    "gdpr_art17": "cancellazione dei dati richiesta dalla persona",
    "back-to-pool": "profilo riproposto alle aziende",
    "tavolo:back_to_pool": "il tavolo ha riproposto il profilo alle aziende",
    "consent_to_collect": "consenso al trattamento da raccogliere",
    "moved_away": "trasferita fuori dal territorio",
    "found_job_alone": "ha trovato lavoro autonomamente",
    "not_reachable": "non più reperibile",
    "not_interested": "non più interessata al percorso",
    "no_show_repeated": "assenze ripetute agli appuntamenti",
    "other": "altro motivo",
    "consent_withdrawn": "consenso al trattamento revocato",
    "retention": "termine di conservazione dei dati",
}


def state_one(value: Any) -> str:
    try:
        return STATE_ONE[State(str(getattr(value, "value", value)))]
    except ValueError:
        return "stato non riconosciuto"


def actor_label(actor: str) -> str:
    """Who made a move, in words: a desk account by name, a flow by what it does."""
    if actor.startswith("scrivania:"):
        return f"operatore {actor.split(':', 1)[1]}"
    if actor in _ACTORS:
        return _ACTORS[actor]
    if actor.startswith("flow:"):
        return "procedura automatica"
    return actor


def reason_label(reason: str | None) -> str:
    """A move's reason in words; an unknown code is not shown (codes are not for people)."""
    if not reason:
        return ""
    if reason in _REASONS:
        return _REASONS[reason]
    return reason if " " in reason else ""


def consent_source_label(source: str) -> str:
    """``scrivania:telefono:m.rossi`` → "al telefono, registrato da m.rossi"; partner sources in words."""
    if source.startswith("scrivania:"):
        _, channel, *who = source.split(":", 2)
        text = CHANNELS.get(channel, "allo sportello")
        return f"{text}, registrato da {who[0]}" if who else text
    if source.startswith("import:"):
        return "dal file di segnalazione dell'ente"
    if source.startswith("merge:"):
        return f"dalla pratica unita {source.split(':', 1)[1]}"
    return {
        "referral_form": "modulo di segnalazione dell'ente",
        "intake": "raccolto al colloquio di accoglienza",
    }.get(source, "registrato dal sistema")
