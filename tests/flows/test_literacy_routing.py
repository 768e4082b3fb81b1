"""The literacy flow, run by Prefect against a real app database and a real SMTP server: each person
goes to the CPIA site of their area, the request names the CPI office and carries contacts only
where the person consented to the CPIA, and an area no site serves goes to the coordinators."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.cases import Case, Enrollment
from models.enums import Cefr, ConsentPurpose, State
from models.ops import AuditLog
from tasks.mail.smtp_sink import MailSink
from tests.factories import make_case, seed_partners
from tests.invariants import assert_no_dead_ends

CPIA = (ConsentPurpose.CPI_PROCESSING, ConsentPurpose.CPIA_ENROLMENT)


def _text(mail: MailSink, recipient: str) -> str:
    (message,) = [m for m in mail.messages if recipient in m.rcpt_tos]
    body = message.message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_each_person_goes_to_the_site_of_their_area_with_an_actionable_request(engine: Engine, mail: MailSink) -> None:
    from flows.literacy import literacy

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        olena = make_case(
            s,
            state=State.LITERACY,
            office="CPI-ZOG",
            consents=CPIA,
            profile={"italian": Cefr.PRE_A1},
            family_name="Kovalenko",
            given_names="Olena",
            municipality="San Pellegrino Terme",
            phone="+380671234567",
            email="olena.kovalenko@posta.example",
        )
        # Mamadou gave no phone nor e-mail to the Caritas: the CPIA reaches him through the CPI
        mamadou = make_case(
            s,
            state=State.LITERACY,
            office="CPI-CLU",
            consents=CPIA,
            profile={"italian": Cefr.A1},
            family_name="Diallo",
            given_names="Mamadou",
            municipality="Clusone",
            email=None,
        )
        # Oksana is followed by the CPI of Bergamo but lives in Dalmine: the Dalmine site
        oksana = make_case(
            s,
            state=State.LITERACY,
            office="CPI-BG",
            consents=CPIA,
            profile={"italian": Cefr.A1},
            family_name="Shevchenko",
            given_names="Oksana",
            municipality="Dalmine",
            phone="+393471234567",
        )
        # moved in from Milano, no CPI yet: nobody guesses a site
        nomad = make_case(
            s,
            state=State.LITERACY,
            office=None,
            consents=CPIA,
            profile={"italian": Cefr.A1},
            municipality="Milano",
        )
        no_consent = make_case(s, state=State.LITERACY, office="CPI-LOV", municipality="Lovere")

    result = literacy()
    assert result["requested"] == {"CPIA-ZOG": 1, "CPIA-CLU": 1, "CPIA-DAL": 1}
    assert result["choose_cpia"] == 1

    zogno = _text(mail, "segreteria.zogno@cpia-bergamo.example")
    assert olena.code in zogno and "Centro per l'Impiego di Zogno" in zogno and "CPI-ZOG" not in zogno
    assert "Olena Kovalenko" in zogno and "+380 67 123 4567" in zogno and "olena.kovalenko@posta.example" in zogno
    clusone = _text(mail, "segreteria.clusone@cpia-bergamo.example")
    assert mamadou.code in clusone and "Centro per l'Impiego di Clusone" in clusone
    assert "chiedeteli al Centro per l'Impiego indicato" in clusone and "Diallo" not in clusone
    dalmine = _text(mail, "segreteria.dalmine@cpia-bergamo.example")
    assert oksana.code in dalmine and "Centro per l'Impiego di Bergamo" in dalmine and "+39 347 123 4567" in dalmine
    assert not [m for m in mail.messages if "segreteria.bergamo@cpia-bergamo.example" in m.rcpt_tos]
    assert all(no_consent.code not in m.raw.decode("utf-8", "replace") for m in mail.messages)

    with Session(engine) as s:
        steps = {c.code: (c.next_step, c.owner) for c in s.exec(select(Case)).all()}
        released = sorted(
            a.case_code or "" for a in s.exec(select(AuditLog).where(AuditLog.action == "contact_release")).all()
        )
        assert_no_dead_ends(s)
    assert steps[olena.code] == ("literacy_course", "CPIA-ZOG")
    assert steps[oksana.code] == ("literacy_course", "CPIA-DAL")
    assert steps[nomad.code] == ("choose_cpia", "coordinators")
    assert steps[no_consent.code] == ("ask_consent_cpia", "CPI-LOV")
    assert released == sorted([olena.code, oksana.code])  # every contact sent is audited

    # the coordinators choose the Bergamo site for the person from Milano
    mail.reset()
    chosen = literacy(case_codes=[nomad.code], cpia="CPIA-BG")
    assert chosen["requested"] == {"CPIA-BG": 1} and chosen["choose_cpia"] == 0
    assert nomad.code in _text(mail, "segreteria.bergamo@cpia-bergamo.example")
    with Session(engine) as s:
        course = s.exec(select(Enrollment).join(Case, col(Case.id) == col(Enrollment.case_id))).all()
        assert sorted(e.cpia_code for e in course) == ["CPIA-BG", "CPIA-CLU", "CPIA-DAL", "CPIA-ZOG"]
        assert_no_dead_ends(s)
