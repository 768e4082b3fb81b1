"""Templates, rendering and message building (the SMTP round trips are in test_outbox)."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

import pytest

from tasks.mail.templates import KINDS, TEMPLATES_DIR, TemplateContextError, render_email
from tests.mail_contexts import FULL_ISSUE_18, FULL_ISSUE_20_COMPANIES, GOLDEN_ISSUE_18, GOLDEN_ISSUE_20_COMPANIES
from tests.partner_mail_contexts import FULL_ISSUE_20, GOLDEN_ISSUE_20

MAIL_FROM = "Incontro al lavoro <noreply@incontro.provincia.bergamo.example>"
WHEN = datetime(2026, 11, 30, 9, 45)
EVIL = "Anna\r\nBcc: x@example.org<script>"

FULL: dict[str, dict[str, Any]] = {
    "referral_ack": {
        "file_name": "segnalazioni_caritas_2026-11.xlsx",
        "accepted": [{"row": 2, "case_code": "BG-2026-000101", "office_name": "CPI Bergamo"}],
        "rejected": [{"row": 3, "errors": [{"column": "codice_fiscale", "reason": "formato non valido"}]}],
        "duplicates": [{"row": 4, "case_code": "BG-2026-000007"}],
        "referrer_name": "Caritas Bergamasca",
        "received_at": datetime(2026, 11, 2, 10, 0),
        "contact_email": "incontro@provincia.bergamo.example",
    },
    "consent_reminder": {"file_name": "lista.csv", "case_codes": ["BG-2026-000101", "BG-2026-000102"]},
    **FULL_ISSUE_18,
    **FULL_ISSUE_20_COMPANIES,
    **FULL_ISSUE_20,
    "duplicate_notice": {
        "case_code": "BG-2026-000007",
        "existing_office": "CPI Treviglio",
        "referrer_name": "Ambito di Dalmine",
        "file_name": "lista.csv",
        "row": 5,
        "existing_office_phone": "+39 0363 000000",
        "existing_office_email": "cpi.treviglio@example.org",
    },
    "intake_appointment_candidate": {
        "case_code": "BG-2026-000101",
        "office_name": "Centro per l'Impiego di Bergamo",
        "office_address": "Via Gabriele Camozzi 95, 24121 Bergamo",
        "appointment_at": WHEN,
        "candidate_name": "Olena",
        "office_phone": "+39 035 000000",
        "office_email": "cpi.bergamo@example.org",
        "map_url": "https://maps.example.org/cpi-bergamo",
        "extra_documents": ["attestato corso HACCP"],
        "notes": "Se serve, sarà presente una mediatrice linguistica.",
    },
    "intake_appointment_referrer": {
        "appointments": [
            {"case_code": "BG-2026-000101", "appointment_at": WHEN},
            {"case_code": "BG-2026-000102", "appointment_at": WHEN + timedelta(minutes=45)},
            {"case_code": "BG-2026-000103", "appointment_at": WHEN + timedelta(days=1)},
            {"case_code": "BG-2026-000104", "appointment_at": WHEN + timedelta(days=1, minutes=45)},
        ],
        "office_name": "CPI Bergamo",
        "referrer_name": "Caritas",
        "office_address": "Via Camozzi 95, Bergamo",
        "office_phone": "+39 035 000000",
    },
    "intake_no_show_referrer": {
        "cases": [{"case_code": f"BG-2026-00010{n}", "missed": 3, "last_appointment": WHEN} for n in (1, 2)],
        "office_name": "Centro per l'Impiego di Lovere",
        "reply_by": WHEN.date() + timedelta(days=14),
    },
    "cpia_enrolment_request": {
        "cases": [
            {"case_code": "BG-2026-000101", "target_level": "A2", "office_name": "CPI Bergamo"},
            {"case_code": "BG-2026-000102", "target_level": "A1", "office_name": "CPI Seriate"},
        ],
        "cpia_name": "CPIA Bergamo",
        "request_code": "CPIA-2026-11",
        "reply_by": datetime(2026, 12, 10),
        "notes": "Preferenza per corsi serali.",
    },
    "dispatch_confindustria": {
        "batch_code": "DSP-2026-0004",
        "profiles": [
            {
                "profile_code": "P-7F3K",
                "occupations": ["Saldatore", "Operaio metalmeccanico"],
                "italian": "A2",
                "licence": ["B"],
                "education": "Diploma professionale",
                "availability": ["full_time", "shifts"],
                "area": "Bassa bergamasca",
            },
        ],
        "count": 1,
        "date": datetime(2026, 12, 1).date(),
        "attachment_name": "DSP-2026-0004.xlsx",
        "reply_by": datetime(2026, 12, 15),
        "notes": "—",
    },
    "interest_notice": {
        "case_code": "BG-2026-000101",
        "company_name": "Metalmeccanica Orobica S.p.A.",
        "answer": "interview",
        "vacancy_title": "Saldatore a filo",
        "notes": "Disponibili martedì e giovedì.",
    },
    "contact_release": {
        "case_code": "BG-2026-000101",
        "candidate": {"name": "Olena Kovalenko", "phone": "+39 333 0000000", "email": "olena@example.org"},
        "company_name": "Metalmeccanica Orobica S.p.A.",
        "vacancy_title": "Saldatore a filo",
        "office_name": "CPI Bergamo",
        "office_phone": "+39 035 000000",
        "consent_date": datetime(2026, 12, 1),
    },
    "vacancy_shortlist": {
        "vacancy_code": "VAC-2026-0031",
        "vacancy_title": "Magazziniere",
        "company_name": "Logistica Srl",
        "rows": [{"rank": 1, "case_code": "BG-2026-000101", "score": 0.873, "explanation": "patente B, zona"}],
        "notes": "Da verificare il turno.",
        "generated_at": datetime(2026, 12, 2, 8, 0),
        "occupation": "Magazziniere (8.1.3)",
        "policy_hint": False,
    },
    "vacancy_company_unknown": {
        "file_name": "posizioni_dicembre.xlsx",
        "rows": [{"row": 4, "vacancy_code": "VAC-0007-0004", "title": "Addetto pressa", "reason": "non associata"}],
        "sender_name": "Confindustria Bergamo",
        "contact_email": "coordinamento.incontro@provincia.bergamo.example",
        "unused_columns": ["Note interne"],
    },
    "import_errors": {
        "file_name": "vacancies.csv",
        "rows": [{"row": 7, "column": "data_inizio", "value": "31/02/2026", "reason": "data inesistente"}],
        "sender_name": "Confindustria Bergamo",
        "rows_total": 20,
        "rows_accepted": 19,
    },
    "form_reminder": {
        "form_kind": "intake_outcome",
        "case_codes": ["BG-2026-000101", "BG-2026-000102"],
        "waiting_since": datetime(2026, 11, 20),
        "office_name": "CPI Bergamo",
        "form_label": "Esito colloquio",
        "form_url": "http://127.0.0.1:4200/forms",
    },
    "failure_alert": {
        "flow_name": "import-referrals",
        "run_id": "3f0c2a9e-0000-4000-8000-000000000000",
        "error_summary": "DatabaseError: database is locked",
        "occurred_at": datetime(2026, 12, 1, 3, 0),
        "run_url": "http://127.0.0.1:4200/runs/flow-run/3f0c2a9e",
        "run_name": "brave-otter",
    },
    "monthly_report": {
        "month": "2026-11",
        "funnel": [{"state": "referred", "count": 120}, {"state": "hired", "count": 9}],
        "highlights": ["9 assunzioni"],
        "images": [{"cid": "funnel.png", "alt": "Imbuto"}],
        "notes": "Dati provvisori.",
    },
    "policy_proposal": {
        "case_code": "BG-2026-000101",
        "measure_code": "GOL-3",
        "measure_label": "Percorso 3 - riqualificazione",
        "provider_name": "Ente formativo Orobico",
        "office_name": "CPI Bergamo",
        "pathway": "GOL",
        "course": {
            "code": "CRS-77",
            "title": "Saldatura a filo",
            "start": datetime(2027, 1, 11).date(),
            "hours": 120,
            "internship": True,
            "allowance": False,
            "vacancy_code": "VAC-2026-0031",
        },
        "notes": "Contatto tramite il CPI.",
    },
    "tavolo_agenda": {
        "meeting_date": datetime(2026, 12, 15).date(),
        "since": datetime(2026, 11, 15).date(),
        "until": datetime(2026, 12, 14).date(),
        "new_referrals": [{"case_code": "BG-2026-000201", "office": "CPI-BG", "state": "accepted", "on": "2026-11-20"}],
        "awaiting": [
            {
                "case_code": "BG-2026-000202",
                "office": "CPI-BG",
                "since": "2026-11-01",
                "days": 44,
                "options": "GOL-2, DUL",
            }
        ],
        "ending": [{"case_code": "BG-2026-000203", "measure": "DUL", "status": "attiva", "expected_end": "2026-12-31"}],
        "placements": [
            {
                "case_code": "BG-2026-000204",
                "route": "matching",
                "company": "Logistica Srl",
                "days": 30,
                "on": "2026-12-01",
            }
        ],
        "member_name": "Tavolo Sistema Lavoro",
        "notes": "Ordine del giorno provvisorio.",
    },
}


def required_only(kind: str) -> dict[str, Any]:
    return {k: FULL[kind][k] for k in KINDS[kind].required}


def test_every_kind_has_a_full_context_fixture_and_italian_templates() -> None:
    assert set(FULL) == set(KINDS)
    for kind, spec in KINDS.items():
        assert set(spec.required) | set(spec.optional) >= set(FULL[kind]), kind
        for lang in spec.languages:
            for part in ("subject", "txt", "html"):
                assert (TEMPLATES_DIR / f"{kind}.{lang}.{part}.j2").is_file(), (kind, lang, part)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("variant", ["full", "required"])
def test_each_kind_renders_in_italian(kind: str, variant: str) -> None:
    context = FULL[kind] if variant == "full" else required_only(kind)
    rendered = render_email(kind, "it", context)
    assert rendered.language == "it"
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip()
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")
    assert '<html lang="it">' in rendered.html
    assert "Incontro al lavoro" in rendered.text


@pytest.mark.parametrize("lang", ["en", "uk"])
@pytest.mark.parametrize("variant", ["full", "required"])
def test_candidate_appointment_renders_in_english_and_ukrainian(lang: str, variant: str) -> None:
    kind = "intake_appointment_candidate"
    context = FULL[kind] if variant == "full" else required_only(kind)
    rendered = render_email(kind, lang, context)
    assert rendered.language == lang
    assert f'<html lang="{lang}">' in rendered.html
    assert "BG-2026-000101" in rendered.subject


def test_candidate_appointment_golden_facts() -> None:
    ctx = FULL["intake_appointment_candidate"]
    it = render_email("intake_appointment_candidate", "it", ctx)
    assert "BG-2026-000101" in it.subject
    assert "lunedì 30 novembre 2026, ore 09:45" in it.text
    assert "lunedì 30 novembre 2026, ore 09:45" in it.html
    assert "Via Gabriele Camozzi 95, 24121 Bergamo" in it.text
    assert "Via Gabriele Camozzi 95, 24121 Bergamo" in it.html
    for item in (
        "documento d'identità",
        "permesso di soggiorno o ricevuta",
        "codice fiscale",
        "eventuali titoli di studio e CV",
        "attestato corso HACCP",
    ):
        assert item in it.text
    assert "Centro per l&#39;Impiego di Bergamo" in it.html  # autoescaped
    en = render_email("intake_appointment_candidate", "en", ctx)
    assert "Monday 30 November 2026, 09:45" in en.text
    uk = render_email("intake_appointment_candidate", "uk", ctx)
    assert "понеділок, 30 листопада 2026\u202fр., о 09:45" in uk.text
    assert "Via Gabriele Camozzi 95" in uk.html


def test_other_golden_facts() -> None:
    ack = render_email("referral_ack", "it", FULL["referral_ack"])
    assert ack.subject == "Esito segnalazioni - accettate: 1, scartate: 1, già in carico: 1"
    assert "riga 3" in ack.text and "codice_fiscale" in ack.text and "BG-2026-000007" in ack.text
    ref = render_email("intake_appointment_referrer", "it", FULL["intake_appointment_referrer"])
    assert ref.subject == (
        "Colloqui al Centro per l'Impiego fissati per 4 persone segnalate "
        "(BG-2026-000101, BG-2026-000102, BG-2026-000103 e altre 1)"
    )
    assert "caso BG-2026-000104: martedì 1 dicembre 2026, ore 10:30" in ref.text
    digest = FULL["intake_appointment_referrer"]
    one = {**digest, "appointments": digest["appointments"][:1]}
    single = render_email("intake_appointment_referrer", "it", one)
    assert single.subject == "Caso BG-2026-000101: colloquio al Centro per l'Impiego il 30/11/2026 09:45"
    assert "per la persona che avete segnalato" in single.text
    cpia = render_email("cpia_enrolment_request", "it", FULL["cpia_enrolment_request"])
    assert "BG-2026-000101, BG-2026-000102" in cpia.subject
    assert "Centro per l'Impiego" in cpia.text
    dispatch = render_email("dispatch_confindustria", "it", FULL["dispatch_confindustria"])
    assert "DSP-2026-0004" in dispatch.subject
    assert "<td" in dispatch.html and "P-7F3K" in dispatch.html and "Saldatore, Operaio metalmeccanico" in dispatch.html
    shortlist = render_email("vacancy_shortlist", "it", FULL["vacancy_shortlist"])
    assert "0,87" in shortlist.text and "VAC-2026-0031" in shortlist.subject
    report = render_email("monthly_report", "it", FULL["monthly_report"])
    assert "novembre 2026" in report.subject and 'src="cid:funnel.png"' in report.html
    errors = render_email("import_errors", "it", FULL["import_errors"])
    assert "riga 7" in errors.text and "<td" in errors.html
    reminder = render_email("form_reminder", "it", FULL["form_reminder"])
    assert "Esito colloquio" in reminder.subject and "2 casi" in reminder.subject


# Golden facts per kind and language: (facts in the subject, facts in both the text and the HTML).
GOLDEN: dict[tuple[str, str], tuple[list[str], list[str]]] = {
    ("referral_ack", "it"): (
        ["accettate: 1", "scartate: 1", "già in carico: 1"],
        [
            "segnalazioni_caritas_2026-11.xlsx",
            "BG-2026-000101",
            "CPI Bergamo",
            "codice_fiscale",
            "formato non valido",
            "BG-2026-000007",
        ],
    ),
    ("consent_reminder", "it"): (["Consensi da raccogliere", "lista.csv"], ["BG-2026-000102", "Consenso privacy"]),
    **GOLDEN_ISSUE_18,
    **GOLDEN_ISSUE_20_COMPANIES,
    **GOLDEN_ISSUE_20,
    ("duplicate_notice", "it"): (
        ["BG-2026-000007", "già in carico"],
        ["BG-2026-000007", "CPI Treviglio", "+39 0363 000000", "cpi.treviglio@example.org"],
    ),
    ("intake_appointment_candidate", "it"): (
        ["BG-2026-000101", "30/11/2026 09:45"],
        [
            "lunedì 30 novembre 2026, ore 09:45",
            "Via Gabriele Camozzi 95, 24121 Bergamo",
            "documento d'identità",
            "permesso di soggiorno",
            "codice fiscale",
            "attestato corso HACCP",
        ],
    ),
    ("intake_appointment_candidate", "en"): (
        ["BG-2026-000101", "30/11/2026 09:45", "appointment"],
        [
            "Monday 30 November 2026, 09:45",
            "Via Gabriele Camozzi 95, 24121 Bergamo",
            "identity document",
            "residence permit",
            "tax code",
            "attestato corso HACCP",
        ],
    ),
    ("intake_appointment_candidate", "uk"): (
        ["BG-2026-000101", "30/11/2026 09:45", "зустріч"],
        [
            "понеділок, 30 листопада 2026\u202fр., о 09:45",
            "Via Gabriele Camozzi 95, 24121 Bergamo",
            "паспорт",
            "permesso di soggiorno",
            "codice fiscale",
            "attestato corso HACCP",
        ],
    ),
    ("intake_appointment_referrer", "it"): (
        ["4 persone segnalate", "BG-2026-000101"],
        [
            "lunedì 30 novembre 2026, ore 09:45",
            "BG-2026-000104",
            "CPI Bergamo",
            "Via Camozzi 95, Bergamo",
            "documento d'identità",
        ],
    ),
    ("intake_no_show_referrer", "it"): (["2 persone", "contattarle"], ["BG-2026-000102", "lunedì 14 dicembre 2026"]),
    ("cpia_enrolment_request", "it"): (
        ["BG-2026-000101, BG-2026-000102", "CPIA-2026-11"],
        ["BG-2026-000101", "A2", "BG-2026-000102", "A1", "CPI Seriate", "giovedì 10 dicembre 2026"],
    ),
    ("dispatch_confindustria", "it"): (
        ["DSP-2026-0004"],
        ["DSP-2026-0004", "P-7F3K", "Saldatore, Operaio metalmeccanico", "A2", "Bassa bergamasca"],
    ),
    ("interest_notice", "it"): (
        ["BG-2026-000101", "colloquio", "Metalmeccanica Orobica S.p.A."],
        ["BG-2026-000101", "Metalmeccanica Orobica S.p.A.", "Saldatore a filo", "consenso"],
    ),
    ("contact_release", "it"): (
        ["BG-2026-000101"],
        ["BG-2026-000101", "Olena Kovalenko", "+39 333 0000000", "olena@example.org", "Saldatore a filo"],
    ),
    ("vacancy_shortlist", "it"): (
        ["VAC-2026-0031", "1 caso"],
        ["Magazziniere", "Logistica Srl", "BG-2026-000101", "0,87", "patente B, zona"],
    ),
    ("vacancy_company_unknown", "it"): (
        ["1 azienda non riconosciuta"],
        ["VAC-0007-0004", "Addetto pressa", "Note interne"],
    ),
    ("import_errors", "it"): (
        ["1 riga"],
        ["vacancies.csv", "data_inizio", "31/02/2026", "data inesistente"],
    ),
    ("form_reminder", "it"): (
        ["Esito colloquio", "2 casi", "BG-2026-000101, BG-2026-000102"],
        ["BG-2026-000101", "BG-2026-000102", "20 novembre 2026", "http://127.0.0.1:4200/forms"],
    ),
    ("failure_alert", "it"): (
        ["import-referrals", "3f0c2a9e-0000-4000-8000-000000000000"],
        ["import-referrals", "3f0c2a9e-0000-4000-8000-000000000000", "DatabaseError: database is locked"],
    ),
    ("policy_proposal", "it"): (
        ["BG-2026-000101", "Percorso 3 - riqualificazione"],
        ["BG-2026-000101", "GOL-3", "Saldatura a filo", "CRS-77", "120"],
    ),
    ("tavolo_agenda", "it"): (
        ["1 pratica"],
        ["BG-2026-000201", "BG-2026-000202", "BG-2026-000203", "BG-2026-000204", "Logistica Srl"],
    ),
    ("monthly_report", "it"): (
        ["novembre 2026"],
        ["segnalati", "120", "assunti", "9 assunzioni", "Dati provvisori."],
    ),
}


def test_golden_table_covers_every_kind_and_language() -> None:
    assert set(GOLDEN) == {(kind, lang) for kind, spec in KINDS.items() for lang in spec.languages}


@pytest.mark.parametrize(("kind", "lang"), sorted(GOLDEN))
def test_golden_facts_per_kind_and_language(kind: str, lang: str) -> None:
    subject_facts, body_facts = GOLDEN[(kind, lang)]
    rendered = render_email(kind, lang, FULL[kind])
    assert rendered.language == lang
    html_text = html.unescape(rendered.html)
    for fact in subject_facts:
        assert fact in rendered.subject, (kind, lang, fact, rendered.subject)
    for fact in body_facts:
        assert fact in rendered.text, (kind, lang, "text", fact)
        assert fact in html_text, (kind, lang, "html", fact)
    assert "\n" not in rendered.subject and len(rendered.subject) <= 250
    assert f'<html lang="{lang}">' in rendered.html


def test_delivery_failure_alert_lists_keys_case_codes_and_reasons() -> None:
    context = {
        "error_summary": "2 email non consegnate",
        "failures": [
            {
                "key": "case:BG-2026-000101:intake-scheduled:candidate",
                "case_code": "BG-2026-000101",
                "kind": "intake_appointment_candidate",
                "reason": "uncertain",
                "code": None,
            },
            {"key": "import:7:ack", "case_code": None, "kind": "referral_ack", "reason": "permanent", "code": "550"},
        ],
    }
    rendered = render_email("failure_alert", "it", context)
    assert rendered.subject == "Incontro - Email non consegnate o dall'esito incerto: 2 (casi BG-2026-000101)"
    for body in (rendered.text, html.unescape(rendered.html)):
        assert "case:BG-2026-000101:intake-scheduled:candidate" in body and "import:7:ack" in body
        assert "NON ritrasmessa per evitare doppioni" in body
        assert "rifiutata in modo definitivo" in body and "codice 550" in body


@pytest.mark.parametrize(("kind", "lang"), sorted(GOLDEN))
def test_every_template_renders_with_only_required_data(kind: str, lang: str) -> None:
    rendered = render_email(kind, lang, required_only(kind))
    assert rendered.subject.strip() and rendered.text.strip() and "</html>" in rendered.html
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "None" not in part and "Undefined" not in part


def test_subjects_never_carry_names() -> None:
    release = render_email("contact_release", "it", FULL["contact_release"])
    assert "Olena" not in release.subject and "BG-2026-000101" in release.subject
    assert "Olena Kovalenko" in release.text and "+39 333 0000000" in release.text
    for kind in KINDS:  # the full fixtures carry names; no subject may repeat them
        assert "Olena" not in render_email(kind, "it", FULL[kind]).subject, kind
    candidate = render_email("intake_appointment_candidate", "uk", FULL["intake_appointment_candidate"])
    assert "Olena" not in candidate.subject


def test_missing_language_falls_back_to_italian() -> None:
    rendered = render_email("referral_ack", "uk", FULL["referral_ack"])
    assert rendered.language == "it"
    assert rendered.subject.startswith("Esito segnalazioni")
    assert render_email("failure_alert", "../../etc", FULL["failure_alert"]).language == "it"


def test_missing_required_key_names_kind_and_key() -> None:
    context = dict(required_only("intake_appointment_candidate"))
    del context["office_address"]
    with pytest.raises(TemplateContextError, match=r"intake_appointment_candidate.*office_address"):
        render_email("intake_appointment_candidate", "it", context)
    with pytest.raises(TemplateContextError, match="unknown email kind"):
        render_email("no_such_kind", "it", {})
