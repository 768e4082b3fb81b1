"""`make test`'s file order (tests/conftest.py): the long files it starts first still exist, so a
renamed one is not silently sent back to the end of the run."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FIRST_UNDER_XDIST

ROOT = Path(__file__).resolve().parents[2]


def test_the_files_started_first_exist() -> None:
    missing = [path for path in FIRST_UNDER_XDIST if not (ROOT / path).is_file()]
    assert missing == []
