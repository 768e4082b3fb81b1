"""Accounts and sessions of the desk: Argon2 passwords, server-side sessions, CSRF, throttling.

Sessions live in ``desk_session``: the cookie carries a random token, the row its SHA-256 (a
copy of the database opens no session) and the CSRF token every form must send back. A session
ends at logout, after ``desk_idle_minutes`` without a request, or ``desk_session_hours`` after
signing in. Login attempts are counted per account name and per client address: after
``desk_max_failed_logins`` failures within ``desk_throttle_minutes`` further tries are refused
without looking at the password, so guessing stays slow even for a right guess.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from config.settings import get_settings
from models.accounts import DeskSession, DeskUser, LoginAttempt, Role
from models.clock import utcnow

_HASHER = PasswordHash.recommended()
#: Verified against when the account does not exist, so both answers take as long.
_DUMMY_HASH = _HASHER.hash("incontro-desk-no-such-account")
MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """An account cannot be created or changed as asked (the message is Italian, for the operator)."""


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password_strength(password: str) -> None:
    """Refuse short passwords (the only rule: length beats composition rules)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"la password deve avere almeno {MIN_PASSWORD_LENGTH} caratteri")


def normalise_username(username: str) -> str:
    return username.strip().casefold()


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes: they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Throttle:
    """Login refused for ``retry_after`` seconds."""

    retry_after: int


def throttled(session: Session, username: str, client: str, *, now: datetime | None = None) -> Throttle | None:
    """A pause when this account name or this address failed too often in the window."""
    settings = get_settings()
    when = now or utcnow()
    window = timedelta(minutes=settings.desk_throttle_minutes)
    since = when - window
    for column, value in ((LoginAttempt.username, normalise_username(username)), (LoginAttempt.client, client)):
        failures = session.exec(
            select(LoginAttempt.at)
            .where(col(column) == value, col(LoginAttempt.at) >= since, col(LoginAttempt.succeeded).is_(False))
            .order_by(col(LoginAttempt.at))
        ).all()
        if len(failures) >= settings.desk_max_failed_logins:
            oldest_counted = _aware(failures[-settings.desk_max_failed_logins])
            return Throttle(max(1, int((oldest_counted + window - when).total_seconds()) + 1))
    return None


def authenticate(session: Session, username: str, password: str, client: str) -> DeskUser | None:
    """The enabled account ``username`` when ``password`` is right; every try is recorded."""
    name = normalise_username(username)
    user = session.exec(select(DeskUser).where(DeskUser.username == name)).first()
    ok = _HASHER.verify(password, user.password_hash if user else _DUMMY_HASH)
    ok = ok and user is not None and not user.disabled
    session.add(LoginAttempt(username=name[:64], client=client[:64], succeeded=ok))
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < utcnow() - timedelta(days=1)))  # type: ignore[call-overload]
    if ok and user is not None:
        session.exec(  # type: ignore[call-overload]
            delete(LoginAttempt).where(col(LoginAttempt.username) == name, col(LoginAttempt.succeeded).is_(False))
        )
        return user
    return None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: DeskUser) -> tuple[str, DeskSession]:
    """A new session for ``user``: returns the cookie's token and the row."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    row = DeskSession(token_hash=_token_hash(token), user_id=user.id, csrf=secrets.token_urlsafe(24))
    session.add(row)
    return token, row


@dataclass(frozen=True)
class SignedIn:
    """The current request's account and session."""

    user: DeskUser
    desk_session: DeskSession


def resume_session(session: Session, token: str | None, *, now: datetime | None = None) -> SignedIn | str | None:
    """The signed-in account for a cookie token, touching the session; ``"expired"`` when it
    timed out (and is removed), None when there is none or the account is disabled."""
    if not token:
        return None
    row = session.get(DeskSession, _token_hash(token))
    if row is None:
        return None
    settings = get_settings()
    when = now or utcnow()
    idle = when - _aware(row.last_seen_at) > timedelta(minutes=settings.desk_idle_minutes)
    too_old = when - _aware(row.created_at) > timedelta(hours=settings.desk_session_hours)
    user = session.get(DeskUser, row.user_id)
    if idle or too_old or user is None or user.disabled:
        session.delete(row)
        return "expired" if (idle or too_old) else None
    row.last_seen_at = when
    session.add(row)
    return SignedIn(user, row)


def close_session(session: Session, token: str | None) -> None:
    if token:
        row = session.get(DeskSession, _token_hash(token))
        if row is not None:
            session.delete(row)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def login_form_token(nonce: str) -> str:
    """The login form's CSRF token: an HMAC of the pre-session cookie's nonce (no session yet)."""
    key = get_settings().desk_secret_key.get_secret_value().encode()
    return hmac.new(key, f"desk-login:{nonce}".encode(), hashlib.sha256).hexdigest()


def login_token_ok(nonce: str | None, given: str | None) -> bool:
    return bool(nonce) and csrf_ok(login_form_token(nonce or ""), given)


# --- account management (the `incontro users` command) ---------------------------------------


def add_user(
    session: Session, *, username: str, password: str, role: Role, office_code: str | None, full_name: str = ""
) -> DeskUser:
    """A new enabled account; an operator needs her CPI office, the other roles none."""
    name = normalise_username(username)
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise AccountError("nome utente non valido: senza spazi, al massimo 64 caratteri")
    if session.exec(select(DeskUser).where(DeskUser.username == name)).first() is not None:
        raise AccountError(f"l'utente {name} esiste già")
    if role is Role.OPERATOR and not office_code:
        raise AccountError("un operatore deve avere il suo CPI (--office CPI-XX)")
    if role is not Role.OPERATOR and office_code:
        raise AccountError("solo gli operatori hanno un CPI: coordinatori e responsabile privacy vedono tutti i CPI")
    check_password_strength(password)
    user = DeskUser(
        username=name,
        full_name=full_name.strip(),
        role=role,
        office_code=office_code,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, username: str) -> DeskUser:
    user = session.exec(select(DeskUser).where(DeskUser.username == normalise_username(username))).first()
    if user is None:
        raise AccountError(f"utente {normalise_username(username)} inesistente")
    return user


def disable_user(session: Session, username: str) -> DeskUser:
    """Disable the account and end its open sessions at once."""
    user = find_user(session, username)
    user.disabled = True
    session.add(user)
    session.exec(delete(DeskSession).where(col(DeskSession.user_id) == user.id))  # type: ignore[call-overload]
    return user


def reset_password(session: Session, username: str, password: str) -> DeskUser:
    """A new password; every session opened with the old one ends (a disabled account stays disabled)."""
    check_password_strength(password)
    user = find_user(session, username)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    session.add(user)
    session.exec(delete(DeskSession).where(col(DeskSession.user_id) == user.id))  # type: ignore[call-overload]
    return user


def count_users(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(DeskUser)).one())
