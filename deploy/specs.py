"""Every Incontro deployment, declared once: ``serve.py`` builds from it and a test checks that
``prefect.yaml`` (the work-pool form) says exactly the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tasks.runtime import event_names as events

TZ = "Europe/Rome"


@dataclass(frozen=True)
class Schedule:
    """A cron schedule in Rome time (``day_or=False``: day-of-month AND weekday, e.g. first Tuesday)."""

    cron: str
    day_or: bool = True

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cron": self.cron, "timezone": TZ}
        if not self.day_or:
            out["day_or"] = False
        return out


@dataclass(frozen=True)
class Trigger:
    """Run the deployment when an event named ``expect`` arrives about a resource matching ``resource``.

    ``within`` (seconds): after firing, Prefect's trigger *drops* further events for that long (a
    reactive trigger fires on the first event, then ignores the rest of its window), so a burst of
    per-case events (one commit moving many cases) starts one run, not one per case. The run is
    therefore created to start ``within`` seconds later (``schedule_after``): it starts after every
    event it ignored, and finds their cases waiting (the events leave after their commit)."""

    expect: str
    resource: str
    parameters: dict[str, Any] = field(default_factory=dict)
    within: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "enabled": True,
            "match": {"prefect.resource.id": self.resource},
            "expect": [self.expect],
            "parameters": dict(self.parameters),
        }
        if self.within:
            out["within"] = self.within
            out["schedule_after"] = self.within
        return out


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: what runs (entrypoint), how the UI names it, and what starts it."""

    name: str
    entrypoint: str
    description: str
    tags: tuple[str, ...]
    schedules: tuple[Schedule, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        name="referral",
        entrypoint="flows/referral.py:referral",
        description="Importa un file di segnalazioni di un partner",
        tags=(
            "incontro",
            "stage:referral",
        ),
    ),
    DeploymentSpec(
        name="intake",
        entrypoint="flows/intake.py:intake",
        description="Programma i colloqui di presa in carico",
        tags=(
            "incontro",
            "stage:intake",
        ),
        triggers=(Trigger(events.REFERRAL_ACCEPTED, events.IMPORT_RESOURCES),),
    ),
    DeploymentSpec(
        name="intake-form",
        entrypoint="flows/intake.py:intake_form",
        description="Modulo esiti colloqui di un CPI (operatore)",
        tags=(
            "incontro",
            "stage:intake",
            "form",
        ),
    ),
    DeploymentSpec(
        name="literacy",
        entrypoint="flows/literacy.py:literacy",
        description="Richieste di iscrizione ai corsi CPIA (all'invio in alfabetizzazione e ogni settimana)",
        tags=(
            "incontro",
            "stage:literacy",
        ),
        schedules=(Schedule("0 8 * * 1"),),
        # one run per burst of routing events (an office's intake form routes cases one by one,
        # the ten forms of the demo over about a minute): it enrols every case waiting when it
        # starts, 30 s after the first event of the burst (no hurry: the CPIA enrols weekly)
        triggers=(Trigger(events.CASE_LITERACY, events.CASE_RESOURCES, within=30),),
    ),
    DeploymentSpec(
        name="literacy-outcomes",
        entrypoint="flows/literacy.py:literacy_outcomes",
        description="Esiti dei corsi CPIA e nuova valutazione",
        tags=(
            "incontro",
            "stage:literacy",
            "form",
        ),
    ),
    DeploymentSpec(
        name="reassessment",
        entrypoint="flows/literacy.py:reassessment",
        description="Rivalutazione dopo il corso CPIA",
        tags=(
            "incontro",
            "stage:literacy",
        ),
        triggers=(Trigger(events.LITERACY_COMPLETED, events.LITERACY_RESOURCES),),
    ),
    DeploymentSpec(
        name="dedup-review",
        entrypoint="flows/referral.py:dedup_review",
        description="Modulo possibili duplicati (operatore)",
        tags=(
            "incontro",
            "stage:referral",
            "form",
        ),
        triggers=(Trigger(events.DEDUP_PENDING, events.IMPORT_RESOURCES),),
    ),
    DeploymentSpec(
        name="dispatch",
        entrypoint="flows/dispatch.py:dispatch",
        description="Invio settimanale dei profili a Confindustria",
        tags=(
            "incontro",
            "stage:dispatch",
        ),
        schedules=(Schedule("0 9 * * 1"),),
    ),
    DeploymentSpec(
        name="interest",
        entrypoint="flows/interest.py:interest",
        description="Risposte delle aziende ai profili",
        tags=(
            "incontro",
            "stage:interest",
        ),
        triggers=(Trigger(events.INTEREST_RECORDED, events.INTEREST_RESOURCES),),
    ),
    DeploymentSpec(
        name="vacancies",
        entrypoint="flows/vacancies.py:vacancies",
        description="Importa le posizioni aperte di Confindustria",
        tags=(
            "incontro",
            "stage:vacancies",
        ),
    ),
    DeploymentSpec(
        name="matching",
        entrypoint="flows/vacancies.py:matching",
        description="Abbinamento posizioni–profili e shortlist",
        tags=(
            "incontro",
            "stage:vacancies",
            "form",
        ),
        triggers=(
            Trigger(
                events.VACANCY_RECEIVED,
                events.IMPORT_RESOURCES,
                parameters={"import_id": "{{ event.payload.import_id }}"},
            ),
        ),
    ),
    DeploymentSpec(
        name="outcomes",
        entrypoint="flows/outcomes.py:outcomes",
        description="Esiti (assunzioni) e avvio politiche attive",
        tags=(
            "incontro",
            "stage:outcomes",
        ),
        schedules=(Schedule("30 6 * * *"),),
    ),
    DeploymentSpec(
        name="follow-up",
        entrypoint="flows/outcomes.py:follow_up",
        description="Verifiche a 180 giorni dall'assunzione (ancora occupati, cessati)",
        tags=(
            "incontro",
            "stage:outcomes",
            "form",
        ),
        schedules=(Schedule("0 8 * * 1"),),
    ),
    DeploymentSpec(
        name="reports",
        entrypoint="flows/reports.py:reports",
        description="Funnel e indicatori per i coordinatori",
        tags=(
            "incontro",
            "reports",
        ),
        schedules=(Schedule("0 7 * * *"),),
    ),
    DeploymentSpec(
        name="training-offers",
        entrypoint="flows/policy.py:training_offers",
        description="Importa l'offerta formativa degli enti accreditati",
        tags=(
            "incontro",
            "stage:policy",
        ),
    ),
    DeploymentSpec(
        name="policy",
        entrypoint="flows/policy.py:policy",
        description="Proposte di politiche attive e formazione (decisione dell'operatore)",
        tags=(
            "incontro",
            "stage:policy",
            "form",
        ),
        schedules=(Schedule("0 7 * * 1-5"),),
    ),
    DeploymentSpec(
        name="policy-progress",
        entrypoint="flows/policy.py:policy_progress",
        description="Registro degli enti: avvio, frequenza, completamento, tirocinio, assunzione",
        tags=(
            "incontro",
            "stage:policy",
        ),
    ),
    DeploymentSpec(
        name="tavolo",
        entrypoint="flows/policy.py:tavolo",
        description="Tavolo mensile Sistema Lavoro: ordine del giorno e decisioni",
        tags=(
            "incontro",
            "stage:policy",
            "form",
        ),
        schedules=(Schedule("0 9 1-7 * 2", day_or=False),),
    ),
    DeploymentSpec(
        name="monthly-report",
        entrypoint="flows/reports.py:monthly_report",
        description="Report mensile Sistema Lavoro ai coordinatori",
        tags=(
            "incontro",
            "reports",
        ),
        schedules=(Schedule("0 7 1 * *"),),
    ),
    DeploymentSpec(
        name="erasure",
        entrypoint="flows/privacy.py:erasure",
        description="Cancellazione dei dati di una persona (art. 17 GDPR)",
        tags=(
            "incontro",
            "privacy",
        ),
    ),
    DeploymentSpec(
        name="access-export",
        entrypoint="flows/privacy.py:access_export",
        description="Esportazione dei dati di una persona (art. 15 GDPR)",
        tags=(
            "incontro",
            "privacy",
        ),
    ),
    DeploymentSpec(
        name="rectification",
        entrypoint="flows/privacy.py:rectification",
        description="Rettifica dei dati identificativi (art. 16 GDPR)",
        tags=(
            "incontro",
            "privacy",
        ),
    ),
    DeploymentSpec(
        name="consent-withdrawal",
        entrypoint="flows/privacy.py:consent_withdrawal",
        description="Revoca di un consenso: condivisioni in coda annullate",
        tags=(
            "incontro",
            "privacy",
        ),
    ),
    DeploymentSpec(
        name="retention",
        entrypoint="flows/privacy.py:retention",
        description="Anonimizzazione dei casi chiusi oltre il periodo di conservazione",
        tags=(
            "incontro",
            "privacy",
        ),
        schedules=(Schedule("30 2 * * *"),),
    ),
    DeploymentSpec(
        name="close-cases",
        entrypoint="flows/closure.py:close_cases",
        description="Chiusura di pratiche con un motivo (modulo per i coordinatori)",
        tags=(
            "incontro",
            "operator",
        ),
    ),
    DeploymentSpec(
        name="maintenance",
        entrypoint="flows/maintenance.py:maintenance",
        description="Controllo periodico e invio email in coda",
        tags=(
            "incontro",
            "maintenance",
        ),
        schedules=(Schedule("*/5 * * * *"),),
    ),
)


def prefect_yaml() -> dict[str, Any]:
    """The work-pool form of the same deployments (what deploy/prefect.yaml must contain)."""
    return {
        "name": "incontro",
        "prefect-version": "3.8.6",
        "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": "{{ $INCONTRO_HOME }}"}}],
        "deployments": [
            {
                "name": d.name,
                "entrypoint": d.entrypoint,
                "description": d.description,
                "tags": list(d.tags),
                "parameters": dict(d.parameters),
                "schedules": [s.as_dict() for s in d.schedules],
                "triggers": [{"type": "event", **t.as_dict()} for t in d.triggers],
                "enforce_parameter_schema": True,
                "work_pool": {"name": "incontro", "work_queue_name": "default"},
            }
            for d in DEPLOYMENTS
        ],
    }


if __name__ == "__main__":  # python -m deploy.specs > deploy/prefect.yaml
    import sys

    import yaml

    sys.stdout.write(
        "# Generated from deploy/specs.py (python -m deploy.specs > deploy/prefect.yaml);\n"
        "# tests/unit/test_deployments.py checks that it matches deploy/serve.py.\n"
    )
    yaml.safe_dump(prefect_yaml(), sys.stdout, sort_keys=False, allow_unicode=True)
