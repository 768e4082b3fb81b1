"""Demo accounts for the desk (``make demo``): one per role, with a published password.

Only for the throw-away demo database: production accounts are made with ``incontro users add``.
"""

from __future__ import annotations

from sqlmodel import Session, select

from models.accounts import ROLE_LABELS, DeskUser, Role
from portal.desk.security import add_user

DEMO_PASSWORD = "scrivania-demo-2026"  # noqa: S105  (published on purpose: demo database only)
DEMO_ACCOUNTS: tuple[tuple[str, Role, str | None, str], ...] = (
    ("operatore.bg", Role.OPERATOR, "CPI-BG", "Operatrice CPI Bergamo (demo)"),
    ("coordinatore", Role.COORDINATOR, None, "Coordinatore (demo)"),
    ("privacy", Role.PRIVACY_OFFICER, None, "Responsabile protezione dati (demo)"),
)


def create_demo_accounts(session: Session) -> list[str]:
    """Create the demo accounts that do not exist yet; returns one Italian line per account."""
    lines = []
    for username, role, office, name in DEMO_ACCOUNTS:
        if session.exec(select(DeskUser).where(DeskUser.username == username)).first() is None:
            add_user(session, username=username, password=DEMO_PASSWORD, role=role, office_code=office, full_name=name)
        lines.append(f"  {username:<14} {ROLE_LABELS[role]}{f' ({office})' if office else ''}")
    session.commit()
    return lines
