"""``incontro users add|list|disable|reset-password``: the desk's accounts (docs/DESK.md).

Passwords are never typed on the command line (shell history, process list): they are asked
twice without echo, or read from standard input with ``--password-stdin`` (scripts, the demo).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from cli.main import CliError, _office, actor_name, out

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.accounts import DeskUser


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Nuova password (almeno 12 caratteri): ")
    if getpass.getpass("Ripetere la password: ") != first:
        raise CliError("le due password non coincidono")
    return first


def _role(value: str) -> object:
    from models.accounts import ROLE_LABELS, Role

    words = {
        "operatore": Role.OPERATOR,
        "coordinatore": Role.COORDINATOR,
        "privacy": Role.PRIVACY_OFFICER,
        "dpo": Role.PRIVACY_OFFICER,
    }
    try:
        return words.get(value.strip().lower()) or Role(value.strip().lower())
    except ValueError:
        names = "; ".join(f"{r.value} ({label})" for r, label in ROLE_LABELS.items())
        raise CliError(f"ruolo sconosciuto «{value}»; ruoli: {names}") from None


def _change_account(
    args: argparse.Namespace, change: Callable[[Session], DeskUser], *, purpose: str, action: str
) -> DeskUser:
    """Apply ``change`` and record who made it in the audit log, in one transaction; ``purpose``
    names the account with ``{}``. An account error is the command's Italian message."""
    from sqlmodel import Session

    from portal.desk.security import AccountError
    from tasks.core.audit import audit_read
    from tasks.runtime.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            user = change(session)
        except AccountError as exc:
            raise CliError(str(exc)) from None
        audit_read(
            session, actor=actor_name(args.actor), case_code=None, purpose=purpose.format(user.username), action=action
        )
        session.commit()
    return user


def cmd_add(args: argparse.Namespace) -> int:
    """Create an account: an operator belongs to one CPI, coordinators and privacy to none."""
    from models.accounts import ROLE_LABELS, Role
    from portal.desk.security import add_user

    role = _role(args.role)
    assert isinstance(role, Role)
    office = _office(args.office) if args.office else None
    password = _password(args)
    user = _change_account(
        args,
        lambda session: add_user(
            session, username=args.username, password=password, role=role, office_code=office, full_name=args.name
        ),
        purpose="account {} creato",
        action="account_added",
    )
    out(f"account {user.username} creato: {ROLE_LABELS[role]}{f' del {office}' if office else ''}.")
    return 0


def cmd_list(_args: argparse.Namespace) -> int:
    """Every account with its role, office and whether it is active (never a password hash)."""
    from sqlmodel import Session, col, select

    from models.accounts import ROLE_LABELS, DeskUser
    from tasks.runtime.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as session:
        users = session.exec(select(DeskUser).order_by(col(DeskUser.username))).all()
    out(f"{'utente':<24} {'ruolo':<40} {'CPI':<8} stato")
    for u in users:
        state = "disattivato" if u.disabled else "attivo"
        out(f"{u.username:<24} {ROLE_LABELS[u.role]:<40} {u.office_code or '—':<8} {state}")
    out(f"({len(users)} account)")
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    """Disable an account; its open sessions end at once."""
    from portal.desk.security import disable_user

    user = _change_account(
        args,
        lambda session: disable_user(session, args.username),
        purpose="account {} disattivato",
        action="account_disabled",
    )
    out(f"account {user.username} disattivato: le sue sessioni aperte sono chiuse.")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    """Set a new password; the sessions opened with the old one end."""
    from portal.desk.security import reset_password

    password = _password(args)
    user = _change_account(
        args,
        lambda session: reset_password(session, args.username, password),
        purpose="password dell'account {} reimpostata",
        action="password_reset",
    )
    note = " (l'account resta disattivato)" if user.disabled else ""
    out(f"password di {user.username} reimpostata{note}.")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("users", help="account della scrivania / desk accounts")
    users = p.add_subparsers(dest="users_command", required=True)
    a = users.add_parser("add", help="crea un account")
    a.add_argument("username", help="nome utente, es. m.rossi")
    a.add_argument("--role", required=True, help="operator (operatore CPI), coordinator, privacy_officer")
    a.add_argument("--office", help="CPI dell'operatore, es. CPI-BG")
    a.add_argument("--name", default="", help="nome e cognome mostrati nella scrivania")
    a.add_argument("--password-stdin", action="store_true", help="legge la password dallo standard input")
    a.add_argument("--actor", help="chi crea l'account (per il registro)")
    a.set_defaults(fn=cmd_add)
    a = users.add_parser("list", help="elenca gli account")
    a.set_defaults(fn=cmd_list)
    a = users.add_parser("disable", help="disattiva un account")
    a.add_argument("username")
    a.add_argument("--actor", help="chi disattiva (per il registro)")
    a.set_defaults(fn=cmd_disable)
    a = users.add_parser("reset-password", help="reimposta la password")
    a.add_argument("username")
    a.add_argument("--password-stdin", action="store_true", help="legge la password dallo standard input")
    a.add_argument("--actor", help="chi reimposta (per il registro)")
    a.set_defaults(fn=cmd_reset)
