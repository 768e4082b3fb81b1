"""Partner organisations: the YAML in config/ is the source, the table mirrors it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import Session, col, select

from config.data import load_offices, load_organisations
from models.enums import OrgKind
from models.people import Organisation
from tasks.runtime.db import in_chunks


def sync_organisations(session: Session) -> int:
    """Upsert every partner and CPI office from config/ (idempotent); returns how many."""
    existing = {o.code: o for o in session.exec(select(Organisation)).all()}
    count = 0
    for org in load_organisations():
        row = existing.get(org.code) or Organisation(
            code=org.code, kind=OrgKind(org.kind), name=org.name, email=org.email
        )
        row.kind, row.name, row.email, row.municipality = OrgKind(org.kind), org.name, org.email, org.municipality
        session.add(row)
        count += 1
    for office in load_offices():
        row = existing.get(office.code) or Organisation(
            code=office.code, kind=OrgKind.CPI, name=office.name, email=office.email
        )
        row.name, row.email, row.address = office.name, office.email, office.address
        session.add(row)
        count += 1
    return count


def org_of_kind(session: Session, kind: OrgKind) -> list[Organisation]:
    return list(session.exec(select(Organisation).where(Organisation.kind == kind)).all())  # type: ignore[arg-type]


def the_org(session: Session, kind: OrgKind) -> Organisation:
    """The single partner of a kind (Confindustria, labour service, coordinators)."""
    orgs = org_of_kind(session, kind)
    if not orgs:
        raise LookupError(f"nessuna organisation di tipo {kind.value} in config/organisations.yaml")
    return orgs[0]


def consenting_referrers(session: Session, case_id: int | None) -> list[Organisation]:
    """The partners who referred this case and may be told about it (REFERRER_CONTACT consent)."""
    if case_id is None:
        return []
    return referrers_by_case(session, [case_id]).get(case_id, [])


def referrers_by_case(session: Session, case_ids: Sequence[int]) -> dict[int, list[Organisation]]:
    """For each case, the partners who referred it and may be told about it (REFERRER_CONTACT
    consent of the referred person): three queries per 1,000 cases, whatever the batch size."""
    from models.enums import ConsentPurpose
    from models.people import Referral
    from tasks.core.consent import consenting_persons

    ids = sorted(set(case_ids))
    refs: list[tuple[int, str, str]] = []
    for chunk in in_chunks(ids):
        refs.extend(
            session.exec(
                select(Referral.case_id, Referral.referrer_code, Referral.person_key)
                .where(col(Referral.case_id).in_(chunk))
                .order_by(col(Referral.id))
            ).all()  # type: ignore[arg-type]
        )
    consenting = consenting_persons(session, (key for _, _, key in refs), ConsentPurpose.REFERRER_CONTACT)
    orgs = {code: session.get(Organisation, code) for code in {code for _, code, _ in refs}}
    out: dict[int, list[Organisation]] = defaultdict(list)
    for case_id, code, key in refs:
        org = orgs.get(code)
        if org is not None and key in consenting:
            out[case_id].append(org)
    return dict(out)
