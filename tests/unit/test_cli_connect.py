"""The command line never starts a Prefect server of its own (issue 16, defect 2).

Without ``PREFECT_API_URL`` Prefect's default "ephemeral" profile starts a temporary server
(printing "Starting temporary server", locking SQLite, left running after the command). A new
terminal after ``make serve`` must find that server, or say in Italian how to start it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploy.stack import free_port
from tests.cli import run_cli


def _processes_with(marker: str) -> list[int]:
    """Processes whose environment mentions ``marker`` (a temporary server would carry it)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def test_without_a_server_the_cli_says_how_to_start_it_and_starts_nothing(tmp_path: Path) -> None:
    home = tmp_path / "fresh-prefect-home"  # Prefect's defaults: the "ephemeral" profile is active
    done = run_cli(
        "forms",
        prefect_home=str(home),
        INCONTRO_VAR_DIR=str(tmp_path / "var"),
        INCONTRO_PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "nessun server Prefect risponde" in done.stderr
    assert "make serve" in done.stderr
    assert "Starting temporary server" not in output
    assert "Traceback" not in output
    assert _processes_with(str(home)) == []


def test_the_address_comes_from_prefect_api_url_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.connect import ServerNotFound, connect_prefect

    port = free_port()
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{port}/api/")
    monkeypatch.setenv("INCONTRO_PREFECT_API_URL", "http://127.0.0.1:1/api")
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_ENABLED", "true")  # restored after the test
    with pytest.raises(ServerNotFound, match=f"127.0.0.1:{port}/api:"):
        connect_prefect(timeout=1)
    assert os.environ["PREFECT_SERVER_EPHEMERAL_ENABLED"] == "false"


def test_an_office_that_is_not_a_cpi_code_is_refused_before_anything_runs(
    engine: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tax code typed as the office never reaches Prefect (issue 16, defect 7)."""
    from cli.main import main

    for bad in ("RSSMRA80A01H501U", "CPI-BG\n", "cpi-bg"):
        assert main(["cases", "--office", bad]) == 2
        err = capsys.readouterr().err
        assert "CPI sconosciuto" in err and "CPI-BG" in err
        assert "RSSMRA" not in err
    assert main(["cases", "--office", "CPI-BG"]) == 0
