"""Where the desk finds the operators' forms: suspended Prefect runs (codes only).

:class:`PrefectForms` reads them from the Prefect server the process points at (the same forms
the Prefect UI shows) and answers through ``tasks.runtime.prefect_api.answer_form``, exactly
once. The interface lets the desk's own tests give a fixed list without a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class PendingForm:
    """A form waiting for an answer: which run, which kind, which office, which cases."""

    run_id: str
    form: str
    office: str | None
    since: str
    case_codes: list[str] = field(default_factory=list)


@dataclass
class FormSchema:
    """The form's list field, its row schema (JSON Schema) and the pre-filled rows."""

    field: str
    title: str
    row_schema: dict[str, Any]
    defs: dict[str, Any]
    rows: list[dict[str, Any]]
    description: str = ""


class FormSource(Protocol):
    def pending(self) -> list[PendingForm]: ...

    def schema(self, run_id: str) -> FormSchema: ...

    def answer(self, run_id: str, answer: dict[str, Any]) -> None: ...


class FormsUnavailable(RuntimeError):
    """The Prefect server does not answer (the page says so instead of failing)."""


class PrefectForms:
    """The suspended runs of the Prefect server (``PREFECT_API_URL``)."""

    def pending(self) -> list[PendingForm]:
        from prefect.settings import PREFECT_API_URL

        from tasks.maintenance import list_pending_forms

        if not PREFECT_API_URL.value():  # never start a temporary Prefect server inside the web process
            raise FormsUnavailable("PREFECT_API_URL")
        try:
            forms = list_pending_forms.fn()
        except Exception as exc:  # the server is down or unreachable: say so on the page
            raise FormsUnavailable(type(exc).__name__) from None
        return [
            PendingForm(str(f["run_id"]), str(f["form"]), f.get("office"), str(f["since"]), list(f["case_codes"]))
            for f in forms
        ]

    def schema(self, run_id: str) -> FormSchema:
        from tasks.runtime.prefect_api import form_schema

        return parse_schema(form_schema(run_id, 10))

    def answer(self, run_id: str, answer: dict[str, Any]) -> None:
        from tasks.runtime.prefect_api import answer_form

        answer_form(run_id, answer)


def parse_schema(schema: dict[str, Any]) -> FormSchema:
    """The first list field of a RunInput schema, with its row schema and default rows."""
    props: dict[str, Any] = schema["properties"]
    defs: dict[str, Any] = schema.get("$defs", {}) or schema.get("definitions", {})
    name = next(k for k, v in props.items() if isinstance(v.get("default"), list))
    prop = props[name]
    ref = (prop.get("items") or {}).get("$ref", "")
    row_schema = defs.get(ref.rsplit("/", 1)[-1], prop.get("items") or {})
    desc = props.get("description", {}).get("default", "") if isinstance(props.get("description"), dict) else ""
    return FormSchema(
        field=name,
        title=str(prop.get("title") or schema.get("title") or "Modulo"),
        row_schema=row_schema,
        defs=defs,
        rows=list(prop["default"]),
        description=str(desc or ""),
    )
