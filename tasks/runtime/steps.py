"""Glue between plain step functions and Prefect: sessions, retries, run ids, artifacts.

A step is a plain function ``fn(session, ...)``; :func:`db_step` turns it into a Prefect task
that opens a session, commits on success, retries transient database errors, and never lets a
database error message (which may quote row values) reach Prefect.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from models.state_machine import ConcurrentTransition
from tasks.runtime.db import session_scope
from tasks.runtime.events import EventSpec

P = ParamSpec("P")
R = TypeVar("R")


class StepFailed(RuntimeError):
    """A database step failed; the message names the step and error type only (no row values)."""


def current_flow_run_id() -> str | None:
    ctx = FlowRunContext.get()
    return str(ctx.flow_run.id) if ctx and ctx.flow_run else None


def _transient(_task: Any, _run: Any, state: Any) -> bool:
    """Retry only what can heal by itself: a locked or dropped database connection, or a lost
    race on a case (steps are idempotent, so the rerun skips what already moved)."""
    try:
        state.result()
    except StepFailed as exc:
        return "OperationalError" in str(exc) or "ConcurrentTransition" in str(exc)
    except Exception:
        return False
    return False


def db_step(fn: Callable[..., R], *, retries: int = 2, name: str | None = None) -> Task[..., R]:
    """Wrap ``fn(session, *args, **kwargs)`` as a Prefect task with its own transaction."""
    wants_run_id = "flow_run_id" in inspect.signature(fn).parameters

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> R:
        if wants_run_id:
            kwargs.setdefault("flow_run_id", current_flow_run_id())
        chaos_point(fn.__name__, "before")
        try:
            with session_scope() as session:
                result = fn(session, *args, **kwargs)
            chaos_point(fn.__name__, "after")  # committed, its events emitted
            return result
        except ConcurrentTransition:
            raise StepFailed(f"{fn.__name__}: ConcurrentTransition") from None
        except (DBAPIError, SQLAlchemyError) as exc:
            private_log().exception("step %s failed", fn.__name__)
            # SQL errors quote parameters (names, phones...): keep them out of Prefect's logs.
            raise StepFailed(
                f"{fn.__name__}: {type(exc).__name__} ({type(getattr(exc, 'orig', exc)).__name__})"
            ) from None
        except Exception:
            private_log().exception("step %s failed", fn.__name__)
            raise

    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [p for p in inspect.signature(fn).parameters.values() if p.name not in ("session", "flow_run_id")]
    )
    return task(  # type: ignore[call-overload,no-any-return]
        run,
        name=name or fn.__name__,
        retries=retries,
        retry_delay_seconds=[1, 4, 10],
        retry_condition_fn=_transient,
        cache_policy=NO_CACHE,
        persist_result=False,
    )  # type: ignore[arg-type]


#: Test-only crash switch (tests/flows/test_chaos.py), deliberately not a setting: production never
#: sets it. ``<stage>:<step>[:before|:after]`` SIGKILLs the process at that step boundary.
CHAOS_KILL_AT = "INCONTRO_CHAOS_KILL_AT"


def chaos_point(step: str, when: str = "after") -> None:
    """Kill this process now when :data:`CHAOS_KILL_AT` names this boundary of the running stage
    (``after`` = the step's transaction committed); inert when the variable is unset."""
    target = os.environ.get(CHAOS_KILL_AT)
    if not target:
        return
    stage, _, rest = target.partition(":")
    name, _, moment = rest.partition(":")
    ctx = FlowRunContext.get()
    if ctx is not None and ctx.flow is not None and (stage, name, moment or "after") == (ctx.flow.name, step, when):
        os.kill(os.getpid(), signal.SIGKILL)


class EventsNotConfirmed(RuntimeError):
    """Prefect did not take the events in time: the step is not recorded, so it runs again."""


def emit_confirmed(specs: Sequence[EventSpec], *, timeout: float = 10.0) -> int:
    """Emit ``specs`` and wait until Prefect's events client has sent them (bounded), so a step
    that records "announced" never records it for events still in this process's memory.

    When Prefect emits no events at all (its settings say so) nothing is sent, as for every
    event. Returns how many were sent; raises :class:`EventsNotConfirmed` when they were not.
    """
    from prefect.events import emit_event
    from prefect.events.worker import EventsWorker, should_emit_events

    if not specs or not should_emit_events():
        return 0
    for spec in specs:
        sent = emit_event(
            event=spec.name, resource={"prefect.resource.id": spec.resource_id, **spec.labels}, payload=spec.payload
        )
        if sent is None:
            raise EventsNotConfirmed(f"evento {spec.name} non accettato dal client Prefect")
    waiter = threading.Thread(target=EventsWorker.instance().wait_until_empty, daemon=True)
    waiter.start()
    waiter.join(timeout)
    if waiter.is_alive():
        raise EventsNotConfirmed(f"eventi non confermati da Prefect entro {timeout:.0f} s")
    return len(specs)


def ask_operator(form: type[Any], *, key: str, description: str, initial: dict[str, Any]) -> Any:
    """Wait for an operator's form (docs/ARCHITECTURE.md#chaining).

    In a deployment the run is *suspended* (the process exits; resuming re-runs the flow from
    the top, and the same ``key`` returns the stored answer). Outside a deployment (tests, ad-hoc
    runs) it *pauses* in process and polls every second.
    """
    from prefect.flow_runs import pause_flow_run, suspend_flow_run

    run_input = form.with_initial_data(description=description, **initial)
    ctx = FlowRunContext.get()
    if ctx and ctx.flow_run and ctx.flow_run.deployment_id:
        return suspend_flow_run(wait_for_input=run_input, key=key)
    return pause_flow_run(wait_for_input=run_input, key=key, poll_interval=1, timeout=3600)


INVALID_FORM = "**Modulo non valido, correggere e inviare di nuovo:**"


def ask_until_valid(
    form: type[Any],
    *,
    key: str,
    description: str,
    field: str,
    initial: Sequence[Any],
    check: Callable[[list[dict[str, Any]]], list[str]],
) -> tuple[list[dict[str, Any]], int]:
    """Ask the operator for the rows of ``field``, check them, and ask again until ``check``
    finds no problem: the new form lists the problems and is pre-filled with the answer given.

    Returns the valid rows (JSON-ready) and how many times the form was asked. Each attempt has
    its own key, so a resumed (re-run) flow replays the stored answers in the same order.
    """
    rows: Sequence[Any] = initial
    attempt = 0
    while True:
        answer = ask_operator(form, key=f"{key}-{attempt}", description=description, initial={field: rows})
        rows = [r.model_dump(mode="json") for r in getattr(answer, field)]
        problems = check(rows)
        if not problems:
            return rows, attempt + 1
        attempt += 1
        description = INVALID_FORM + "\n\n" + "\n".join(f"- {p}" for p in problems)


def private_log() -> logging.Logger:
    """The application's own log (var/logs/app.log), never shipped to Prefect: it may hold
    database error details that quote personal data, like the database itself."""
    logger = logging.getLogger("incontro.private")
    if not logger.handlers:
        from config.settings import get_settings

        path = get_settings().var_dir / "logs" / "app.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    return logger
