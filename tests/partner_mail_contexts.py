"""Full contexts and golden facts of the email kinds added for issue 20 (the partners' digest and
link), to merge into tests/unit/test_emails.py's FULL/GOLDEN and tests/unit/test_italian_everywhere.py's
CONTEXTS tables (``**FULL_ISSUE_20``), as tests/mail_contexts.py does for issue 18."""

from __future__ import annotations

from datetime import date
from typing import Any

FULL_ISSUE_20: dict[str, dict[str, Any]] = {
    "partner_digest": {
        "referrer_name": "Caritas Diocesana Bergamasca",
        "period": "settimana",
        "items": [
            {
                "person_name": "Olena Kovalenko",
                "case_code": "BG-2026-000412",
                "news": "iscrizione a un corso di italiano del CPIA",
                "on": date(2026, 12, 1),
                "reason_label": None,
            },
            {
                "person_name": "Moussa Traoré",
                "case_code": "BG-2026-000377",
                "news": "chiusura del percorso",
                "on": date(2026, 12, 3),
                "reason_label": "trasferita fuori dal territorio",
            },
        ],
        "status_url": "http://127.0.0.1:8088/segnalazioni/accesso/v1.eyJvIjoiQ0FSSVRBUy1CRyJ9.c2lnbmF0dXJh",
    },
    "partner_link": {
        "referrer_name": "Associazione Ponte per l'Ucraina",
        "link": "http://127.0.0.1:8088/segnalazioni/accesso/v1.eyJvIjoiQVNTT0MtUE9OVEUtVUNSQUlOQSJ9.c2lnbg",
        "expires_on": date(2027, 3, 4),
    },
}

GOLDEN_ISSUE_20: dict[tuple[str, str], tuple[list[str], list[str]]] = {
    ("partner_digest", "it"): (
        ["novità", "(2)"],
        [
            "Olena Kovalenko",
            "BG-2026-000412",
            "corso di italiano del CPIA",
            "Moussa Traoré",
            "trasferita fuori dal territorio",
            "3 dicembre 2026",
            "/segnalazioni/accesso/",
        ],
    ),
    ("partner_link", "it"): (
        ["link", "segnalazioni"],
        ["/segnalazioni/accesso/", "4 marzo 2027", "non inoltratelo"],
    ),
}
