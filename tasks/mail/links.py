"""HMAC-signed answer links for companies without accounts (docs/ARCHITECTURE.md#privacy).

A link is the only credential a company has, so it is bound to one purpose (``answer``), one
company, one profile (case code) and optionally one vacancy, and it expires after
``INCONTRO_PORTAL_LINK_TTL_DAYS``. The token carries only codes — never personal data — as
``v1.<base64url JSON>.<base64url HMAC-SHA256>``; changing any byte breaks the signature.

The key is ``INCONTRO_PORTAL_SECRET``. Outside production, when it is unset, a random
per-installation key is created once in ``<var>/portal.key`` (mode 0600) and reused by every
process sharing that ``var/`` (the dispatch flow that signs and the portal that verifies), so
no installation ever signs with a guessable built-in default. Deleting the file invalidates
every link already sent. Each use (links, form tokens) gets its own key derived from it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from config.settings import Settings, get_settings

VERSION = "v1"
PURPOSE_ANSWER = "answer"
#: Pages of portal/companies: Confindustria's batch page (its code × a batch), a company's
#: profiles of a batch (company × batch), a company's shortlist (company × vacancy).
PURPOSE_BATCH = "batch"
PURPOSE_COMPANY_BATCH = "company_batch"
PURPOSE_SHORTLIST = "shortlist"
PAGE_PATHS: dict[str, str] = {
    PURPOSE_BATCH: "/profili/lotto/",
    PURPOSE_COMPANY_BATCH: "/profili/azienda/",
    PURPOSE_SHORTLIST: "/profili/posizione/",
}
MAX_TOKEN_LENGTH = 512
KEY_FILE = "portal.key"
MIN_SECRET_LENGTH = 16
CSRF_MAX_AGE = 2 * 3600  # seconds a rendered form may wait before being sent
_CODE_MAX = 64


class LinkError(ValueError):
    """A link that cannot be used; ``title`` and ``str(exc)`` are shown to the company as is."""

    title = "Link non valido"
    status_code = 400


class LinkInvalid(LinkError):
    """Malformed, tampered with, signed with another key or meant for another purpose."""


class LinkExpired(LinkError):
    """Correctly signed but past its expiry."""

    title = "Link scaduto"
    status_code = 410


class PortalKeyError(RuntimeError):
    """The signing key is missing or unusable; the message says what to fix."""


@dataclass(frozen=True)
class AnswerLink:
    """What a verified link allows: one company answering about one profile (× vacancy)."""

    company_code: str
    case_code: str
    vacancy_code: str | None
    issued_at: int
    expires_at: int
    purpose: str = PURPOSE_ANSWER


# ------------------------------------------------------------------------------------- keys


def portal_key(settings: Settings | None = None) -> bytes:
    """The master key: the configured secret, or the per-installation key file (not in production)."""
    settings = settings or get_settings()
    if settings.portal_secret is not None:
        secret = settings.portal_secret.get_secret_value().strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise PortalKeyError(
                f"INCONTRO_PORTAL_SECRET è troppo corto ({len(secret)} caratteri): servono almeno "
                f"{MIN_SECRET_LENGTH} caratteri casuali "
                "(es. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        return secret.encode("utf-8")
    if settings.environment == "production":
        raise PortalKeyError("in produzione impostare INCONTRO_PORTAL_SECRET: il file portal.key è solo per sviluppo")
    return _key_file(str(Path(settings.var_dir) / KEY_FILE))


@lru_cache(maxsize=8)
def _key_file(path_text: str) -> bytes:
    """Read ``var/portal.key``, creating it atomically (O_EXCL) on first use."""
    path = Path(path_text)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    text = ""
    for _ in range(50):  # another process may have created it a moment ago and be writing it
        text = path.read_text(encoding="ascii", errors="replace").strip()
        if text:
            break
        time.sleep(0.02)
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise PortalKeyError(
            f"{path}: chiave del portale illeggibile (attese 64 cifre esadecimali); cancellare il file per "
            "generarne una nuova (i link già inviati smetteranno di funzionare) oppure impostare INCONTRO_PORTAL_SECRET"
        )
    return key


def _subkey(master: bytes, label: str) -> bytes:
    """One key per use, so a form token can never be replayed as a link signature."""
    return hmac.new(master, f"incontro-portal/{label}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(payload: dict[str, Any], subkey: str, key: bytes) -> str:
    """``version.body.mac``: the JSON payload signed with the master key's ``subkey``."""
    signed = f"{VERSION}.{_b64(json.dumps(payload, separators=(',', ':'), sort_keys=True).encode('utf-8'))}"
    mac = hmac.new(_subkey(key, subkey), signed.encode("ascii"), hashlib.sha256).digest()
    return f"{signed}.{_b64(mac)}"


def _signed_payload(token: str, subkey: str, key: bytes | None, invalid: LinkInvalid) -> Any:
    """The decoded payload of a token signed with ``subkey``; ``invalid`` when the token is malformed,
    of another version or its signature does not hold."""
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise invalid
    version, body, mac_text = token.split(".")
    if version != VERSION:
        raise invalid
    try:
        expected = hmac.new(
            _subkey(key or portal_key(), subkey), f"{version}.{body}".encode("ascii"), hashlib.sha256
        ).digest()
    except UnicodeEncodeError:
        raise invalid from None
    # Compare the text, not the decoded bytes: base64 decoders ignore the spare bits of the last
    # character and stray characters, so several spellings decode to one signature. Only the
    # exact spelling we issued is accepted, so no altered link ever opens the form.
    if not hmac.compare_digest(_b64(expected).encode("ascii"), mac_text.encode("ascii", errors="replace")):
        raise invalid
    try:
        return json.loads(_unb64(body))
    except (binascii.Error, ValueError, TypeError):
        raise invalid from None


# ------------------------------------------------------------------------------------ links


def sign_link(
    company_code: str,
    case_code: str,
    vacancy_code: str | None = None,
    *,
    now: float | None = None,
    ttl_days: int | None = None,
    key: bytes | None = None,
    purpose: str = PURPOSE_ANSWER,
) -> str:
    """A token letting ``company_code`` answer about ``case_code`` (× ``vacancy_code``) until expiry
    (another ``purpose``: ``case_code`` is the batch or vacancy code that page shows)."""
    for name, value in (("azienda", company_code), ("pratica", case_code), ("posizione", vacancy_code or "x")):
        if not value or len(value) > _CODE_MAX:
            raise ValueError(f"codice {name} non valido per un link: {value!r}")
    settings = get_settings()
    issued = int(time.time() if now is None else now)
    ttl = (ttl_days or settings.portal_link_ttl_days) * 86400
    payload = {
        "p": purpose,
        "c": company_code,
        "k": case_code,
        "v": vacancy_code,
        "i": issued,
        "e": issued + ttl,
    }
    return _sign(payload, "link", key or portal_key(settings))


def verify_link(token: str, *, now: float | None = None, key: bytes | None = None) -> AnswerLink:
    """The link's content if the signature holds and it has not expired; :class:`LinkError` otherwise."""
    return _decode(token, PURPOSE_ANSWER, now=now, key=key)


def _decode(token: str, purpose: str, *, now: float | None, key: bytes | None) -> AnswerLink:
    """Verify signature, ``purpose`` and expiry: a link of one purpose never opens another page."""
    invalid = LinkInvalid(
        "Il link è incompleto o è stato modificato. Riaprite il link direttamente dall'email ricevuta, "
        "senza modificarlo; se il problema continua, scrivete a Confindustria Bergamo."
    )
    data = _signed_payload(token, "link", key, invalid)
    try:
        link = AnswerLink(
            company_code=_text(data["c"]),
            case_code=_text(data["k"]),
            vacancy_code=None if data.get("v") is None else _text(data["v"]),
            issued_at=int(data["i"]),
            expires_at=int(data["e"]),
            purpose=_text(data["p"]),
        )
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise invalid from None
    if link.purpose != purpose:
        raise invalid
    if (time.time() if now is None else now) >= link.expires_at:
        raise LinkExpired(
            "Il periodo per rispondere con questo link è terminato. Se il profilo vi interessa ancora, "
            "rispondete all'email di Confindustria Bergamo indicando il codice del profilo."
        )
    return link


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > _CODE_MAX:
        raise ValueError("campo non valido")
    return value


def answer_url(
    company_code: str,
    case_code: str,
    vacancy_code: str | None = None,
    *,
    base_url: str | None = None,
    now: float | None = None,
) -> str:
    """The full link put in an email: ``<portal_base_url>/r/<token>``."""
    base = (base_url or get_settings().portal_base_url).rstrip("/")
    return f"{base}/r/{sign_link(company_code, case_code, vacancy_code, now=now)}"


# ---------------------------------------------------------------------- partner page links

PURPOSE_PARTNER = "partner"
PARTNER_LINK_TTL_DAYS = 90


@dataclass(frozen=True)
class PartnerLink:
    """What a verified partner link allows: one referring organisation on its own pages
    (portal/partners: the referral form and the status of its referrals), until expiry."""

    org_code: str
    issued_at: int
    expires_at: int
    purpose: str = PURPOSE_PARTNER


def sign_partner_link(
    org_code: str, *, now: float | None = None, ttl_days: int | None = None, key: bytes | None = None
) -> str:
    """A token opening the partner pages of ``org_code`` until expiry (its own subkey and purpose,
    so it never opens a company's answer form, nor an answer link these pages)."""
    if not org_code or len(org_code) > _CODE_MAX:
        raise ValueError(f"codice ente non valido per un link: {org_code!r}")
    issued = int(time.time() if now is None else now)
    payload = {
        "p": PURPOSE_PARTNER,
        "o": org_code,
        "i": issued,
        "e": issued + (ttl_days or PARTNER_LINK_TTL_DAYS) * 86400,
    }
    return _sign(payload, "partner-link", key or portal_key())


def verify_partner_link(token: str, *, now: float | None = None, key: bytes | None = None) -> PartnerLink:
    """The partner link's content if its signature holds and it has not expired; :class:`LinkError` otherwise."""
    invalid = LinkInvalid(
        "Il link è incompleto o è stato modificato. Riaprite il link direttamente dall'email ricevuta, "
        "senza modificarlo; se il problema continua, chiedete un nuovo link al coordinamento."
    )
    data = _signed_payload(token, "partner-link", key, invalid)
    try:
        link = PartnerLink(
            org_code=_text(data["o"]), issued_at=int(data["i"]), expires_at=int(data["e"]), purpose=_text(data["p"])
        )
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise invalid from None
    if link.purpose != PURPOSE_PARTNER:
        raise invalid
    if (time.time() if now is None else now) >= link.expires_at:
        raise LinkExpired(
            "Il link per le pagine delle segnalazioni è scaduto. Chiedete un nuovo link al coordinamento "
            "del progetto: vi arriverà per email all'indirizzo dell'ente."
        )
    return link


def partner_url(
    org_code: str, *, base_url: str | None = None, now: float | None = None, ttl_days: int | None = None
) -> str:
    """The full link put in the partner's email: ``<portal_base_url>/segnalazioni/accesso/<token>``."""
    base = (base_url or get_settings().portal_base_url).rstrip("/")
    return f"{base}/segnalazioni/accesso/{sign_partner_link(org_code, now=now, ttl_days=ttl_days)}"


def verify_page_link(token: str, purpose: str, *, now: float | None = None, key: bytes | None = None) -> AnswerLink:
    """A page link of ``purpose`` (``company_code``: whose page, ``case_code``: the batch or
    vacancy code); :class:`LinkError` when broken, expired or meant for another page."""
    return _decode(token, purpose, now=now, key=key)


def page_url(
    purpose: str, org_code: str, subject_code: str, *, base_url: str | None = None, now: float | None = None
) -> str:
    """The full link to a page of portal/companies, e.g. ``<portal_base_url>/profili/lotto/<token>``."""
    base = (base_url or get_settings().portal_base_url).rstrip("/")
    return f"{base}{PAGE_PATHS[purpose]}{sign_link(org_code, subject_code, now=now, purpose=purpose)}"


# ------------------------------------------------------------------------- form (CSRF) tokens


def token_digest(token: str) -> str:
    """Short, non-reversible name of a link (rate-limit keys, form binding)."""
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()[:32]


def csrf_token(link_token: str, nonce: str, *, now: float | None = None, key: bytes | None = None) -> str:
    """Hidden form value bound to this link and to the browser's cookie ``nonce``, time-stamped."""
    stamp = int(time.time() if now is None else now)
    message = f"{nonce}|{token_digest(link_token)}|{stamp}".encode()
    return f"{stamp}.{_b64(hmac.new(_subkey(key or portal_key(), 'csrf'), message, hashlib.sha256).digest())}"


def check_csrf(
    link_token: str, nonce: str | None, value: str | None, *, now: float | None = None, key: bytes | None = None
) -> bool:
    """True when ``value`` was issued for this link and cookie within :data:`CSRF_MAX_AGE`."""
    if not nonce or not value or len(value) > 128 or len(nonce) > 128 or value.count(".") != 1:
        return False
    stamp_text, _mac = value.split(".")
    if not stamp_text.isdigit():
        return False
    age = (time.time() if now is None else now) - int(stamp_text)
    if not 0 <= age <= CSRF_MAX_AGE:
        return False
    expected = csrf_token(link_token, nonce, now=int(stamp_text), key=key)
    return hmac.compare_digest(expected.encode("ascii"), value.encode("ascii", errors="replace"))


def new_nonce() -> str:
    return secrets.token_urlsafe(18)
