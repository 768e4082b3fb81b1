"""The KPI tables as every output shows them: Italian titles, column headers and state names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlmodel import Session

from config.data import load_offices, load_organisations
from tasks.reports.kpis import (
    NONE_LABEL,
    Period,
    Row,
    conversion,
    interest_by_batch,
    literacy_outcomes,
    overdue_steps,
    placement,
    retention_180,
    state_flows,
    steps_by_office,
    time_in_stage,
)
from tasks.reports.vacancy_kpis import vacancy_pipeline

# --------------------------------------------------------------------------------------------
# Everything at once, with the Italian headers every output (artifact, XLSX, terminal) uses


@dataclass(frozen=True)
class TableSpec:
    """A KPI table's Italian title, spreadsheet tab name (≤ 31 characters) and columns."""

    title: str
    sheet: str
    columns: tuple[tuple[str, str], ...]


STATE_LABELS: dict[str, str] = {
    "referred": "Segnalati",
    "duplicate": "Duplicati",
    "accepted": "Presi in carico",
    "rejected": "Respinti",
    "intake_scheduled": "Colloquio fissato",
    "intake_done": "Colloquio svolto",
    "no_show": "Assenti al colloquio",
    "literacy": "Corso di italiano",
    "profile_ready": "Profilo pronto",
    "dispatched": "Inviati a Confindustria",
    "interest": "Interesse di un'azienda",
    "interview": "Colloquio in azienda",
    "hired": "Assunti",
    "not_selected": "Non selezionati",
    "policy": "Politica attiva",
    "withdrawn": "Ritirati",
    "closed": "Chiusi",
    "erased": "Cancellati (GDPR)",
}

TABLES: dict[str, TableSpec] = {
    "flows": TableSpec(
        "Casi entrati e usciti per stato",
        "Flussi",
        (("state", "Stato"), ("entered", "Entrati"), ("left", "Usciti")),
    ),
    "flows_office": TableSpec(
        "Casi entrati e usciti per stato e CPI",
        "Flussi per CPI",
        (("group", "CPI"), ("state", "Stato"), ("entered", "Entrati"), ("left", "Usciti")),
    ),
    "conversion": TableSpec(
        "Conversione per fase (dall'avvio)",
        "Conversione",
        (
            ("from_state", "Da"),
            ("to_state", "A"),
            ("entered", "Entrati"),
            ("converted", "Passati"),
            ("rate", "Conversione %"),
        ),
    ),
    "time_in_stage": TableSpec(
        "Tempo per fase (giorni lavorativi)",
        "Tempo per fase",
        (
            ("state", "Stato"),
            ("completed", "Permanenze concluse"),
            ("mean_bd", "Media gg lav."),
            ("median_bd", "Mediana gg lav."),
            ("max_bd", "Massimo gg lav."),
            ("open", "Ancora in fase"),
            ("open_median_bd", "Attesa mediana gg lav."),
        ),
    ),
    "placement_office": TableSpec(
        "Inserimenti per CPI (dall'avvio, riferimento 15%)",
        "Inserimenti per CPI",
        (
            ("group", "CPI"),
            ("taken_in_charge", "Presi in carico"),
            ("hired", "Assunti"),
            ("rate", "Tasso %"),
            ("delta_pp", "Scarto dal 15% (punti)"),
            ("vs_baseline", "Rispetto al 15%"),
        ),
    ),
    "placement_referrer": TableSpec(
        "Inserimenti per ente segnalante (dall'avvio, riferimento 15%)",
        "Inserimenti per segnalante",
        (
            ("group", "Ente segnalante"),
            ("taken_in_charge", "Presi in carico"),
            ("hired", "Assunti"),
            ("rate", "Tasso %"),
            ("delta_pp", "Scarto dal 15% (punti)"),
            ("vs_baseline", "Rispetto al 15%"),
        ),
    ),
    "retention": TableSpec(
        "Assunti ancora occupati a 180 giorni",
        "Occupati a 180 giorni",
        (
            ("group", "CPI"),
            ("hires_due", "Assunzioni a 180 giorni"),
            ("employed_180", "Ancora occupati"),
            ("left_180", "Non più occupati"),
            ("unknown_180", "Non verificabili"),
            ("not_checked", "Da verificare"),
            ("rate", "Tasso %"),
            ("contract_180", "Contratto ≥ 180 giorni"),
        ),
    ),
    "literacy": TableSpec(
        "Corsi di italiano (CPIA)",
        "Corsi di italiano",
        (
            ("cpia", "CPIA"),
            ("level", "Livello"),
            ("passed", "Superati"),
            ("failed", "Non superati"),
            ("dropped", "Abbandonati"),
            ("ongoing", "In corso"),
            ("pass_rate", "Superati %"),
        ),
    ),
    "interest": TableSpec(
        "Interesse delle aziende per profilo inviato",
        "Interesse aziende",
        (
            ("batch", "Invio"),
            ("profiles", "Profili inviati"),
            ("with_interest", "Profili con interesse"),
            ("rate", "Tasso %"),
            ("interested_answers", "Risposte positive"),
            ("answers_per_profile", "Risposte per profilo"),
        ),
    ),
    "vacancies": TableSpec(
        "Posizioni: candidati inviati all'azienda, colloqui, assunzioni e tempo di copertura",
        "Posizioni",
        (
            ("vacancy", "Posizione"),
            ("company", "Azienda"),
            ("sent", "Profili inviati"),
            ("interviews", "Colloqui"),
            ("not_interested", "Non interessati"),
            ("hired", "Assunti"),
            ("not_selected", "Non selezionati"),
            ("days_to_fill", "Giorni per la copertura"),
        ),
    ),
    "overdue": TableSpec(
        "Prossimi passi scaduti",
        "Passi scaduti",
        (
            ("case_code", "Pratica"),
            ("office", "CPI"),
            ("state", "Stato"),
            ("next_step", "Prossimo passo"),
            ("due", "Scadenza"),
            ("business_days_late", "Ritardo gg lav."),
        ),
    ),
    "steps_office": TableSpec(
        "Prossimi passi per CPI",
        "Passi per CPI",
        (
            ("office", "CPI"),
            ("open", "Pratiche aperte"),
            ("without_step", "Senza prossimo passo"),
            ("overdue", "Passi scaduti"),
            ("oldest_due", "Scadenza più vecchia"),
            ("max_late_bd", "Ritardo massimo gg lav."),
        ),
    ),
}


def collect_kpis(session: Session, period: Period, *, as_of: date | None = None) -> dict[str, list[Row]]:
    """Every KPI table for ``period``; placement and conversion are cumulative up to its end."""
    cumulative = Period.since_start(period.end)
    return {
        "flows": state_flows(session, period),
        "flows_office": state_flows(session, period, by="office"),
        "conversion": conversion(session, cumulative),
        "time_in_stage": time_in_stage(session, period),
        "placement_office": placement(session, cumulative, by="office"),
        "placement_referrer": placement(session, cumulative, by="referrer"),
        "retention": retention_180(session, period),
        "literacy": literacy_outcomes(session, period),
        "interest": interest_by_batch(session, period),
        "vacancies": vacancy_pipeline(session, period),
        "overdue": overdue_steps(session, as_of or period.end),
        "steps_office": steps_by_office(session, as_of or period.end),
    }


#: Columns that hold an office or organisation code (a CPI, a referrer, a CPIA).
NAMED_KEYS = ("group", "office", "cpia", "company")


@lru_cache(maxsize=1)
def organisation_names() -> dict[str, str]:
    """Every CPI office and partner by code, with the name people know it by (config/)."""
    names = {o.code: o.name for o in load_organisations()}
    names.update({o.code: o.name for o in load_offices()})
    return names


def display_value(key: str, value: Any, *, by_name: bool = False) -> Any:
    """What a reader sees: rates as percentages (one decimal), states by their Italian name and,
    ``by_name``, offices and partners by name instead of code (emails and spreadsheets)."""
    if value is None:
        return NONE_LABEL
    if key in ("rate", "pass_rate") and isinstance(value, float):
        return round(value * 100, 1)
    if key in ("state", "from_state", "to_state"):
        return STATE_LABELS.get(str(value), str(value))
    if by_name and key in NAMED_KEYS:
        return organisation_names().get(str(value), value)
    return value


def labelled_rows(name: str, rows: Sequence[Row], *, by_name: bool = False) -> list[dict[str, Any]]:
    """Rows of table ``name`` keyed by their Italian headers, in the table's column order
    (``by_name``: offices and partners by name, for what leaves as an email or a spreadsheet)."""
    spec = TABLES[name]
    return [{label: display_value(key, row.get(key), by_name=by_name) for key, label in spec.columns} for row in rows]
