"""The cockpit end to end on a real Prefect server with every deployment served:
a referral file chains to intake scheduling by trigger; the intake form suspends, refuses an
invalid answer (asked again) and routes the cases when answered properly."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from deploy.client import resume, run, start, wait_done, wait_paused, wait_until
from deploy.stack import Stack, descendants
from models import clock
from models.cases import Case
from models.enums import State
from tasks.mail.smtp_sink import MailSink
from tasks.runtime.db import get_engine
from tasks.runtime.prefect_api import FormRefused, form_inputs

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HEADER = (
    "Cognome;Nome;Data di nascita;Sesso;Luogo di nascita;Cittadinanza;Codice fiscale;Cellulare;E-mail;"
    "Comune di residenza;Lingue parlate;Titolo di studio;Esperienze;Patente;Livello italiano;"
    "Consenso privacy;Consenso Confindustria"
)
ROWS = [
    "Melnyk;Andrii;02/02/1988;M;Ucraina;Ucraina;;+380 50 111 2233;;Treviglio;ucraino;diploma;saldatore;B;A1;SI;SI",
    "Traoré;Aminata;15/06/1995;F;Mali;Mali;;3331234567;;Treviglio;francese;licenza media;addetta pulizie;nessuna;"
    "A2;SI;SI",
    "Quispe Mamani;José Luis;03/03/1983;M;Perù;Perù;;3471234567;;Caravaggio;spagnolo;diploma;magazziniere;B;B1;SI;SI",
]


def _codes(state: State) -> list[str]:
    with Session(get_engine()) as s:
        return list(s.exec(select(Case.code).where(Case.state == state).order_by(col(Case.code))).all())


def test_referral_triggers_intake_then_the_form_routes_cases(live_env: tuple[Stack, MailSink, Path]) -> None:
    _stack, sink, var = live_env
    path = var / "inbox" / "treviglio.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("cp1252"))

    imported_at = time.monotonic()
    result = run("referral/referral", {"file_path": str(path), "referrer_code": "CARITAS-TRV"})
    assert result["accepted"] == 3
    # nobody calls intake: the incontro.referral.accepted event triggers it
    wait_until(lambda: len(_codes(State.INTAKE_SCHEDULED)) == 3, "intake scheduled via trigger", timeout=120)
    latency = time.monotonic() - imported_at
    assert _codes(State.ACCEPTED) == []
    # the triggered run drains the outbox after moving the cases: wait for its emails
    wait_until(lambda: "intake_appointment_referrer" in {m.kind for m in sink.messages}, "appointment emails", 60)
    assert {m.kind for m in sink.messages} >= {"referral_ack", "intake_appointment_referrer"}

    run_id = start(
        "intake-form/intake-form", {"office": "CPI-TRV", "up_to": (clock.today() + timedelta(days=60)).isoformat()}
    )
    wait_paused(run_id)
    rows = form_inputs(run_id)
    assert sorted(r["case_code"] for r in rows) == _codes(State.INTAKE_SCHEDULED)
    levels = {k: "A1" for k in ("listening", "reading", "interaction", "production", "writing")}
    good = [
        {**r, **levels, "present": True, "occupations": r["occupations"] or ["9329"], "consent_confindustria": True}
        for r in rows
    ]
    good[0] = {**good[0], **{k: "B1" for k in levels}}
    bad = [dict(g) for g in good]
    bad[0]["occupations"] = ["0000"]  # valid shape, unknown to the taxonomy: refused by the flow
    resume(run_id, {"results": bad})
    wait_paused(run_id)  # asked again, with the error in the description
    with pytest.raises(FormRefused):
        resume(run_id, {"results": [{"case_code": "not-a-code"}]})  # refused by the server's schema
    resume(run_id, {"results": good})
    wait_done(run_id)
    assert len(_codes(State.LITERACY)) == 2 and len(_codes(State.PROFILE_READY)) == 1
    print(f"\nfile imported → intake scheduled via trigger: {latency:.1f} s")

    # A name typed into a code field of a deployment form is refused before the run is stored.
    from prefect import get_client

    with pytest.raises(Exception) as refused:
        start("dispatch/dispatch", {"case_codes": ["Andrii Melnyk"]})
    assert "409" in str(refused.value) or "pattern" in str(refused.value), refused.value
    with get_client(sync_client=True) as client:
        stored = [r.parameters for r in client.read_flow_runs()]
    assert stored and "Melnyk" not in str(stored)


def test_served_runs_fork_from_the_warm_server(live_env: tuple[Stack, MailSink, Path]) -> None:
    """deploy/forkserver.py: the serve process keeps a fork server that has imported Prefect and the
    stages, and its runs do not load their code cold (``python -m prefect.engine`` logs that it
    downloads the flow code from storage: that path must not be taken)."""
    stack, _, var = live_env
    run("reports/reports", {})
    serve = next(p for p in stack.processes if p.args[-1] == "deploy.serve")
    children = [_cmdline(pid) for pid in descendants(serve.pid)]
    forkserver = [c for c in children if "multiprocessing.forkserver" in c]
    assert forkserver and "flows.intake" in forkserver[0], children
    assert "Downloading flow code" not in (var / "logs" / "serve.log").read_text(encoding="utf-8", errors="replace")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:  # ended meanwhile
        return ""
