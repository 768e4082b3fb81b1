"""Email rendering and message building: Jinja2 templates in, RFC 5322 messages out.

Rendering happens when a flow step enqueues a notification (so the outbox row holds exactly the
text that will be sent); building the MIME message happens at send time and is pure, so a resend
produces the same Message-ID and the receiving side can recognise a duplicate.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP as SMTP_POLICY
from email.policy import compat32
from email.utils import format_datetime, formataddr, getaddresses
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from aiosmtplib.email import flatten_message
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    pass_context,
)
from jinja2.runtime import Context

from config.settings import PROJECT_ROOT
from models.ops import Outbox

TEMPLATES_DIR = PROJECT_ROOT / "config" / "templates"
DEFAULT_LANGUAGE = "it"
LOCAL_TZ = ZoneInfo("Europe/Rome")
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
        optional=("referrer_name", "received_at", "contact_email"),
        description="Outcome of a referral file: accepted [{row, case_code, office_name}], "
        "rejected [{row, errors: [{column, reason}]}], duplicates [{row, case_code}].",
    ),
    "duplicate_notice": KindSpec(
        audience="referrer",
        required=("case_code", "existing_office"),
        optional=("referrer_name", "file_name", "row", "existing_office_phone", "existing_office_email"),
        description="The referred person is already followed by a CPI office; the referral was merged.",
    ),
    "intake_appointment_candidate": KindSpec(
        audience="candidate",
        required=("case_code", "office_name", "office_address", "appointment_at"),
        optional=("candidate_name", "office_phone", "office_email", "map_url", "extra_documents", "notes"),
        languages=("it", "en", "uk"),
        description="Intake appointment at the CPI: when, where and what to bring.",
    ),
    "intake_appointment_referrer": KindSpec(
        audience="referrer",
        required=("appointments", "office_name"),
        optional=("referrer_name", "office_address", "office_phone"),
        description="One digest per referrer and office: when the intakes of their referrals are "
        "scheduled, appointments [{case_code, appointment_at}] (one email, not one per person).",
    ),
    "cpia_enrolment_request": KindSpec(
        audience="cpia",
        required=("cases",),
        optional=("cpia_name", "request_code", "reply_by", "notes"),
        description="Italian-course enrolment request: cases [{case_code, target_level, office_name}]; "
        "the candidate's contact is released only through the CPI office.",
    ),
    "dispatch_confindustria": KindSpec(
        audience="confindustria",
        required=("batch_code", "profiles"),
        optional=("count", "date", "attachment_name", "reply_by", "notes"),
        description="Pseudonymous profiles [{profile_code, occupations, italian, licence, education, "
        "availability, area}]; the XLSX attachment comes from tasks.files.sheets.profiles_xlsx.",
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
    "import_errors": KindSpec(
        audience="sender",
        required=("file_name", "rows"),
        optional=("sender_name", "rows_total", "rows_accepted"),
        description="Rejected rows [{row, column, value, reason}] of an imported file.",
    ),
    "form_reminder": KindSpec(
        audience="cpi",
        required=("form_kind", "case_codes", "waiting_since"),
        optional=("office_name", "form_label", "form_url"),
        description="A CPI office has forms waiting for these cases.",
    ),
    "failure_alert": KindSpec(
        audience="coordinator",
        required=("error_summary",),
        optional=("flow_name", "run_id", "run_name", "occurred_at", "run_url", "failures"),
        description="A flow run failed (flow_name, run_id) or outbox rows failed: failures [{key, case_code, "
        "kind, reason: permanent | uncertain | gave_up | invalid, code}]; no personal data in any field.",
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
        optional=("provider_name", "office_name", "pathway", "course", "notes"),
        description="A CPI chose an active-policy measure for a case: the accredited operator or training "
        "body takes it up; course {code, title, start, hours, internship, allowance, vacancy_code}; the "
        "person's contact comes only through the CPI office.",
    ),
    "tavolo_agenda": KindSpec(
        audience="coordinator",
        required=("meeting_date", "since", "new_referrals", "awaiting", "ending", "placements"),
        optional=("until", "member_name", "notes"),
        description="Monthly coordination table agenda: new_referrals [{case_code, office, state, on}], awaiting "
        "[{case_code, office, since, days, options}], ending [{case_code, measure, status, expected_end}], "
        "placements [{case_code, route, company, days, on}]; case codes only.",
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


class MailAttachment(NamedTuple):
    """An attachment to enqueue: filename, MIME type and bytes."""

    filename: str
    content_type: str
    data: bytes


class AttachmentLike(Protocol):
    """Anything with filename, content_type and data (OutboxAttachment, MailAttachment)."""

    @property
    def filename(self) -> str: ...

    @property
    def content_type(self) -> str: ...

    @property
    def data(self) -> bytes: ...


# --------------------------------------------------------------------------------------------
# Formatting helpers (no locale dependency: the server locale must not change the wording)

_WEEKDAYS = {
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "uk": ("понеділок", "вівторок", "середа", "четвер", "пʼятниця", "субота", "неділя"),
}
_MONTHS = {
    "it": (
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "uk": (
        "січня",
        "лютого",
        "березня",
        "квітня",
        "травня",
        "червня",
        "липня",
        "серпня",
        "вересня",
        "жовтня",
        "листопада",
        "грудня",
    ),
}
_MONTHS_NOMINATIVE_UK = (
    "січень",
    "лютий",
    "березень",
    "квітень",
    "травень",
    "червень",
    "липень",
    "серпень",
    "вересень",
    "жовтень",
    "листопад",
    "грудень",
)


def _local(value: datetime) -> datetime:
    """Aware datetimes are shown in Bergamo time; naive ones are taken as already local."""
    return value.astimezone(LOCAL_TZ) if value.tzinfo is not None else value


def _as_datetime(value: datetime | date | str) -> datetime | date:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return date.fromisoformat(value)
    return value


def format_date_long(value: datetime | date | str, language: str = DEFAULT_LANGUAGE) -> str:
    """``lunedì 30 novembre 2026`` (it), ``Monday 30 November 2026`` (en), Ukrainian likewise."""
    lang = language if language in _MONTHS else DEFAULT_LANGUAGE
    value = _as_datetime(value)
    day = _local(value) if isinstance(value, datetime) else value
    weekday = _WEEKDAYS[lang][day.weekday()]
    month = _MONTHS[lang][day.month - 1]
    if lang == "uk":
        return f"{weekday}, {day.day} {month} {day.year} р."
    return f"{weekday} {day.day} {month} {day.year}"


def format_datetime_long(value: datetime | str, language: str = DEFAULT_LANGUAGE) -> str:
    """``lunedì 30 novembre 2026, ore 09:45`` and its English/Ukrainian counterparts."""
    lang = language if language in _MONTHS else DEFAULT_LANGUAGE
    parsed = _as_datetime(value)
    moment = _local(parsed) if isinstance(parsed, datetime) else datetime(parsed.year, parsed.month, parsed.day)  # noqa: DTZ001
    hhmm = f"{moment.hour:02d}:{moment.minute:02d}"
    prefix = {"it": "ore ", "en": "", "uk": "о "}[lang]
    return f"{format_date_long(moment, lang)}, {prefix}{hhmm}"


def format_datetime_short(value: datetime | str) -> str:
    """``30/11/2026 09:45``: compact and language-neutral, for subjects."""
    parsed = _as_datetime(value)
    if isinstance(parsed, datetime):
        moment = _local(parsed)
        return f"{moment:%d/%m/%Y %H:%M}"
    return f"{parsed:%d/%m/%Y}"


def format_month(value: date | datetime | str, language: str = DEFAULT_LANGUAGE) -> str:
    """``novembre 2026`` from a date or ``2026-11``."""
    lang = language if language in _MONTHS else DEFAULT_LANGUAGE
    if isinstance(value, str):
        match = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?", value.strip())
        if not match:
            return value
        year, month = int(match.group(1)), int(match.group(2))
    else:
        year, month = value.year, value.month
    name = _MONTHS_NOMINATIVE_UK[month - 1] if lang == "uk" else _MONTHS[lang][month - 1]
    return f"{name} {year}"


def listing(value: Any, empty: str = "—") -> str:
    """Lists become ``a, b, c``; enums their value; missing values a dash."""
    if value is None or value == "" or (isinstance(value, list | tuple | set) and not value):
        return empty
    if isinstance(value, list | tuple | set):
        return ", ".join(str(getattr(v, "value", v)) for v in value)
    return str(getattr(value, "value", value))


def format_number(value: Any, language: str = DEFAULT_LANGUAGE, digits: int = 2) -> str:
    """``87,3`` in Italian and Ukrainian, ``87.3`` in English; non-numbers unchanged."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return text if language == "en" else text.replace(".", ",")


# Case states as coordinators read them (the enum values are storage strings, not Italian).
STATE_LABELS_IT: dict[str, str] = {
    "referred": "segnalati",
    "duplicate": "già in carico (uniti)",
    "accepted": "accettati",
    "rejected": "scartati",
    "intake_scheduled": "colloquio fissato",
    "intake_done": "colloquio svolto",
    "no_show": "assenti al colloquio",
    "literacy": "corso di italiano (CPIA)",
    "profile_ready": "profilo pronto",
    "dispatched": "inviati a Confindustria",
    "interest": "interesse di un'azienda",
    "interview": "colloquio in azienda",
    "hired": "assunti",
    "not_selected": "non selezionati",
    "policy": "politica attiva proposta",
    "withdrawn": "ritirati",
    "closed": "chiusi",
    "erased": "cancellati (GDPR)",
}


def state_label(value: Any) -> str:
    """The Italian label of a case state (enum or value); unknown values unchanged."""
    raw = str(getattr(value, "value", value))
    return STATE_LABELS_IT.get(raw, raw)


def codes_summary(codes: Iterable[str], limit: int = 3) -> str:
    """``BG-1, BG-2, BG-3 +4``: case codes for a subject line without making it endless."""
    items = [str(c) for c in codes]
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" +{len(items) - limit}"


@pass_context
def _f_date_long(ctx: Context, value: Any) -> str:
    return format_date_long(value, ctx.get("lang", DEFAULT_LANGUAGE))


@pass_context
def _f_datetime_long(ctx: Context, value: Any) -> str:
    return format_datetime_long(value, ctx.get("lang", DEFAULT_LANGUAGE))


@pass_context
def _f_number(ctx: Context, value: Any) -> str:
    return format_number(value, ctx.get("lang", DEFAULT_LANGUAGE))


@pass_context
def _f_month(ctx: Context, value: Any) -> str:
    return format_month(value, ctx.get("lang", DEFAULT_LANGUAGE))


def _is_html(name: str | None) -> bool:
    return bool(name) and str(name).endswith(".html.j2")


@lru_cache(maxsize=4)
def get_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """One Jinja2 environment: autoescape for HTML only, StrictUndefined to catch typos."""
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=_is_html,  # noqa: S701 - escaping is on for every .html template
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        date_long=_f_date_long,
        datetime_long=_f_datetime_long,
        datetime_short=format_datetime_short,
        month_long=_f_month,
        number=_f_number,
        listing=listing,
        codes_summary=codes_summary,
        state_label=state_label,
    )
    return env


def _template_language(env: Environment, kind: str, language: str) -> str:
    """The requested language when its three templates exist, Italian otherwise."""
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


# --------------------------------------------------------------------------------------------
# Headers and MIME

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def sanitize_header(value: object) -> str:
    """A single-line header value: control characters (CR, LF, NUL, ...) become spaces.

    Names come from partner files, so ``"Anna\\r\\nBcc: x@example.org"`` must stay one line of
    text and never become a second header.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _CONTROL.sub(" ", text)
    text = "".join(" " if unicodedata.category(c) in {"Zl", "Zp", "Cc"} else c for c in text)
    return " ".join(text.split())


def format_address(name: str | None, address: str) -> str:
    """``"Display Name" <addr>`` with the name sanitised and quoted as needed."""
    addr = sanitize_header(address)
    return formataddr((sanitize_header(name), addr)) if name else addr


def parse_address(value: str) -> Address:
    """One mailbox from a stored recipient string; ValueError when there is no usable address."""
    clean = sanitize_header(value)
    pairs = getaddresses([clean])
    if len(pairs) != 1:
        raise ValueError("expected exactly one email address")
    name, addr = pairs[0]
    if "@" not in addr or any(c.isspace() for c in addr):
        raise ValueError("not a valid email address")
    local, _, domain = addr.rpartition("@")
    if not local or not domain:
        raise ValueError("not a valid email address")
    return Address(display_name=sanitize_header(name), username=local, domain=domain)


def message_id_for(key: str, domain: str) -> str:
    """A Message-ID derived only from the outbox key: every resend carries the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}.incontro@{domain}>"


def _domain_of(mail_from: str) -> str:
    try:
        return parse_address(mail_from).domain or "incontro.invalid"
    except ValueError:
        return "incontro.invalid"


def _add_attachments(msg: EmailMessage, attachments: Sequence[AttachmentLike], html: str | None) -> None:
    """Images referenced as ``cid:<filename>`` go inline next to the HTML; the rest are attached."""
    html_part: EmailMessage | None = None
    if html is not None:
        for part in msg.walk():
            if part.get_content_type() == "text/html":
                html_part = part  # type: ignore[assignment]
    for att in attachments:
        maintype, _, subtype = (att.content_type or "application/octet-stream").partition("/")
        filename = sanitize_header(att.filename) or "allegato"
        inline = html_part is not None and maintype == "image" and html is not None and f"cid:{att.filename}" in html
        if inline and html_part is not None:
            html_part.add_related(
                att.data,
                maintype=maintype,
                subtype=subtype or "octet-stream",
                cid=f"<{filename}>",
                filename=filename,
                disposition="inline",
            )
        else:
            msg.add_attachment(
                att.data,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=filename,
            )


def build_message(row: Outbox, attachments: Sequence[AttachmentLike] = (), *, mail_from: str) -> Message:
    """The RFC 5322 message for an outbox row (pure: same row, same bytes and Message-ID).

    Plain notifications to ASCII addresses, nearly all traffic, take :func:`_build_plain`; a
    message with attachments or an internationalised (SMTPUTF8) address takes the
    :class:`EmailMessage` API, which handles both but costs ten times the CPU per message.
    """
    sender = parse_address(mail_from)
    recipient = parse_address(row.recipient)
    reply_to = parse_address(row.reply_to) if row.reply_to else None
    mailboxes = [a for a in (sender, recipient, reply_to) if a is not None]
    headers = _common_headers(row, sender.domain or _domain_of(mail_from))
    if not attachments and all(a.addr_spec.isascii() for a in mailboxes):
        return _build_plain(row, sender, recipient, reply_to, headers)
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = sender
    msg["To"] = recipient
    if reply_to is not None:
        msg["Reply-To"] = reply_to
    for name, value in headers:
        msg[name] = value
    msg.set_content(row.body_text, subtype="plain", charset="utf-8")
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html", charset="utf-8")
    if attachments:
        _add_attachments(msg, attachments, row.body_html)
    _fix_boundaries(msg, row.key)
    return msg


def _common_headers(row: Outbox, domain: str) -> list[tuple[str, str]]:
    """Subject, Date, Message-ID and the X-Incontro headers, each a sanitised single line."""
    created = row.created_at or datetime(2000, 1, 1, tzinfo=UTC)
    headers = [
        ("Subject", sanitize_header(row.subject)),
        ("Date", format_datetime(created.replace(tzinfo=UTC) if created.tzinfo is None else created)),
        ("Message-ID", message_id_for(row.key, domain)),
        ("Auto-Submitted", "auto-generated"),
        ("X-Incontro-Key", sanitize_header(row.key)),
        ("X-Incontro-Kind", sanitize_header(row.kind)),
    ]
    if row.case_code:
        headers.append(("X-Incontro-Case", sanitize_header(row.case_code)))
    if row.language:
        headers.append(("Content-Language", sanitize_header(row.language)))
    return headers


_QP_UTF8 = Charset("utf-8")
_QP_UTF8.body_encoding = QP
#: How fast-path messages are flattened: no refolding (each header we write is one sanitised
#: line far below RFC 5322's hard limit of 998; non-ASCII values arrive as folded RFC 2047
#: words), CRLF for the wire, and "From " lines in bodies left alone.
PLAIN_POLICY = compat32.clone(linesep="\r\n", max_line_length=998, mangle_from_=False)


def _encoded(value: str, name: str) -> str:
    """ASCII as is; anything else as RFC 2047 encoded words of at most 75 characters."""
    return value if value.isascii() else Header(value, "utf-8", header_name=name).encode()


def _mailbox(address: Address, name: str) -> str:
    """``Display Name <addr>``: ASCII names quoted as needed, other names RFC 2047 encoded."""
    display = address.display_name
    if not display:
        return address.addr_spec
    if display.isascii():
        return formataddr((display, address.addr_spec))
    return f"{_encoded(display, name)} <{address.addr_spec}>"


def _build_plain(
    row: Outbox, sender: Address, recipient: Address, reply_to: Address | None, headers: list[tuple[str, str]]
) -> Message:
    """Text (+ HTML alternative) with the explicit-encoding (compat32) API.

    Every value is already one sanitised line; display names and non-ASCII values are RFC 2047
    encoded here, never passed through raw.
    """
    if row.body_html:
        msg: Message = MIMEMultipart("alternative", boundary=_boundary(row.key, 0), policy=PLAIN_POLICY)
        msg.attach(_text_part(row.body_text, "plain"))
        msg.attach(_text_part(row.body_html, "html"))
    else:
        msg = _text_part(row.body_text, "plain")
    msg["From"] = _mailbox(sender, "From")
    msg["To"] = _mailbox(recipient, "To")
    if reply_to is not None:
        msg["Reply-To"] = _mailbox(reply_to, "Reply-To")
    for name, value in headers:
        msg[name] = _encoded(value, name)
    return msg


def _text_part(body: str, subtype: str) -> MIMEText:
    """UTF-8 text, quoted-printable (readable in raw form, 7-bit safe on any relay)."""
    return MIMEText(body, subtype, _QP_UTF8, policy=PLAIN_POLICY)  # type: ignore[arg-type]  # stdlib takes a Charset


def wire_bytes(message: Message, *, utf8: bool, cte_type: str) -> bytes:
    """The message as sent in DATA (CRLF line ends; SMTPUTF8 headers when ``utf8``)."""
    if isinstance(message, EmailMessage):
        return flatten_message(message, utf8=utf8, cte_type=cte_type)
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=message.policy.clone(cte_type=cte_type)).flatten(message)
    return buffer.getvalue()


def _boundary(key: str, index: int) -> str:
    """MIME boundaries derived from the key, so the same row always yields the same bytes."""
    digest = hashlib.sha256(("boundary:" + key).encode("utf-8")).hexdigest()[:24]
    return f"===============incontro{digest}{index}=="


def _fix_boundaries(msg: EmailMessage, key: str) -> None:
    """Deterministic boundaries for the parts the generic API created."""
    for index, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(_boundary(key, index))
