"""Italian everywhere (issue 18): no email, no spreadsheet header or cell shows a stored value
(``full_time``, ``none``, ``not_needed``, ``ISCED 2``, ``territorial:BG-RIPARTIRE``) or an office or
organisation code where people read it. A general check: every email kind of the templates'
registry is rendered with the values its producers pass (realistic Italian and Ukrainian partner
data), and no value of a models/enums.py StrEnum and no office or organisation code appears as a
whole word, except inside a case code."""

from __future__ import annotations

import html
import io
import re
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest

import models.enums as enums
from config.data import load_offices, load_organisations
from models.cases import Case, Profile
from models.enums import Availability, Cefr, InterestAnswer, Isced, Licence, Recognition, State
from models.labels import LABELS
from tasks.core.profiles import profile_row
from tasks.files.sheets import PROFILE_HEADERS, profiles_xlsx
from tasks.mail.templates import KINDS, render_email
from tasks.reports.kpis import Period
from tasks.reports.monthly import MonthlyReport, tables_xlsx
from tasks.reports.tables import STATE_LABELS, TABLES
from tests.partner_mail_contexts import FULL_ISSUE_20

WHEN = datetime(2026, 12, 14, 9, 45)
SUNDAY = date(2026, 12, 13)

# --------------------------------------------------------------------------------------------
# What may not appear


def _enum_classes() -> list[type[StrEnum]]:
    return [
        c
        for c in vars(enums).values()
        if isinstance(c, type) and issubclass(c, StrEnum) and c is not StrEnum and c.__module__ == enums.__name__
    ]


#: Stored values that are also the words people use: CEFR levels, licence classes (patente B),
#: ISCED digits (any number), language codes, and "file" / "no", which are Italian words.
_ALSO_WORDS = {"file", "no", "it", "en", "uk"}
RAW_VALUES = sorted(
    {
        m.value
        for cls in _enum_classes()
        if cls not in (Cefr, Isced)
        for m in cls
        if m.value not in _ALSO_WORDS and not re.fullmatch(r"[A-Z]{1,2}", m.value)
    },
    key=len,
    reverse=True,
)
CODES = sorted(
    {o.code for o in load_organisations()} | {o.code for o in load_offices()} | {"coordinators"},
    key=len,
    reverse=True,
)
_PATTERNS = [re.compile(r"ISCED\s*\d"), re.compile(r"\b(territorial|training):[\w-]+")]
_CASE_CODE = re.compile(r"\b[A-Z]{2}-\d{4}-\d{6,}\b")
_URL_OR_EMAIL = re.compile(r"https?://\S+|[\w.+-]+@[\w.-]+")


def raw_values(text: str) -> list[str]:
    """Every stored value, code or raw pattern a reader would see in ``text`` (URLs, email
    addresses and case codes set aside: they are addresses and identifiers, not words)."""
    text = _CASE_CODE.sub(" ", _URL_OR_EMAIL.sub(" ", text))
    found = [p.search(text).group(0) for p in _PATTERNS if p.search(text)]  # type: ignore[union-attr]
    for word in (*RAW_VALUES, *CODES):
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
            found.append(word)
    return found


def _visible(markup: str) -> str:
    """The text of an HTML email, as a reader sees it (tags, styles and links' targets dropped)."""
    markup = re.sub(r"<(style|head)\b.*?</\1>", " ", markup, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def test_the_check_catches_what_the_issue_measured() -> None:
    assert raw_values("Disponibilità: full_time, turni") == ["full_time"]
    assert raw_values("Patente: none · Titolo: ISCED 2") == ["ISCED 2", "none"]
    assert raw_values("riconoscimento not_needed, misura territorial:BG-RIPARTIRE") == [
        "territorial:BG-RIPARTIRE",
        "not_needed",
    ]
    assert raw_values("al CPI-TRE per la pratica BG-2026-000123") == ["CPI-TRE"]
    assert raw_values("pratica BG-2026-000123, patente B, italiano A2, scrivere a cpi.bergamo@x.example") == []


def test_every_stored_value_has_italian_words() -> None:
    for cls in _enum_classes():
        labels = LABELS[cls]
        assert set(labels) == {m.value for m in cls}, cls.__name__
        for value, words in labels.items():
            if cls not in (Cefr,):
                same = words == value and value != "file" and not re.fullmatch(r"[A-Z]{1,2}", value)
                assert "_" not in words and not same, (cls.__name__, value)


# --------------------------------------------------------------------------------------------
# Emails: every kind, with what its producer passes


def _profile() -> dict[str, Any]:
    """A dispatched profile as tasks/dispatch.py builds it (tasks/core/profiles.py)."""
    case = Case(code="BG-2026-000417", person_key="k", state=State.PROFILE_READY, office_code="CPI-TRV")
    profile = Profile(
        case_id=1,
        occupations=["9333", "8344"],
        italian=Cefr.A2,
        licence=Licence.NONE,
        education=Isced.LOWER_SECONDARY,
        recognition=Recognition.NOT_NEEDED,
        availability=Availability.FULL_TIME.value,
        shifts=True,
        area="Caravaggio",
    )
    row = profile_row(case, profile)
    row["links"] = [{"company_name": "Orio Hub Logistica S.r.l.", "url": "http://127.0.0.1:8000/r/abc"}]
    return row


CONTEXTS: dict[str, dict[str, Any]] = {
    **FULL_ISSUE_20,  # the partner pages' link and digest (tests/partner_mail_contexts.py)
    "referral_ack": {
        "file_name": "segnalazioni_caritas_dicembre.xlsx",
        "accepted": [{"row": 2, "case_code": "BG-2026-000101", "office_name": "Centro per l'Impiego di Bergamo"}],
        "rejected": [{"row": 3, "errors": [{"column": "Codice fiscale", "reason": "codice fiscale non valido"}]}],
        "duplicates": [{"row": 4, "case_code": "BG-2026-000007"}],
        "referrer_name": "Caritas Diocesana Bergamasca - Centro di Ascolto Bergamo città",
        "received_at": WHEN,
    },
    "consent_reminder": {"file_name": "elenco_ucraini.csv", "case_codes": ["BG-2026-000101", "BG-2026-000102"]},
    "consent_to_ask": {
        "cases": [
            {
                "case_code": "BG-2026-000150",
                "consent": "invio del profilo a Confindustria",
                "due": SUNDAY + timedelta(days=5),
            }
        ],
        "office_name": "Centro per l'Impiego di Clusone",
        "agenda_after": 10,
    },
    "duplicate_notice": {
        "case_code": "BG-2026-000007",
        "existing_office": "Centro per l'Impiego di Treviglio",
        "referrer_name": "Associazione Ponte Italia-Ucraina Orobica",
        "existing_office_phone": "+39 0363 000000",
    },
    "case_closed": {
        "case_code": "BG-2026-000321",
        "reason": "moved_away",
        "reason_label": "trasferita fuori provincia",
        "closed_on": SUNDAY,
        "referrer_name": "Ambito di Dalmine - Servizi Sociali",
        "office_name": "Centro per l'Impiego di Bergamo",
    },
    "intake_appointment_candidate": {
        "case_code": "BG-2026-000101",
        "office_name": "Centro per l'Impiego di Bergamo",
        "office_address": "Via Gabriele Camozzi 95, 24121 Bergamo",
        "appointment_at": WHEN,
        "candidate_name": "Olena",
    },
    "intake_appointment_referrer": {
        "appointments": [{"case_code": "BG-2026-000101", "appointment_at": WHEN}],
        "office_name": "Centro per l'Impiego di Bergamo",
        "referrer_name": "Caritas Diocesana Bergamasca",
    },
    "intake_no_show_referrer": {
        "cases": [{"case_code": "BG-2026-000101", "missed": 3, "last_appointment": WHEN}],
        "office_name": "Centro per l'Impiego di Lovere",
        "reply_by": SUNDAY + timedelta(days=14),
    },
    "cpia_enrolment_request": {
        "cases": [
            {"case_code": "BG-2026-000101", "target_level": "A2", "office_name": "Centro per l'Impiego di Zogno"}
        ],
        "cpia_name": "CPIA Bergamo - Sede di Zogno",
        "reply_by": SUNDAY + timedelta(days=7),
    },
    "dispatch_confindustria": {
        "batch_code": "DSP-20261214-1",
        "profiles": [_profile()],
        "count": 1,
        "date": SUNDAY,
        "attachment_name": "DSP-20261214-1.xlsx",
    },
    "interest_notice": {
        "case_code": "BG-2026-000417",
        "company_name": "Orio Hub Logistica S.r.l.",
        "answer": InterestAnswer.INTERVIEW.value,
        "vacancy_title": "Magazziniere carrellista",
    },
    "contact_release": {  # tasks/interest.py passes no vacancy title when the answer named none
        "case_code": "BG-2026-000417",
        "candidate": {"name": "Mykola Shevchenko", "phone": "+39 351 000 0000", "email": "mykola@posta.example"},
        "company_name": "Orio Hub Logistica S.r.l.",
        "office_name": "Centro per l'Impiego di Treviglio",
        "consent_date": WHEN,
    },
    "vacancy_shortlist": {
        "vacancy_code": "VAC-0009-0002",
        "vacancy_title": "Saldatore TIG",
        "company_name": "Officine Meccaniche Valseriana S.r.l.",
        "rows": [
            {
                "rank": 1,
                "case_code": "BG-2026-000417",
                "score": 0.81,
                "explanation": "stessa mansione (ISCO 7212), italiano A2 ≥ A2 richiesto, patente non richiesta, 12 km",
            }
        ],
        "occupation": "Saldatori e tagliatori a fiamma (7212)",
    },
    "vacancy_company_unknown": {
        "file_name": "posizioni_dicembre.xlsx",
        "rows": [
            {
                "row": 4,
                "vacancy_code": "VAC-0007-0004",
                "title": "Addetto pressa",
                "company": "Stampaggi Bassa",
                "vat": "",
                "reason": "azienda non trovata tra gli associati",
                "suggestions": ["Stampaggio Plastiche Calepio S.r.l."],
            }
        ],
        "sender_name": "Confindustria Bergamo",
    },
    "import_errors": {
        "file_name": "esiti_novembre.csv",
        "rows": [{"row": 7, "column": "Data inizio", "value": "31/02/2026", "reason": "data inesistente"}],
        "sender_name": "Servizio Politiche del Lavoro - Provincia di Bergamo",
        "rows_total": 20,
        "rows_accepted": 19,
    },
    "form_reminder": {  # tasks/maintenance.py: the deployment's name, its label and the run's page
        "form_kind": "intake-form",
        "form_label": "esiti dei colloqui",
        "case_codes": ["BG-2026-000101", "BG-2026-000102"],
        "waiting_since": SUNDAY,
        "office_name": "Centro per l'Impiego di Bergamo",
        "form_url": "http://127.0.0.1:4200/runs/flow-run/3f0c2a9e-0000-4000-8000-000000000000",
    },
    "failure_alert": {
        "flow_name": "intake",
        "run_id": "3f0c2a9e-0000-4000-8000-000000000000",
        "error_summary": "StepFailed: schedule_intake",
        "occurred_at": WHEN,
    },
    "monthly_report": {
        "month": "2026-11",
        "funnel": [{"state": STATE_LABELS["referred"], "count": 120}, {"state": STATE_LABELS["hired"], "count": 9}],
        "highlights": ["Tasso di inserimento dall'avvio: 12,5%."],
    },
    "policy_proposal": {  # tasks/policy/register.py: choose_measure
        "case_code": "BG-2026-000233",
        "measure_code": "territorial:BG-RIPARTIRE",
        "measure_label": "Ripartire – percorsi per persone seguite dai servizi sociali",
        "register_code": "BG-RIPARTIRE",
        "provider_name": "Bergamo Lavoro Società Cooperativa Sociale",
        "office_name": "Centro per l'Impiego di Bergamo",
        "site": {"municipality": "Seriate", "address": "Via Italia 58, 24068 Seriate", "phone": "+39 035 000 1102"},
    },
    "tavolo_agenda": {  # tasks/policy/tavolo.py: open_meeting, rows by name (register.readable_rows)
        "meeting_date": date(2026, 12, 15),
        "since": date(2026, 11, 3),
        "until": date(2026, 12, 14),
        "new_referrals": [
            {
                "case_code": "BG-2026-000201",
                "office": "Centro per l'Impiego di Bergamo",
                "state": "accepted",
                "on": "20/11/2026",
            }
        ],
        "awaiting": [
            {
                "case_code": "BG-2026-000202",
                "office": "Centro per l'Impiego di Romano di Lombardia",
                "since": "01/11/2026",
                "days": "44",
                "options": "GOL – Garanzia di Occupabilità dei Lavoratori; Dote Unica Lavoro (Regione Lombardia)",
            }
        ],
        "ending": [],
        "placements": [],
        "chair": "Ufficio di Piano - Ambito territoriale di Bergamo",
        "members": ["Ambito di Bergamo - Servizi Sociali", "Confindustria Bergamo"],
        "member_name": "Confindustria Bergamo",
    },
    "company_profiles": {
        "company_name": "Officine Meccaniche Valseriana S.r.l.",
        "batch_code": "DSP-20261204-01",
        "count": 1,
        "url": "https://lavoro.provincia.bergamo.example/profili/azienda/v1.abc.def",
        "link_days": 30,
    },
    "company_shortlist": {
        "company_name": "Caseificio Pianalto S.r.l.",
        "vacancy_code": "VAC-0012-0003",
        "vacancy_title": "Addetto alla produzione casearia",
        "count": 2,
        "url": "https://lavoro.provincia.bergamo.example/profili/posizione/v1.abc.def",
        "link_days": 30,
    },
}


def test_every_kind_has_a_realistic_context() -> None:
    assert set(CONTEXTS) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_email_shows_a_stored_value_or_a_code(kind: str) -> None:
    for lang in KINDS[kind].languages:
        email = render_email(kind, lang, CONTEXTS[kind])
        for part, text in (("oggetto", email.subject), ("testo", email.text), ("html", _visible(email.html))):
            assert raw_values(text) == [], (kind, lang, part)


def test_sentences_read_as_italian() -> None:
    tavolo = render_email("tavolo_agenda", "it", CONTEXTS["tavolo_agenda"]).text
    assert "dal 3 novembre 2026 al 14 dicembre 2026" in tavolo and "al lunedì" not in tavolo
    assert "Presiede: Ufficio di Piano - Ambito territoriale di Bergamo." in tavolo
    release = render_email("contact_release", "it", CONTEXTS["contact_release"]).text
    assert "la persona del caso BG-2026-000417 ha acconsentito" in release
    reminder = render_email("form_reminder", "it", CONTEXTS["form_reminder"])
    assert CONTEXTS["form_reminder"]["form_url"] in reminder.text
    assert f'href="{CONTEXTS["form_reminder"]["form_url"]}"' in reminder.html
    assert "Moduli in attesa" not in reminder.text + reminder.html
    profile = render_email("dispatch_confindustria", "it", CONTEXTS["dispatch_confindustria"]).text
    assert "Patente:         nessuna\n" in profile and "licenza media" in profile
    assert "tempo pieno, turni" in profile


# --------------------------------------------------------------------------------------------
# Spreadsheets: the profiles sent to Confindustria and the monthly report


def _cells(xlsx: bytes) -> list[str]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    book = load_workbook(io.BytesIO(xlsx))
    return [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_the_profiles_sheet_speaks_italian() -> None:
    cells = _cells(profiles_xlsx([_profile()], title="Profili DSP-20261214-1"))
    assert set(PROFILE_HEADERS.values()) - {"Competenze e lingue"} <= set(cells)
    assert [c for c in cells if raw_values(c)] == []


def test_the_monthly_report_sheets_and_highlights_speak_italian() -> None:
    tables: dict[str, list[dict[str, Any]]] = {
        "flows": [{"state": "profile_ready", "entered": 12, "left": 9}],
        "flows_office": [{"group": "CPI-TRV", "state": "no_show", "entered": 3, "left": 1}],
        "conversion": [
            {"from_state": "dispatched", "to_state": "interest", "entered": 40, "converted": 9, "rate": 0.225}
        ],
        "time_in_stage": [
            {
                "state": "literacy",
                "completed": 4,
                "mean_bd": 41.5,
                "median_bd": 40,
                "max_bd": 55,
                "open": 30,
                "open_median_bd": 22,
            }
        ],
        "placement_office": [
            {
                "group": "CPI-ZOG",
                "taken_in_charge": 20,
                "hired": 2,
                "rate": 0.1,
                "baseline": 0.15,
                "delta_pp": -5.0,
                "vs_baseline": "sotto",
            },
            {
                "group": "Totale",
                "taken_in_charge": 20,
                "hired": 2,
                "rate": 0.1,
                "baseline": 0.15,
                "delta_pp": -5.0,
                "vs_baseline": "sotto",
            },
        ],
        "placement_referrer": [
            {
                "group": "ASSOC-PONTE-UCRAINA",
                "taken_in_charge": 8,
                "hired": 1,
                "rate": 0.125,
                "baseline": 0.15,
                "delta_pp": -2.5,
                "vs_baseline": "sotto",
            }
        ],
        "retention": [
            {
                "group": "CPI-ROM",
                "hires_due": 3,
                "employed_180": 2,
                "left_180": 1,
                "unknown_180": 0,
                "not_checked": 0,
                "rate": 2 / 3,
                "contract_180": 2,
            },
            {
                "group": "Totale",
                "hires_due": 3,
                "employed_180": 2,
                "left_180": 1,
                "unknown_180": 0,
                "not_checked": 0,
                "rate": 2 / 3,
                "contract_180": 2,
            },
        ],
        "literacy": [
            {
                "cpia": "CPIA-ZOG",
                "level": "A1",
                "passed": 3,
                "failed": 1,
                "dropped": 1,
                "ongoing": 6,
                "pass_rate": 0.6,
            }
        ],
        "interest": [
            {
                "batch": "DSP-20261103-1",
                "profiles": 10,
                "with_interest": 3,
                "rate": 0.3,
                "interested_answers": 4,
                "answers_per_profile": 0.4,
            },
            {
                "batch": "Totale",
                "profiles": 10,
                "with_interest": 3,
                "rate": 0.3,
                "interested_answers": 4,
                "answers_per_profile": 0.4,
            },
        ],
        "vacancies": [
            {
                "vacancy": "VAC-0012-0003",
                "company": "COMP-CASEIFICIO-PIANALTO",
                "sent": 3,
                "interviews": 2,
                "not_interested": 1,
                "hired": 1,
                "not_selected": 1,
                "days_to_fill": 18,
            },
            {
                "vacancy": "Totale",
                "company": "—",
                "sent": 3,
                "interviews": 2,
                "not_interested": 1,
                "hired": 1,
                "not_selected": 1,
                "days_to_fill": 18,
            },
        ],
        "overdue": [
            {
                "case_code": "BG-2026-000417",
                "office": "CPI-LOV",
                "state": "literacy",
                "next_step": "chiedere l'iscrizione al corso di italiano del CPIA",
                "due": date(2026, 11, 20),
                "business_days_late": 6,
            }
        ],
        "steps_office": [
            {
                "office": "CPI-LOV",
                "open": 25,
                "without_step": 0,
                "overdue": 1,
                "oldest_due": date(2026, 11, 20),
                "max_late_bd": 6,
            }
        ],
    }
    assert set(tables) == set(TABLES)
    cells = _cells(tables_xlsx(tables, title="Sistema Lavoro novembre 2026"))
    assert "Centro per l'Impiego di Zogno" in " ".join(cells) or any("Zogno" in c for c in cells)
    assert [c for c in cells if raw_values(c)] == []
    report = MonthlyReport(period=Period.month("2026-11"), tables=tables)
    highlights = " ".join(report.highlights())
    assert raw_values(highlights) == [] and "Zogno" in highlights
    assert "non più occupati 1" in highlights
