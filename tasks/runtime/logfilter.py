"""A logging filter that redacts identifiers: the second guard behind "no personal data in logs".

The first guard is the code itself (flows and tasks log case codes and counts only). This filter
catches what slips through anyway - an exception message quoting a row, a stray ``print`` with
``log_prints`` - before Prefect ships the record to its API, console or files: e-mail addresses,
phone numbers (E.164 and Italian national forms), codici fiscali (16-character and the 11-digit
temporary one) and dates that can be birth dates (dd/mm/yyyy or ISO with a year at least
:data:`MIN_AGE_YEARS` in the past, so run dates and ``as_of`` parameters stay readable). Names
cannot be recognised by a pattern: keeping them out is the first guard's job, and the PII scan
test (tests/pii_scan.py) checks it.

Installed by Prefect's logging configuration (``PREFECT_LOGGING_SETTINGS_PATH`` pointing to
``config/prefect-logging.yml``), or at run time with :func:`install_redaction`.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# No project imports: Prefect's server process loads this module from its logging configuration.
PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: The Prefect logging configuration that puts :class:`RedactingFilter` on every handler.
LOGGING_CONFIG_PATH = PROJECT_ROOT / "config" / "prefect-logging.yml"
#: Environment variable Prefect reads to find its logging configuration.
LOGGING_ENV = "PREFECT_LOGGING_SETTINGS_PATH"

MIN_AGE_YEARS = 14  # a date at least this old may be someone's birth date
REDACTED = "[riservato]"
_ROME = ZoneInfo("Europe/Rome")

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_CF = re.compile(
    r"\b[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z]"
    r"[0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]\b"
)
_CF_TEMP = re.compile(r"(?<![\w-])\d{11}(?![\w-])")
# International numbers (+ or 00 prefix) and Italian mobiles/landlines, with or without separators.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)[1-9]\d{0,2}[ .-]?)?(?:3\d{2}|0\d{1,3})[ .-]?\d{3,4}[ .-]?\d{3,4}(?![\w])"
    r"|(?<![\w+])(?:\+|00)[1-9][\d .-]{7,16}\d(?!\w)"
)
_DMY = re.compile(r"(?<!\d)(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?!\d)")
_ISO = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")
# Run, deployment and event ids: never personal data, and their all-digit groups look like phone
# numbers ("07923878-167c-…" would lose its head). Kept whole so coordinators can find the run.
# (An id inside an e-mail address is not kept: the address is redacted whole.)
_UUID = re.compile(r"(?<![\w.+-])([0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})(?![\w@-])")


def _birth_like(year: str, month: str, day: str, today: date) -> bool:
    """A real calendar date far enough in the past to be a birth date."""
    try:
        value = date(int(year), int(month), int(day))
    except ValueError:
        return False
    return 1900 <= value.year <= today.year - MIN_AGE_YEARS


def redact(text: str, today: date | None = None) -> str:
    """``text`` with e-mails, phones, codici fiscali and birth-like dates replaced; UUIDs kept."""
    if not text:
        return text
    today = today or datetime.now(_ROME).date()  # the business date (models.clock), without importing models
    # split() with a group interleaves text (even places) and ids (odd places); each text piece
    # is redacted on its own, so an id never lends its digits to a match.
    pieces = _UUID.split(text)
    return "".join(piece if i % 2 else _redact_part(piece, today) for i, piece in enumerate(pieces))


def _redact_part(text: str, today: date) -> str:
    text = _EMAIL.sub(REDACTED, text)
    text = _CF.sub(REDACTED, text)
    text = _DMY.sub(lambda m: REDACTED if _birth_like(m[3], m[2], m[1], today) else m[0], text)
    text = _ISO.sub(lambda m: REDACTED if _birth_like(m[1], m[2], m[3], today) else m[0], text)
    text = _PHONE.sub(REDACTED, text)
    return _CF_TEMP.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and exception text) through :func:`redact`; never drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the template only
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _with_filter(handler: logging.Handler) -> None:
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())


def install_redaction(extra_loggers: tuple[str, ...] = ()) -> int:
    """Put :class:`RedactingFilter` on every handler of the root, ``prefect*`` and given loggers.

    Handler filters see propagated records too, so this covers flow and task run loggers. Returns
    how many handlers were checked (idempotent: a handler gets one filter at most).
    """
    names = {"", "prefect", *extra_loggers}
    names |= {n for n in logging.root.manager.loggerDict if n.startswith("prefect")}
    seen = 0
    for name in sorted(names):
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            _with_filter(handler)
            seen += 1
    return seen


def prefect_logging_env() -> dict[str, Any]:
    """The environment entry that makes every Prefect process load the redacting configuration."""
    return {LOGGING_ENV: str(LOGGING_CONFIG_PATH)}
