"""Full contexts and golden facts of the email kinds added for issue 18 (case closed, consent to
ask), merged into tests/unit/test_emails.py's tables, which would otherwise pass 600 lines."""

from __future__ import annotations

from datetime import date
from typing import Any

FULL_ISSUE_18: dict[str, dict[str, Any]] = {
    "case_closed": {
        "case_code": "BG-2026-000214",
        "reason": "found_job_alone",
        "reason_label": "ha trovato lavoro autonomamente",
        "closed_on": date(2026, 12, 9),
        "referrer_name": "Caritas Bergamasca",
        "person_name": "Olena Kovalenko",
        "office_name": "Centro per l'Impiego di Seriate",
        "office_phone": "+39 035 000000",
        "office_email": "cpi.seriate@example.org",
    },
    "consent_to_ask": {
        "cases": [
            {
                "case_code": "BG-2026-000311",
                "consent": "consenso a inviare il profilo a Confindustria",
                "due": date(2026, 12, 2),
            },
            {
                "case_code": "BG-2026-000318",
                "consent": "consenso a comunicare i dati al CPIA",
                "due": date(2026, 12, 3),
            },
        ],
        "office_name": "Centro per l'Impiego di Lovere",
        "agenda_after": 10,
    },
}

GOLDEN_ISSUE_18: dict[tuple[str, str], tuple[list[str], list[str]]] = {
    ("case_closed", "it"): (
        ["BG-2026-000214", "ha trovato lavoro autonomamente"],
        ["Olena Kovalenko", "BG-2026-000214", "Centro per l'Impiego di Seriate", "9 dicembre 2026", "+39 035 000000"],
    ),
    ("consent_to_ask", "it"): (
        ["2 pratiche", "BG-2026-000311"],
        ["BG-2026-000311", "consenso a inviare il profilo a Confindustria", "2 dicembre 2026", "10 giorni lavorativi"],
    ),
}

#: Issue 20, Confindustria per company and the vacancy pipeline (tasks/dispatch.py, tasks/vacancies.py).
FULL_ISSUE_20_COMPANIES: dict[str, dict[str, Any]] = {
    "company_profiles": {
        "company_name": "Officine Meccaniche Valseriana S.r.l.",
        "batch_code": "DSP-20261204-01",
        "count": 7,
        "url": "https://lavoro.provincia.bergamo.example/profili/azienda/v1.abc.def",
        "link_days": 30,
    },
    "company_shortlist": {
        "company_name": "Albergo del Colle S.r.l.",
        "vacancy_code": "VAC-0012-0003",
        "vacancy_title": "Aiuto cuoco",
        "count": 3,
        "url": "https://lavoro.provincia.bergamo.example/profili/posizione/v1.abc.def",
        "link_days": 30,
    },
}

GOLDEN_ISSUE_20_COMPANIES: dict[tuple[str, str], tuple[list[str], list[str]]] = {
    ("company_profiles", "it"): (
        ["Officine Meccaniche Valseriana S.r.l.", "DSP-20261204-01", "7 profili"],
        ["7 profili", "DSP-20261204-01", "/profili/azienda/v1.abc.def", "30 giorni"],
    ),
    ("company_shortlist", "it"): (
        ["VAC-0012-0003", "Aiuto cuoco", "3 profili"],
        ["Albergo del Colle S.r.l.", "VAC-0012-0003", "3 profili", "/profili/posizione/v1.abc.def", "consenso"],
    ),
}
