"""Building the MIME message from a rendered email: headers neutralised, RFC 2047 names,
deterministic Message-ID, attachments and inline images (rendering is in test_emails)."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from models.ops import Outbox
from tasks.mail.message import MailAttachment, build_message, format_address, sanitize_header
from tasks.mail.templates import render_email
from tests.unit.test_emails import EVIL, FULL, MAIL_FROM


def test_sanitize_header() -> None:
    assert sanitize_header(EVIL) == "Anna Bcc: x@example.org<script>"
    assert sanitize_header("  a\tb\x00c\u2028d  ") == "a b c d"
    assert sanitize_header(None) == ""
    assert "\n" not in sanitize_header("x\n\rBcc: y")


def _row(**overrides: Any) -> Outbox:
    rendered = render_email("contact_release", "it", {**FULL["contact_release"], "candidate": {"name": EVIL}})
    values: dict[str, Any] = {
        "id": 1,
        "key": "case:BG-2026-000101:contact:ACME",
        "kind": "contact_release",
        "case_code": "BG-2026-000101",
        "recipient": format_address(EVIL, "hr@acme.example"),
        "reply_to": format_address("CPI\r\nBcc: y@z.org", "cpi@example.org"),
        "language": "it",
        "subject": rendered.subject + "\r\nBcc: x@example.org",
        "body_text": rendered.text,
        "body_html": rendered.html,
        "created_at": datetime(2026, 12, 1, 8, 0),
    }
    values.update(overrides)
    return Outbox(**values)


def _reparse(msg: EmailMessage) -> EmailMessage:
    return message_from_bytes(msg.as_bytes(), policy=default_policy)  # type: ignore[return-value]


def test_header_injection_is_neutralised() -> None:
    msg = _reparse(build_message(_row(), mail_from=MAIL_FROM))
    assert msg["Bcc"] is None
    assert all(name.lower() != "bcc" for name in msg)
    assert msg["To"].addresses[0].addr_spec == "hr@acme.example"
    assert msg["To"].addresses[0].display_name == "Anna Bcc: x@example.org<script>"
    assert msg["Reply-To"].addresses[0].addr_spec == "cpi@example.org"
    assert "Bcc" in msg["Subject"] and "\n" not in msg["Subject"]
    html = msg.get_body(preferencelist=("html",))
    assert html is not None
    content = html.get_content()
    assert "<script>" not in content and "&lt;script&gt;" in content


def test_build_message_structure_and_deterministic_id() -> None:
    row = _row()
    first = build_message(row, mail_from=MAIL_FROM)
    second = build_message(row, mail_from=MAIL_FROM)
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].endswith("@incontro.provincia.bergamo.example>")
    assert build_message(_row(key="other"), mail_from=MAIL_FROM)["Message-ID"] != first["Message-ID"]
    assert first["X-Incontro-Key"] == row.key and first["X-Incontro-Kind"] == "contact_release"
    assert first.as_bytes() == second.as_bytes()
    parsed = _reparse(first)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    text = parsed.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert text.replace("\r\n", "\n") == row.body_text.replace("\r\n", "\n")


def test_non_latin_names_and_subjects_are_rfc2047_encoded() -> None:
    row = _row(
        recipient=format_address("Олена Шевченко", "olena@example.org"),
        reply_to=format_address("CPI Trévise", "cpi@example.org"),
        subject="Запрошення – pratica BG-2026-000101",
    )
    raw = build_message(row, mail_from=MAIL_FROM).as_bytes()
    assert raw.isascii(), "headers and bodies leave as 7-bit ASCII (RFC 2047 words, quoted-printable)"
    parsed = _reparse(build_message(row, mail_from=MAIL_FROM))
    assert parsed["To"].addresses[0].display_name == "Олена Шевченко"
    assert parsed["To"].addresses[0].addr_spec == "olena@example.org"
    assert parsed["Reply-To"].addresses[0].display_name == "CPI Trévise"
    assert str(parsed["Subject"]) == "Запрошення – pratica BG-2026-000101"


def test_build_message_attachments_and_inline_images() -> None:
    rendered = render_email("monthly_report", "it", FULL["monthly_report"])
    row = _row(
        kind="monthly_report",
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        recipient="coord@example.org",
        reply_to=None,
    )
    png = b"\x89PNG\r\n\x1a\n fake"
    msg = _reparse(
        build_message(
            row,
            [
                MailAttachment("funnel.png", "image/png", png),
                MailAttachment("report.xlsx", "application/vnd.ms-excel", b"PK"),
            ],
            mail_from=MAIL_FROM,
        )
    )
    assert msg.get_content_type() == "multipart/mixed"
    parts = {p.get_content_type(): p for p in msg.walk()}
    assert "multipart/related" in parts
    assert parts["image/png"]["Content-ID"] == "<funnel.png>"
    assert parts["image/png"].get_content() == png
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["report.xlsx"]


def test_build_message_rejects_bad_address() -> None:
    with pytest.raises(ValueError):
        build_message(_row(recipient="not an address"), mail_from=MAIL_FROM)
