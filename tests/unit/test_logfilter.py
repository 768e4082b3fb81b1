"""The redacting log filter: what it hides, what it keeps readable, and that Prefect loads it."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.settings import PROJECT_ROOT
from tasks.runtime.logfilter import LOGGING_CONFIG_PATH, REDACTED, RedactingFilter, install_redaction, redact

TODAY = date(2026, 5, 4)


@pytest.mark.parametrize(
    "text",
    [
        "scritto a anna.rossi@mail.example ieri",
        "OLENA.K+lavoro@Posta.Example.it",
        "cell +393331234567",
        "cell +39 333 123 4567",
        "cell 333 1234567",
        "cell 333-123-4567",
        "tel 035 123456",
        "tel 0039 035 1234567",
        "ucraino +380 67 123 4567",
        "cf RSSMRA85T10A562S",
        "cf rssmra85t10a562s",
        "cf omocodico RSSMRA85T1LA562V",
        "cf provvisorio 12345678901",
        "nato il 15/06/1995",
        "nata il 1/2/1988",
        "nascita 1995-06-15",
    ],
)
def test_identifiers_are_redacted(text: str) -> None:
    out = redact(text, today=TODAY)
    assert REDACTED in out
    digits = "".join(c for c in out if c.isdigit())
    assert len(digits) < 6, out  # no phone, code or date survives in pieces


@pytest.mark.parametrize(
    "text",
    [
        "pratica BG-2026-000123 passata a dispatched",
        "batch DSP-20260504-01: 12 profili",
        "as_of 2026-05-04, scadenza 04/05/2026",
        "run 3f2b9c1e-8d4a-4b1e-9f0e-2a6c5d7e8f90 completato in 12.5 s",
        "inviate 200 email, fallite 3, ore 12:30:05",
        "import 17 righe, 4 scartate",
        "flusso intake-form per CPI-TRV",
        # run ids whose all-digit groups look like phone numbers (found in a CI run's worker log)
        "Worker 'w2' submitting flow run '07923878-167c-4d6e-8e2e-eebc2f218970'",
        "View at http://127.0.0.1:4200/runs/flow-run/aea5258d-9d05-470c-93fe-078016534132",
        "runs 03879106-82b6-4f9e-9b34-83ebb0090c68, 06180330-997f-49d4-9125-3fceb695a20d.",
    ],
)
def test_operational_text_stays_readable(text: str) -> None:
    assert redact(text, today=TODAY) == text


_local = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=20).filter(
    lambda s: s[0].isalnum() and s[-1].isalnum()
)


@settings(max_examples=200, deadline=None)
@given(local=_local, domain=st.sampled_from(["mail.example", "posta.it", "gmail.com", "pec.comune.bergamo.it"]))
def test_any_email_is_redacted(local: str, domain: str) -> None:
    assert f"{local}@{domain}" not in redact(f"a: {local}@{domain}.", today=TODAY)


@settings(max_examples=200, deadline=None)
@given(prefix=st.sampled_from(["320", "333", "347", "380", "393"]), rest=st.integers(1_000_000, 9_999_999))
def test_any_italian_mobile_is_redacted(prefix: str, rest: int) -> None:
    for form in (f"{prefix}{rest}", f"+39{prefix}{rest}", f"{prefix} {str(rest)[:3]} {str(rest)[3:]}"):
        assert str(rest) not in redact(f"tel {form}", today=TODAY).replace(" ", "")


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31)))
def test_any_birth_date_is_redacted(day: date) -> None:
    for form in (day.isoformat(), day.strftime("%d/%m/%Y")):
        assert redact(f"nato il {form}", today=TODAY) == f"nato il {REDACTED}"


@settings(max_examples=500, deadline=None)
@given(st.uuids())
def test_any_run_id_stays_whole_and_its_neighbours_are_still_redacted(run_id: object) -> None:
    text = f"run {run_id} tel 3331234567 cf RSSMRA85T10A562S; mail {run_id}@mail.example"
    assert redact(text, today=TODAY) == f"run {run_id} tel {REDACTED} cf {REDACTED}; mail {REDACTED}"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("incontro.test.logfilter")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_filter_rewrites_arguments_and_tracebacks(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("contatto %s tel %s per %s", "anna@mail.example", "+393331234567", "BG-2026-000001")
    try:
        raise ValueError("riga con RSSMRA85T10A562S e 3331234567")
    except ValueError:
        logger.exception("import fallito per %s", "BG-2026-000002")
    text = stream.getvalue()
    assert "anna@mail.example" not in text and "3331234567" not in text and "RSSMRA85T10A562S" not in text
    assert "BG-2026-000001" in text and "BG-2026-000002" in text and "ValueError" in text
    assert text.count(REDACTED) >= 4


def test_install_redaction_covers_every_prefect_handler_once() -> None:
    logger = logging.getLogger("prefect.incontro_test")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    try:
        install_redaction()
        install_redaction()
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    finally:
        logger.removeHandler(handler)


def test_prefect_logging_config_puts_the_filter_on_every_handler() -> None:
    from prefect.logging.configuration import load_logging_config

    config = load_logging_config(LOGGING_CONFIG_PATH)
    assert config["filters"]["redact"]["()"] == "tasks.runtime.logfilter.RedactingFilter"
    assert config["handlers"] and all("redact" in h.get("filters", []) for h in config["handlers"].values())


def test_a_prefect_process_with_the_config_redacts_its_console_and_api_logs() -> None:
    """A fresh interpreter with PREFECT_LOGGING_SETTINGS_PATH set: Prefect's own setup installs the filter."""
    script = (
        "import json, logging\n"
        "from prefect.logging.configuration import setup_logging\n"
        "setup_logging()\n"
        "logging.getLogger('prefect.incontro').warning('scrivere a anna@mail.example, cf RSSMRA85T10A562S')\n"
        "api = logging.getLogger('prefect.flow_runs').handlers\n"
        "print(json.dumps([type(f).__name__ for h in api for f in h.filters]))\n"
    )
    env = {**os.environ, "PREFECT_LOGGING_SETTINGS_PATH": str(LOGGING_CONFIG_PATH), "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["RedactingFilter"]
    assert "anna@mail.example" not in done.stderr and "RSSMRA85T10A562S" not in done.stderr
    assert REDACTED in done.stderr
