"""The intake form lists skills and languages by their Italian words (issue 18), run by Prefect
(test harness) against a real SQLite app database: the form the flow asks, as Prefect saves it,
pre-filled in words; an operator's script answering by code (the demo, ``incontro answer``) is
put in those words, the server accepts it and the profile stores the codes."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from flows._params import OfficeCode
from models.cases import Profile
from models.enums import Cefr, State
from tasks.mail.smtp_sink import MailSink
from tests.factories import make_case, seed_partners


def _operator(answer: dict[str, Any], box: dict[str, Any]) -> None:
    """Wait until the run asks, keep the form as Prefect saved it, answer by code (another thread)."""
    from tasks.runtime.prefect_api import answer_form, form_schema, paused_runs

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        runs = paused_runs()
        if runs:
            box["schema"] = form_schema(runs[0].id)
            answer_form(runs[0].id, answer)
            return
        time.sleep(0.3)


def test_the_intake_form_asks_skills_and_languages_in_words_and_stores_their_codes(
    engine: Engine, mail: MailSink
) -> None:
    from flows.intake import intake_form

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        case = make_case(s, state=State.INTAKE_SCHEDULED, office="CPI-TRV", languages=["ucraino", "russo"])
        case.intake_at = datetime(2026, 12, 1, 9, tzinfo=UTC)
        s.add(case)
        s.commit()
    level = {k: "B1" for k in ("listening", "reading", "interaction", "production", "writing")}
    row = {
        "case_code": case.code,
        "present": True,
        **level,
        "occupations": ["7212"],
        "consent_confindustria": True,
        "consent_cpia": True,
        "skills": ["saldatura.tig", "abilitazioni.carrello-elevatore"],  # by code, as scripts answer
        "languages": ["uk", "AR"],
    }
    box: dict[str, Any] = {}
    operator = threading.Thread(target=_operator, args=({"results": [row]}, box))
    operator.start()
    result = intake_form(OfficeCode("CPI-TRV"), up_to=date(2026, 12, 31))
    operator.join(timeout=60)
    assert result["attempts"] == 1 and result["profile_ready"] == 1

    # the form Prefect saved: both lists in words (the UI shows nothing else), pre-filled in words
    schema = box["schema"]
    fields = schema["$defs"]["IntakeResult"]["properties"]
    skills, languages = fields["skills"]["items"], fields["languages"]["items"]
    assert "Saldatura TIG" in skills["enum"] and "saldatura.tig" not in skills["enum"]
    assert "lingua russa" in languages["enum"] and not {"Russo", "ru", "Inglese"} & set(languages["enum"])
    (proposed,) = schema["properties"]["results"]["default"]
    assert proposed["languages"] == ["lingua ucraina", "lingua russa"]  # read in the referral, in words
    assert (fields["skills"]["title"], fields["languages"]["title"]) == (
        "Competenze, patentini e attestati",
        "Lingue parlate oltre all'italiano",
    )

    # the answer by code reached the flow as codes: the profile holds them
    with Session(engine) as s:
        profile = s.exec(select(Profile).where(Profile.case_id == case.id)).one()
    assert profile.italian is Cefr.B1
    assert profile.skills == ["saldatura.tig", "abilitazioni.carrello-elevatore", "lingua.uk", "lingua.ar"]
