"""MIME messages of outbox rows, built at send time and pure, so a resend carries the same bytes and Message-ID."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
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
from typing import NamedTuple, Protocol

from aiosmtplib.email import flatten_message

from models.clock import as_utc
from models.ops import Outbox


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
    """A Message-ID derived only from the outbox key and the sender's domain (stable per row)."""
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
    """Subject, Date, Message-ID and the X-Incontro headers, each a sanitised single line.

    The Message-ID a drain recorded when it first claimed the row wins over a fresh derivation,
    so a resend matches the first attempt even after ``mail_from`` changed domain.
    """
    created = row.created_at or datetime(2000, 1, 1, tzinfo=UTC)
    headers = [
        ("Subject", sanitize_header(row.subject)),
        ("Date", format_datetime(as_utc(created))),
        ("Message-ID", sanitize_header(row.message_id) or message_id_for(row.key, domain)),
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
