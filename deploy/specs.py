"""Every Incontro deployment, declared once: ``serve.py`` builds from it and a test checks that
``prefect.yaml`` (the work-pool form) says exactly the same."""

from __future__ import annotations

from typing import Any

TZ = "Europe/Rome"

DEPLOYMENTS: list[dict[str, Any]] = [
    {
        "name": "referral",
        "entrypoint": "flows/referral.py:referral",
        "tags": ["incontro", "stage:referral"],
        "description": "Importa un file di segnalazioni di un partner",
        "schedules": [],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "intake",
        "entrypoint": "flows/intake.py:intake",
        "tags": ["incontro", "stage:intake"],
        "description": "Programma i colloqui di presa in carico",
        "schedules": [],
        "triggers": [
            {
                "enabled": True,
                "match": {"prefect.resource.id": "incontro.import.*"},
                "expect": ["incontro.referral.accepted"],
                "parameters": {},
            }
        ],
        "parameters": {},
    },
    {
        "name": "intake-form",
        "entrypoint": "flows/intake.py:intake_form",
        "tags": ["incontro", "stage:intake", "form"],
        "description": "Modulo esiti colloqui di un CPI (operatore)",
        "schedules": [],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "literacy",
        "entrypoint": "flows/literacy.py:literacy",
        "tags": ["incontro", "stage:literacy"],
        "description": "Richieste di iscrizione ai corsi CPIA",
        "schedules": [],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "literacy-outcomes",
        "entrypoint": "flows/literacy.py:literacy_outcomes",
        "tags": ["incontro", "stage:literacy", "form"],
        "description": "Esiti dei corsi CPIA e nuova valutazione",
        "schedules": [],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "reassessment",
        "entrypoint": "flows/literacy.py:reassessment",
        "tags": ["incontro", "stage:literacy"],
        "description": "Rivalutazione dopo il corso CPIA",
        "schedules": [],
        "triggers": [
            {
                "enabled": True,
                "match": {"prefect.resource.id": "incontro.literacy.*"},
                "expect": ["incontro.literacy.completed"],
                "parameters": {},
            }
        ],
        "parameters": {},
    },
    {
        "name": "dedup-review",
        "entrypoint": "flows/referral.py:dedup_review",
        "tags": ["incontro", "stage:referral", "form"],
        "description": "Modulo possibili duplicati (operatore)",
        "schedules": [],
        "triggers": [
            {
                "enabled": True,
                "match": {"prefect.resource.id": "incontro.import.*"},
                "expect": ["incontro.dedup.pending"],
                "parameters": {},
            }
        ],
        "parameters": {},
    },
    {
        "name": "dispatch",
        "entrypoint": "flows/dispatch.py:dispatch",
        "tags": ["incontro", "stage:dispatch"],
        "description": "Invio settimanale dei profili a Confindustria",
        "schedules": [{"cron": "0 9 * * 1", "timezone": TZ}],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "interest",
        "entrypoint": "flows/interest.py:interest",
        "tags": ["incontro", "stage:interest"],
        "description": "Risposte delle aziende ai profili",
        "schedules": [],
        "triggers": [
            {
                "enabled": True,
                "match": {"prefect.resource.id": "incontro.interest.*"},
                "expect": ["incontro.interest.recorded"],
                "parameters": {},
            }
        ],
        "parameters": {},
    },
    {
        "name": "vacancies",
        "entrypoint": "flows/vacancies.py:vacancies",
        "tags": ["incontro", "stage:vacancies"],
        "description": "Importa le posizioni aperte di Confindustria",
        "schedules": [],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "matching",
        "entrypoint": "flows/vacancies.py:matching",
        "tags": ["incontro", "stage:vacancies", "form"],
        "description": "Abbinamento posizioni–profili e shortlist",
        "schedules": [],
        "triggers": [
            {
                "enabled": True,
                "match": {"prefect.resource.id": "incontro.import.*"},
                "expect": ["incontro.vacancy.received"],
                "parameters": {"import_id": "{{ event.payload.import_id }}"},
            }
        ],
        "parameters": {},
    },
    {
        "name": "outcomes",
        "entrypoint": "flows/outcomes.py:outcomes",
        "tags": ["incontro", "stage:outcomes"],
        "description": "Esiti (assunzioni) e avvio politiche attive",
        "schedules": [{"cron": "30 6 * * *", "timezone": TZ}],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "reports",
        "entrypoint": "flows/reports.py:reports",
        "tags": ["incontro", "reports"],
        "description": "Funnel e indicatori per i coordinatori",
        "schedules": [{"cron": "0 7 * * *", "timezone": TZ}],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "training-offers",
        "entrypoint": "flows/policy.py:training_offers",
        "tags": ["incontro", "stage:policy"],
        "description": "Importa l'offerta formativa degli enti accreditati",
        "schedules": [],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "policy",
        "entrypoint": "flows/policy.py:policy",
        "tags": ["incontro", "stage:policy", "form"],
        "description": "Proposte di politiche attive e formazione (decisione dell'operatore)",
        "schedules": [{"cron": "0 7 * * 1-5", "timezone": TZ}],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "policy-progress",
        "entrypoint": "flows/policy.py:policy_progress",
        "tags": ["incontro", "stage:policy"],
        "description": "Registro degli enti: avvio, frequenza, completamento, tirocinio, assunzione",
        "schedules": [],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "tavolo",
        "entrypoint": "flows/policy.py:tavolo",
        "tags": ["incontro", "stage:policy", "form"],
        "description": "Tavolo mensile Sistema Lavoro: ordine del giorno e decisioni",
        "schedules": [{"cron": "0 9 1-7 * 2", "timezone": TZ, "day_or": False}],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "monthly-report",
        "entrypoint": "flows/reports.py:monthly_report",
        "tags": ["incontro", "reports"],
        "description": "Report mensile Sistema Lavoro ai coordinatori",
        "schedules": [{"cron": "0 7 1 * *", "timezone": TZ}],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "erasure",
        "entrypoint": "flows/privacy.py:erasure",
        "tags": ["incontro", "privacy"],
        "description": "Cancellazione dei dati di una persona (art. 17 GDPR)",
        "schedules": [],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "access-export",
        "entrypoint": "flows/privacy.py:access_export",
        "tags": ["incontro", "privacy"],
        "description": "Esportazione dei dati di una persona (art. 15 GDPR)",
        "schedules": [],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "rectification",
        "entrypoint": "flows/privacy.py:rectification",
        "tags": ["incontro", "privacy"],
        "description": "Rettifica dei dati identificativi (art. 16 GDPR)",
        "schedules": [],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "consent-withdrawal",
        "entrypoint": "flows/privacy.py:consent_withdrawal",
        "tags": ["incontro", "privacy"],
        "description": "Revoca di un consenso: condivisioni in coda annullate",
        "schedules": [],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "retention",
        "entrypoint": "flows/privacy.py:retention",
        "tags": ["incontro", "privacy"],
        "description": "Anonimizzazione dei casi chiusi oltre il periodo di conservazione",
        "schedules": [{"cron": "30 2 * * *", "timezone": TZ}],
        "triggers": [],
        "parameters": {},
    },
    {
        "name": "maintenance",
        "entrypoint": "flows/maintenance.py:maintenance",
        "tags": ["incontro", "maintenance"],
        "description": "Controllo periodico e invio email in coda",
        "schedules": [{"cron": "*/5 * * * *", "timezone": TZ}],
        "triggers": [],
        "parameters": {},
    },
]


def by_name(name: str) -> dict[str, Any]:
    return next(d for d in DEPLOYMENTS if d["name"] == name)


def prefect_yaml() -> dict[str, Any]:
    """The work-pool form of the same deployments (what deploy/prefect.yaml must contain)."""
    return {
        "name": "incontro",
        "prefect-version": "3.8.6",
        "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": "{{ $INCONTRO_HOME }}"}}],
        "deployments": [
            {
                "name": d["name"],
                "entrypoint": d["entrypoint"],
                "description": d["description"],
                "tags": d["tags"],
                "parameters": d["parameters"],
                "schedules": [dict(s) for s in d["schedules"]],
                "triggers": [{"type": "event", **t} for t in d["triggers"]],
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
