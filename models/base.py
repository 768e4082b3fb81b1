"""Shared column helpers for the tables."""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlalchemy import Enum as SAEnum


def new_token() -> str:
    """A random pseudonymous key (no meaning, not derivable from the person)."""
    return secrets.token_hex(12)


def insert_values(model: type[Any], **values: Any) -> dict[str, Any]:
    """A row for a Core ``insert(model)``: ``values`` plus the model's Python-side defaults.

    Bulk paths insert thousands of rows without building one SQLModel object each (pydantic
    validation and ORM bookkeeping cost more than the INSERT); the defaults and factories the
    model declares (timestamps, tokens, empty lists) still apply.
    """
    row = dict(values)
    for name, info in model.model_fields.items():
        if name in row or name == "id":
            continue
        if info.default_factory is not None:
            row[name] = info.default_factory()  # type: ignore[call-arg]
        elif not info.is_required():
            row[name] = info.default
    return row


def json_column() -> Any:
    """A JSON column (lists of codes, score parts); fresh Column per table."""
    return Column(JSON, nullable=False, default=list)


def enum_column(enum_cls: type[StrEnum], *, nullable: bool = False, index: bool = False) -> Any:
    """A portable VARCHAR enum column storing the *values* (stable strings), not member names."""
    return Column(
        SAEnum(
            enum_cls,
            native_enum=False,
            values_callable=lambda cls: [m.value for m in cls],
            length=max(len(m.value) for m in enum_cls),
            validate_strings=True,
        ),
        nullable=nullable,
        index=index,
    )
