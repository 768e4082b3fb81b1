"""Migration 0006: referral imports stuck after their ingest step (never acknowledged) become
resumable; every other import already recorded is finished as it stands."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text
from sqlmodel import Session, col, select

from models.ops import ImportFile
from tasks.files.imports import unfinished_imports
from tasks.runtime.db import alembic_config, make_engine


def test_migration_0006_resumes_only_the_referral_imports_stuck_after_ingest(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'upgrade.db'}"
    command.upgrade(alembic_config(url), "0005")
    engine = make_engine(url)
    rows = [
        ("a" * 64, "referral", "ingested"),  # killed after the ingest step: 2,910 cases stuck
        ("b" * 64, "referral", "acknowledged"),
        ("c" * 64, "vacancy", "ingested"),
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organisation (code, kind, name, email, language) "
                "VALUES ('CARITAS-BG', 'caritas', 'C', 'c@x.it', 'it')"
            )
        )
        for sha, kind, status in rows:
            conn.execute(
                text(
                    "INSERT INTO import_file (sha256, kind, sender_code, filename, received_at, rows_total, "
                    "rows_accepted, rows_rejected, status) VALUES (:sha, :kind, 'CARITAS-BG', 'f.csv', "
                    "'2026-11-30 10:00:00', 1, 1, 0, :status)"
                ),
                {"sha": sha, "kind": kind, "status": status},
            )
    command.upgrade(alembic_config(url), "head")
    with Session(engine) as session:
        imports = session.exec(select(ImportFile).order_by(col(ImportFile.id))).all()
        assert [i.completed_steps for i in imports] == [["ingest"], [], []]
        assert [i.finished_at is None for i in imports] == [True, False, False]
        assert all(i.pending_events == [] for i in imports)
        assert unfinished_imports(session) == [(imports[0].id, "referral")]
    engine.dispose()
