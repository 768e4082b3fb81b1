"""``incontro users add|list|disable|reset-password``: accounts made, listed, disabled and reset,
passwords never on the command line nor stored in clear."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cli.main import main
from models.accounts import DeskSession, DeskUser, Role
from portal.desk.security import authenticate, open_session
from tests.cli import run_cli


def _with_password(monkeypatch: pytest.MonkeyPatch, password: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))


def test_accounts_through_the_command(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _with_password(monkeypatch, "Seriate-CPI-sportello-1")
    code = main(["users", "add", "l.ferrari", "--role", "operatore", "--office", "CPI-PSP", "--password-stdin",
                 "--name", "Lucia Ferrari", "--actor", "admin"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "account l.ferrari creato: operatore CPI del CPI-PSP" in capsys.readouterr().out
    with Session(engine) as session:
        user = session.exec(select(DeskUser)).one()
        assert (user.role, user.office_code, user.full_name) == (Role.OPERATOR, "CPI-PSP", "Lucia Ferrari")
        assert user.password_hash.startswith("$argon2") and "Seriate" not in user.password_hash
        open_session(session, user)
        session.commit()

    # an operator needs her office; a short password is refused; a second account with the same name too
    _with_password(monkeypatch, "Seriate-CPI-sportello-1")
    assert main(["users", "add", "p.verdi", "--role", "operator", "--password-stdin"]) == 2
    assert "deve avere il suo CPI" in capsys.readouterr().err
    _with_password(monkeypatch, "corta")
    assert main(["users", "add", "coord.rota", "--role", "coordinator", "--password-stdin"]) == 2
    assert "almeno 12 caratteri" in capsys.readouterr().err
    _with_password(monkeypatch, "Seriate-CPI-sportello-1")
    assert main(["users", "add", "L.Ferrari", "--role", "coordinator", "--password-stdin"]) == 2
    assert "esiste già" in capsys.readouterr().err
    assert main(["users", "add", "x", "--role", "amministratore", "--password-stdin"]) == 2
    assert "ruolo sconosciuto" in capsys.readouterr().err

    listing = run_cli("users", "list", prefect_home=str(tmp_path / "prefect"), INCONTRO_VAR_DIR=str(tmp_path / "var"))
    assert listing.returncode == 0, listing.stderr
    assert "l.ferrari" in listing.stdout and "operatore CPI" in listing.stdout and "attivo" in listing.stdout
    assert "argon2" not in listing.stdout and "operator " not in listing.stdout

    assert main(["users", "disable", "l.ferrari", "--actor", "admin"]) == 0
    with Session(engine) as session:
        assert session.exec(select(DeskUser)).one().disabled
        assert session.exec(select(DeskSession)).all() == []  # signed out at once
        assert authenticate(session, "l.ferrari", "Seriate-CPI-sportello-1", "127.0.0.1") is None
        session.commit()

    _with_password(monkeypatch, "Nuova-password-Seriate-2")
    assert main(["users", "reset-password", "l.ferrari", "--password-stdin", "--actor", "admin"]) == 0
    assert "resta disattivato" in capsys.readouterr().out
    with Session(engine) as session:
        user = session.exec(select(DeskUser)).one()
        user.disabled = False
        session.add(user)
        session.commit()
        assert authenticate(session, "l.ferrari", "Seriate-CPI-sportello-1", "127.0.0.1") is None
        assert authenticate(session, "L.Ferrari", "Nuova-password-Seriate-2", "127.0.0.1") is not None
    assert main(["users", "disable", "nessuno"]) == 2
    assert "inesistente" in capsys.readouterr().err


def test_demo_accounts_are_made_once_and_sign_in(session: Session) -> None:
    from portal.desk.demo import DEMO_PASSWORD, create_demo_accounts

    first = create_demo_accounts(session)
    assert create_demo_accounts(session) == first  # a second demo run keeps them
    assert len(session.exec(select(DeskUser)).all()) == 3
    user = authenticate(session, "operatore.bg", DEMO_PASSWORD, "127.0.0.1")
    assert user is not None and (user.role, user.office_code) == (Role.OPERATOR, "CPI-BG")
    assert any("coordinatore" in line for line in first)
