"""``stage_flow``: the one decorator every Incontro flow is declared with.

Every stage alerts the coordinators when it fails and keeps its (ids and counts only) result.
It also checks its parameters *before* Prefect stores a run. A deployment run is checked by the
server (``enforce_parameter_schema``); but a flow called from Python (the demo, the CLI, a
script) would first be created with the raw parameters and only fail afterwards, so a name or a
tax code passed as a case code would land in Prefect's database. :class:`StageFlow` refuses it
with Prefect's own validation, whose message names the field and the rule, never the value.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, ParamSpec, TypeVar

import pydantic
from prefect import Flow
from prefect._internal.pydantic.validated_func import ValidatedFunction
from prefect.exceptions import ParameterTypeError
from prefect.futures import PrefectFuture
from prefect.utilities.callables import get_call_parameters

from tasks.mail.notify import alert_coordinators
from tasks.runtime.artifacts import publish_transitions

P = ParamSpec("P")
R = TypeVar("R")


class StageFlow(Flow[P, R]):
    """A Prefect flow whose direct calls are validated before any run exists."""

    def __call__(  # type: ignore[override]
        self,
        *args: Any,
        return_state: bool = False,
        wait_for: Iterable[PrefectFuture[Any]] | None = None,
        **kwargs: Any,
    ) -> Any:
        check_parameters(self.fn, args, kwargs)
        run: Callable[..., Any] = super().__call__  # Flow.__call__'s overloads are typed on P
        return run(*args, return_state=return_state, wait_for=wait_for, **kwargs)


def check_parameters(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Raise :class:`ParameterTypeError` (field and rule, no value) when ``fn`` would refuse them.

    The same validator Prefect's engine applies, so what passes here passes there.
    """
    get_call_parameters(fn, args, kwargs)  # wrong names or arity: Prefect's ParameterBindError
    try:
        _validator(fn).validate_call_args(args, kwargs)
    except pydantic.ValidationError as exc:
        raise ParameterTypeError.from_validation_error(exc) from None


@cache
def _validator(fn: Callable[..., Any]) -> ValidatedFunction:
    return ValidatedFunction(fn, config=pydantic.ConfigDict(arbitrary_types_allowed=True))


def stage_flow(name: str) -> Callable[[Callable[P, R]], StageFlow[P, R]]:
    """Declare a stage: ``@stage_flow("dispatch")``.

    When the stage returns, its run's transitions are published as the ``<name>-transitions``
    table artifact, so no stage moves cases without the coordinators seeing which.
    """

    def decorate(fn: Callable[P, R]) -> StageFlow[P, R]:
        publish = publish_transitions

        def run_stage(*args: Any, **kwargs: Any) -> Any:
            result = fn(*args, **kwargs)
            publish(name)
            return result

        # Prefect resolves the stage's (postponed, string) annotations in its function's globals:
        # the wrapper runs in the stage module's namespace, under the stage's name and signature.
        wrapper = types.FunctionType(run_stage.__code__, fn.__globals__, fn.__name__, None, run_stage.__closure__)  # type: ignore[attr-defined]
        functools.update_wrapper(wrapper, fn)
        return StageFlow(fn=wrapper, name=name, on_failure=[alert_coordinators], persist_result=True)

    return decorate
