"""Email rendering: Jinja2 templates in, subject, plain text and HTML out.

Rendering happens when a flow step enqueues a notification (so the outbox row holds exactly the
text that will be sent); the dates and numbers in it come from :mod:`tasks.mail.formatting`, and
the RFC 5322 message is built at send time by :mod:`tasks.mail.message`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.settings import PROJECT_ROOT
from tasks.mail.formatting import (
    DEFAULT_LANGUAGE,
    codes_summary,
    format_date_long,
    format_date_plain,
    format_datetime_long,
    format_datetime_short,
    format_month,
    format_number,
    format_percent,
    listing,
    state_label,
    value_label,
)
from tasks.mail.message import sanitize_header

if TYPE_CHECKING:  # Jinja2 is imported where emails are rendered: no flow run needs it at start
    from jinja2 import Environment
    from jinja2.runtime import Context

TEMPLATES_DIR = PROJECT_ROOT / "config" / "templates"
SUBJECT_MAX = 250


@dataclass(frozen=True)
class KindSpec:
    """What a template kind needs: who receives it and which context keys it reads."""

    audience: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("it",)
    carries_identifiers: bool = False
    description: str = ""


# Every email kind, its audience and its context contract (checked by render_email).
KINDS: dict[str, KindSpec] = {
    "referral_ack": KindSpec(
        audience="referrer",
        required=("file_name", "accepted", "rejected", "duplicates"),
        optional=(
            "referrer_name",
            "received_at",
            "contact_email",
            "waiting_office",
            "unused_columns",
            "consent_missing",
            "row_warnings",
            "row_warnings_total",
            "in_review",
        ),
        description="Outcome of a referral file, each row in one list: accepted [{row, case_code, office_name}], "
        "rejected [{row, errors: [{column (or None), reason}]}] (refused rows and people who said no to the "
        "processing), duplicates [{row, case_code, office_name, same_file_row}], in_review [{row, case_code}]; "
        "unused_columns "
        "[header as written]; consent_missing: the file had no consent columns (first line of the text); "
        "row_warnings [{row, column, reason}] of accepted rows (row_warnings_total of them in all).",
    ),
    "consent_reminder": KindSpec(
        audience="referrer",
        required=("file_name", "case_codes"),
        optional=("referrer_name",),
        description="A referral file had no consent columns: its cases [case_code] wait for the consent, "
        "collected at the CPI intake; next files should carry the consent columns. One per import.",
    ),
    "duplicate_notice": KindSpec(
        audience="referrer",
        required=("case_code", "existing_office"),
        optional=("referrer_name", "file_name", "row", "existing_office_phone", "existing_office_email"),
        description="The referred person is already followed by a CPI office; the referral was merged.",
    ),
    "case_closed": KindSpec(
        audience="referrer",
        required=("case_code", "reason", "reason_label", "closed_on"),
        optional=("referrer_name", "person_name", "office_name", "office_phone", "office_email"),
        carries_identifiers=True,
        description="An operator closed a case the referrer sent (reason code and its Italian label); the "
        "person is named only to the partner who referred them, with consent_purpose=referrer_contact.",
    ),
    "partner_digest": KindSpec(
        audience="referrer",
        required=("items", "period"),
        optional=("referrer_name", "status_url"),
        carries_identifiers=True,
        description="The partner's daily or weekly digest (tasks/referral/feedback.py): items [{person_name, "
        "case_code, news (Italian), on, reason_label (closures)}] of the people it referred who consented to "
        "referrer_contact; period giorno | settimana; status_url: a fresh signed link to its status page.",
    ),
    "partner_link": KindSpec(
        audience="referrer",
        required=("link", "expires_on"),
        optional=("referrer_name",),
        description="The signed link opening a referring organisation's pages (/segnalazioni/: referral form "
        "and status of its referrals), sent to the organisation's address by `incontro partner-link --email`.",
    ),
    "intake_appointment_candidate": KindSpec(
        audience="candidate",
        required=("case_code", "office_name", "office_address", "appointment_at"),
        optional=(
            "candidate_name",
            "office_phone",
            "office_email",
            "map_url",
            "extra_documents",
            "notes",
            "rescheduled",
        ),
        languages=("it", "en", "uk"),
        description="Intake appointment at the CPI: when, where and what to bring; rescheduled: a new "
        "appointment after a missed one (not a first meeting).",
    ),
    "intake_appointment_referrer": KindSpec(
        audience="referrer",
        required=("appointments", "office_name"),
        optional=("referrer_name", "office_address", "office_phone"),
        description="One digest per referrer and office: when the intakes of their referrals are "
        "scheduled, appointments [{case_code, appointment_at, rescheduled, without_email}] (one email, "
        "not one per person); without_email: the referrer tells the person.",
    ),
    "intake_no_show_referrer": KindSpec(
        audience="referrer",
        required=("cases", "office_name", "reply_by"),
        optional=("referrer_name", "office_phone", "office_email"),
        description="People who missed more appointments than allowed: the referrer is asked to reach them "
        "and tell the CPI by reply_by whether they want a new one, else the CPI proposes closing the case; "
        "cases [{case_code, missed, last_appointment}]; case codes only.",
    ),
    "cpia_enrolment_request": KindSpec(
        audience="cpia",
        required=("cases",),
        optional=("cpia_name", "site", "request_code", "reply_by", "notes"),
        carries_identifiers=True,
        description="Italian-course enrolment request to the CPIA site serving the person's area: cases "
        "[{case_code, target_level, office_name, ...}]; name and contacts only where the person consented "
        "to the CPIA, otherwise the request says to ask the CPI office.",
    ),
    "dispatch_confindustria": KindSpec(
        audience="confindustria",
        required=("batch_code", "profiles"),
        optional=(
            "count",
            "date",
            "attachment_name",
            "reply_by",
            "notes",
            "batch_url",
            "occupations",
            "companies",
            "unmatched",
            "link_days",
        ),
        description="A summary and one signed link to the batch page (batch_url; occupations [{label, count}], "
        "companies and unmatched counts); without batch_url, pseudonymous profiles [{profile_code, occupations, "
        "italian, licence, education, availability, area, links}] in the body.",
    ),
    "company_profiles": KindSpec(
        audience="company",
        required=("company_name", "batch_code", "count", "url"),
        optional=("link_days",),
        description="A member company's signed link to its profiles of a dispatch batch (portal/companies).",
    ),
    "company_shortlist": KindSpec(
        audience="company",
        required=("company_name", "vacancy_code", "vacancy_title", "count", "url"),
        optional=("link_days",),
        description="The vacancy's company: signed link to the approved shortlist, answered per profile.",
    ),
    "interest_notice": KindSpec(
        audience="cpi_or_referrer",
        required=("case_code", "company_name", "answer"),
        optional=("vacancy_title", "notes"),
        description="A company answered about a profile: answer interested | interview | no.",
    ),
    "contact_release": KindSpec(
        audience="company",
        required=("case_code", "candidate"),
        optional=("company_name", "vacancy_title", "office_name", "office_phone", "consent_date"),
        carries_identifiers=True,
        description="Candidate contact {name, phone, email} for a named company; only queued with "
        "consent_purpose=contact_to_company.",
    ),
    "vacancy_shortlist": KindSpec(
        audience="labour_service",
        required=("vacancy_code", "vacancy_title", "company_name", "rows"),
        optional=("occupation", "policy_hint", "notes", "generated_at"),
        description="Ranked shortlist rows [{rank, case_code, score, explanation}]; policy_hint "
        "suggests active-policy routes when nobody fits.",
    ),
    "vacancy_company_unknown": KindSpec(
        audience="sender",
        required=("file_name", "rows"),
        optional=("sender_name", "contact_email", "unused_columns"),
        description="Positions of a vacancy file whose company is not a known member, kept waiting for the "
        "coordinators: rows [{row, vacancy_code, title, company, vat, reason, suggestions [name]}]. One per file.",
    ),
    "import_errors": KindSpec(
        audience="sender",
        required=("file_name", "rows"),
        optional=("sender_name", "rows_total", "rows_accepted", "unused_columns"),
        description="Rejected rows [{row, column, value, reason}] of an imported file; unused_columns [header].",
    ),
    "form_reminder": KindSpec(
        audience="cpi",
        required=("form_kind", "case_codes", "waiting_since"),
        optional=("office_name", "form_label", "form_url"),
        description="A CPI office has forms waiting for these cases.",
    ),
    "consent_to_ask": KindSpec(
        audience="cpi",
        required=("cases",),
        optional=("office_name", "agenda_after"),
        description="A CPI office has cases stuck until it asks the person for a consent: cases [{case_code, "
        "consent (in Italian), due}]; agenda_after: business days of delay after which the coordination "
        "table takes them up. Case codes only.",
    ),
    "failure_alert": KindSpec(
        audience="coordinator",
        required=("error_summary",),
        optional=("flow_name", "run_id", "run_name", "occurred_at", "run_url", "failures", "outage"),
        description="A flow run failed (flow_name, run_id) or outbox rows failed: failures [{id, key, case_code, "
        "kind, reason: permanent | uncertain | gave_up | invalid, code}], or the SMTP relay is down: outage "
        "{relay, since, hours, pending, probes, error}; no personal data in any field.",
    ),
    "monthly_report": KindSpec(
        audience="coordinator",
        required=("month", "funnel"),
        optional=("highlights", "images", "notes"),
        description="Monthly funnel [{state, count}]; images [{cid, alt}] reference inline attachments "
        "whose filename equals the cid.",
    ),
    "policy_proposal": KindSpec(
        audience="provider",
        required=("case_code", "measure_code", "measure_label"),
        optional=("provider_name", "office_name", "pathway", "course", "notes", "register_code", "site"),
        description="A CPI chose an active-policy measure for a case: the accredited operator or training "
        "body takes it up; course {code, title, start, hours, internship, allowance, vacancy_code}; the "
        "operator's site {municipality, address, phone} nearest to the person; register_code: how the "
        "register names the measure (GOL, Garanzia Giovani, BG-RIPARTIRE); the person's contact comes "
        "only through the CPI office.",
    ),
    "tavolo_agenda": KindSpec(
        audience="coordinator",
        required=("meeting_date", "since", "new_referrals", "awaiting", "ending", "placements"),
        optional=("until", "member_name", "notes", "literacy", "chair", "members", "consent"),
        description="Monthly coordination table agenda: new_referrals [{case_code, office, state, on}], awaiting "
        "[{case_code, office, since, days, options}], ending [{case_code, measure, status, expected_end}], "
        "placements [{case_code, route, company, days, on}], literacy [{case_code, office, courses, last, "
        "since}], consent [{case_code, office, consent, due}] (consents nobody asked for); offices, companies and "
        "measures by name; chair and members: who sits at the table; "
        "case codes only.",
    ),
}


class TemplateContextError(ValueError):
    """A render was asked for with an unknown kind or without a required context key."""


@dataclass(frozen=True)
class RenderedEmail:
    """Subject, plain text and HTML of one email, plus the language actually used."""

    subject: str
    text: str
    html: str
    language: str = DEFAULT_LANGUAGE


def _in_language(formatter: Callable[[Any, str], str]) -> Callable[[Context, Any], str]:
    """A Jinja filter formatting its value in the rendered email's language (``lang``)."""
    from jinja2 import pass_context

    @pass_context
    def render(ctx: Context, value: Any) -> str:
        return formatter(value, ctx.get("lang", DEFAULT_LANGUAGE))

    return render


def _is_html(name: str | None) -> bool:
    return bool(name) and str(name).endswith(".html.j2")


@lru_cache(maxsize=4)
def get_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """One Jinja2 environment: autoescape for HTML only, StrictUndefined to catch typos."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=_is_html,  # noqa: S701 - escaping is on for every .html template
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        date_long=_in_language(format_date_long),
        date_plain=_in_language(format_date_plain),
        datetime_long=_in_language(format_datetime_long),
        datetime_short=format_datetime_short,
        month_long=_in_language(format_month),
        number=_in_language(format_number),
        percent=_in_language(format_percent),
        listing=listing,
        codes_summary=codes_summary,
        state_label=state_label,
        label=value_label,
    )
    return env


def _template_language(env: Environment, kind: str, language: str) -> str:
    """The requested language when its three templates exist, Italian otherwise."""
    from jinja2 import TemplateNotFound

    lang = (language or DEFAULT_LANGUAGE).strip().lower()
    if not re.fullmatch(r"[a-z]{2,3}", lang):
        return DEFAULT_LANGUAGE
    if lang != DEFAULT_LANGUAGE:
        try:
            for part in ("subject", "txt", "html"):
                env.get_template(f"{kind}.{lang}.{part}.j2")
        except TemplateNotFound:
            return DEFAULT_LANGUAGE
    return lang


def render_email(kind: str, language: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Render subject, text and HTML of ``kind`` in ``language`` (Italian when missing)."""
    spec = KINDS.get(kind)
    if spec is None:
        raise TemplateContextError(f"unknown email kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}")
    for key in spec.required:
        if key not in context or context[key] is None:
            raise TemplateContextError(f"email kind {kind!r}: missing required context key {key!r}")
    env = get_environment()
    lang = _template_language(env, kind, language)
    values = {**context, "lang": lang, "kind": kind}
    subject = env.get_template(f"{kind}.{lang}.subject.j2").render(values)
    text = env.get_template(f"{kind}.{lang}.txt.j2").render(values)
    html = env.get_template(f"{kind}.{lang}.html.j2").render(values)
    return RenderedEmail(
        subject=sanitize_header(subject)[:SUBJECT_MAX],
        text=_tidy_text(text),
        html=html,
        language=lang,
    )


def _tidy_text(text: str) -> str:
    """At most one blank line in a row and a single final newline, whatever the loops left."""
    lines = [line if line == "-- " else line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and out and not out[-1]:
            continue
        out.append(line)
    return "\n".join(out) + "\n"
