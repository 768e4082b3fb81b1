"""tasks/runtime/progress.py: the throttle (pure) and the artifact calls, with Prefect's API replaced."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from config.settings import get_settings
from tasks.runtime import progress as progress_module
from tasks.runtime.progress import Progress, Throttle, progress_key


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_throttle_publishes_every_five_points_when_fast() -> None:
    throttle = Throttle(1000, clock=Clock())
    published = [p for done in range(1, 1001) if (p := throttle.due(done)) is not None]
    assert published == [5.0 * k for k in range(1, 21)]
    assert throttle.due(1000) is None  # 100 once


def test_throttle_publishes_small_steps_after_two_seconds() -> None:
    clock = Clock()
    throttle = Throttle(1000, clock=clock)
    assert throttle.due(1) is None  # 0.1 %, no time passed
    clock.now = 1.9
    assert throttle.due(2) is None
    clock.now = 2.0
    assert throttle.due(3) == 0.3
    clock.now = 3.0
    assert throttle.due(4) is None  # one second since the last update
    clock.now = 9.0
    assert throttle.due(4) == 0.4
    assert throttle.due(4) is None  # nothing new, however long it took


def test_throttle_bounds() -> None:
    throttle = Throttle(10, clock=Clock())
    assert throttle.percent(-1) == 0.0 and throttle.percent(20) == 100.0
    assert throttle.due(0) is None
    assert throttle.due(12) == 100.0 and throttle.due(13) is None
    assert Throttle(0).percent(0) == 100.0


def test_progress_key_is_a_valid_artifact_key() -> None:
    assert progress_key("matching") == "matching-progress"
    assert progress_key("Policy routing/2026") == "policy-routing-2026-progress"
    assert progress_key("__") == "batch-progress"


class FakeArtifacts:
    """Stands in for prefect.artifacts: records what would reach the server."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, fail: bool = False) -> None:
        import prefect.artifacts

        self.created: list[dict[str, Any]] = []
        self.updates: list[tuple[float, str | None]] = []
        self.fail = fail
        self.id = uuid4()
        monkeypatch.setattr(prefect.artifacts, "create_progress_artifact", self.create)
        monkeypatch.setattr(prefect.artifacts, "update_progress_artifact", self.update)

    def create(self, progress: float, key: str | None = None, description: str | None = None, **_: Any) -> Any:
        if self.fail:
            raise RuntimeError("server unavailable")
        self.created.append({"progress": progress, "key": key, "description": description})
        return self.id

    def update(self, artifact_id: Any, progress: float, description: str | None = None, **_: Any) -> Any:
        assert artifact_id == self.id
        self.updates.append((progress, description))
        return artifact_id


@pytest.fixture
def in_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "_in_run", lambda: True)


def test_outside_a_run_it_only_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeArtifacts(monkeypatch)
    with Progress("matching", 500) as progress:
        for _ in progress.track(range(500)):
            pass
    assert progress.done == 500 and not progress.active
    assert fake.created == [] and fake.updates == []


@pytest.mark.usefixtures("in_run")
def test_a_big_batch_creates_one_artifact_and_ends_at_100(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeArtifacts(monkeypatch)
    with Progress("matching", 2000, "Posizioni confrontate", throttle=Throttle(2000, clock=Clock())) as progress:
        for _ in progress.track(range(2000)):
            pass
    assert fake.created == [
        {"progress": 0.0, "key": "matching-progress", "description": "Posizioni confrontate: 0 di 2.000"}
    ]
    assert [p for p, _ in fake.updates] == [5.0 * k for k in range(1, 21)]
    assert fake.updates[-1] == (100.0, "Posizioni confrontate: 2.000 di 2.000")


@pytest.mark.usefixtures("in_run")
def test_finish_reaches_100_when_items_were_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeArtifacts(monkeypatch)
    progress = Progress("retention", 300)
    progress.advance(10)
    progress.finish()
    progress.finish()
    assert fake.updates == [(100.0, "Elementi elaborati: 300 di 300")]


@pytest.mark.usefixtures("in_run")
def test_an_error_leaves_the_bar_where_it_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeArtifacts(monkeypatch)
    with pytest.raises(ValueError), Progress("policy", 400) as progress:
        progress.advance(100)
        raise ValueError("boom")
    assert [p for p, _ in fake.updates] == [25.0]


@pytest.mark.usefixtures("in_run")
def test_threshold_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeArtifacts(monkeypatch)
    Progress("dedup", 199).finish()
    assert fake.created == []
    monkeypatch.setenv("INCONTRO_PROGRESS_MIN_ITEMS", "10")
    get_settings.cache_clear()
    Progress("dedup", 10).finish()
    assert len(fake.created) == 1 and fake.updates[-1][0] == 100.0


@pytest.mark.usefixtures("in_run")
def test_an_unavailable_server_never_fails_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeArtifacts(monkeypatch, fail=True)
    with Progress("dedup", 1000) as progress:
        for _ in progress.track(range(1000)):
            pass
    assert not progress.active and progress.done == 1000 and fake.updates == []
