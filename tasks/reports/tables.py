"""The KPI tables as every output shows them: Italian titles, column headers and state names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

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
        "overdue": overdue_steps(session, as_of or period.end),
        "steps_office": steps_by_office(session, as_of or period.end),
    }


def display_value(key: str, value: Any) -> Any:
    """What a reader sees: rates as percentages (one decimal), states by their Italian name."""
    if value is None:
        return NONE_LABEL
    if key in ("rate", "pass_rate") and isinstance(value, float):
        return round(value * 100, 1)
    if key in ("state", "from_state", "to_state"):
        return STATE_LABELS.get(str(value), str(value))
    return value


def labelled_rows(name: str, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Rows of table ``name`` keyed by their Italian headers, in the table's column order."""
    spec = TABLES[name]
    return [{label: display_value(key, row.get(key)) for key, label in spec.columns} for row in rows]
