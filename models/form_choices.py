"""Closed choices in operator forms: listed by their Italian words, stored by their codes.

The Prefect UI draws a form from the JSON schema Prefect saves for the suspended run, and shows a
choice list's ``enum`` values as they are (there is no separate label); the server checks every
answer against that schema. So the schema lists the words, validation takes the words or the code
and keeps the code (what the flows, the database and the operators' scripts use), and
:func:`answer_in_words` lets a script answer by code (tasks/runtime/prefect_api.py: answer_form).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Self, get_args, get_origin

from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.fields import FieldInfo
from pydantic_core import core_schema

from models.labels import LABELS

#: The schema keyword listing a choice's codes, in the order of its words (``enum``): the Prefect
#: UI and the desk ignore it; :func:`answer_in_words` reads it to accept an answer given by code.
CODES = "x-codes"


def _fold(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text).strip().casefold()


@dataclass(frozen=True)
class Choices:
    """A closed list shown by its Italian words and stored by its code.

    The Prefect UI draws a JSON-schema ``enum`` as a drop-down of the values themselves (there is
    no separate label), and the server checks every answer against that schema: so the schema
    lists the words, while validation takes the words or the code and keeps the code, which is
    what the flows, the database and the operators' scripts use."""

    pairs: tuple[tuple[str, str], ...]  # (code, words), in the order of the drop-down

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for code, words in self.pairs:
            for key in {_fold(code), _fold(words)}:
                if seen.setdefault(key, code) != code:
                    raise ValueError(f"«{key}» indica due scelte: {seen[key]} e {code}")

    @classmethod
    def of(cls, enum: type[StrEnum], words: Mapping[str, str] | None = None) -> Choices:
        """The members of ``enum`` in their words (models/labels.py unless given)."""
        table = words if words is not None else LABELS[enum]
        return cls(tuple((m.value, table[m.value]) for m in enum))

    def code_of(self, value: object) -> object:
        """The code for its words or for itself (any case, spaces or underscores); anything else
        is refused in Italian, with the words to choose from."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # an ISCED level typed as a number
        if isinstance(value, str):
            for code, words in self.pairs:
                if _fold(value) in (_fold(code), _fold(words)):
                    return code
        raise ValueError(f"scelta non valida: {value!r}; scegliere tra: " + ", ".join(w for _, w in self.pairs))

    def words_of(self, value: object) -> object:
        """The words for a code (or an enum member); anything else as it is."""
        code = value.value if isinstance(value, StrEnum) else value
        return next((w for c, w in self.pairs if c == code), value)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self.code_of, handler(source))

    def __get_pydantic_json_schema__(self, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler) -> Any:
        return {"type": "string", "enum": [w for _, w in self.pairs], CODES: [c for c, _ in self.pairs]}


def _choices(field: FieldInfo | None) -> Choices | None:
    """A field's choice list, or its items' (a list of choices)."""
    if field is None:
        return None
    items = [getattr(a, "__metadata__", ()) for a in get_args(field.annotation)]
    return next((m for m in (*field.metadata, *(m for ms in items for m in ms)) if isinstance(m, Choices)), None)


#: The tabs the Prefect UI draws for a field that may be left empty (``X | None``): by default
#: they are named after the types ("str", "None").
FILLED, EMPTY = "da indicare", "vuoto"


def _form_schema(schema: dict[str, Any]) -> None:
    """A choice's default in its words, like its drop-down (pydantic writes the code), and the
    two tabs of a field that may be left empty named in Italian."""
    for prop in schema.get("properties", {}).values():
        codes = prop.get(CODES)
        if codes and prop.get("default") in codes:
            prop["default"] = prop["enum"][codes.index(prop["default"])]
        for branch in prop.get("anyOf", []):
            branch.setdefault("title", EMPTY if branch.get("type") == "null" else FILLED)


class FormRow(BaseModel):
    """One row of an operator form: its choices' defaults shown in words in the schema."""

    model_config = ConfigDict(json_schema_extra=_form_schema)

    @classmethod
    def in_words(cls, row: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
        """A pre-filled row as the form shows it: every choice in its words, the rest as given."""
        data = row.model_dump(mode="json") if isinstance(row, BaseModel) else dict(row)
        for name, value in data.items():
            choices = _choices(cls.model_fields.get(name))
            if choices is not None:
                data[name] = (
                    [choices.words_of(v) for v in value] if isinstance(value, list) else choices.words_of(value)
                )
        return data


def _prefilled(annotation: Any, value: Any) -> Any:
    """Pre-filled rows of a list-of-rows field in words; other values as given."""
    (row,) = get_args(annotation) or (None,)
    if isinstance(row, type) and issubclass(row, FormRow) and isinstance(value, list | tuple):
        return [row.in_words(r) for r in value]
    return value


class ItalianForm(RunInput):
    """A Prefect form whose pre-filled copy keeps its Italian titles and shows its choices in words.

    ``RunInput.with_initial_data`` rebuilds each field from its annotation alone, so the copy the
    UI draws lost the field's title ("Results") and showed the pre-filled codes ("defer")."""

    @classmethod
    def with_initial_data(cls, description: str | None = None, **kwargs: Any) -> type[Self]:
        from pydantic import create_model

        fields: dict[str, Any] = {}
        for key, value in kwargs.items():
            info = cls.model_fields.get(key)
            if info is None:
                fields[key] = (type(value), value)
            else:
                fields[key] = (
                    info.annotation,
                    FieldInfo.merge_field_infos(info, default=_prefilled(info.annotation, value)),
                )
        model = create_model(cls.__name__, __base__=cls, **fields)
        if description is not None:
            model._description = description
        return model


def answer_in_words(schema: Mapping[str, Any], answer: Any) -> Any:
    """``answer`` with every choice given by its code (or its words in another case or spacing)
    put in the words the form's schema lists, which are all the server accepts: the demo,
    ``incontro answer --file``, the desk and scripts may answer by code. A value that is
    neither is left for the server to refuse."""
    defs = {**schema.get("$defs", {}), **schema.get("definitions", {})}

    def walk(node: Mapping[str, Any], value: Any) -> Any:
        ref = node.get("$ref")
        if isinstance(ref, str):
            node = {**defs.get(ref.rsplit("/", 1)[-1], {}), **{k: v for k, v in node.items() if k != "$ref"}}
        for branch in [*node.get("anyOf", []), *node.get("allOf", [])]:
            changed = walk(branch, value)
            if changed != value:
                return changed
        codes, words = node.get(CODES), node.get("enum")
        if codes and words and isinstance(value, str) and value not in words:
            key = _fold(value)  # the code, or the words typed in another case or spacing
            return next((w for c, w in zip(codes, words, strict=True) if key in (_fold(c), _fold(w))), value)
        if isinstance(value, dict) and isinstance(node.get("properties"), dict):
            props = node["properties"]
            return {k: walk(props[k], v) if k in props else v for k, v in value.items()}
        if isinstance(value, list) and isinstance(node.get("items"), dict):
            return [walk(node["items"], v) for v in value]
        return value

    return walk(schema, answer)


def measure_choices(measures: Mapping[str, str], empty: str) -> Choices:
    """The measures of one form (code → name) as a choice list, ``empty`` for no measure; a
    name shared by two measures (two courses with one title) is told apart by its code."""
    seen = Counter(measures.values())
    pairs = [(code, name if seen[name] == 1 else f"{name} ({code.split(':')[-1]})") for code, name in measures.items()]
    return Choices((("", empty), *pairs))


def naming_measures(form: type[ItalianForm], fields: Mapping[str, Any], choices: Choices) -> Any:
    """``form`` with the measure fields of its rows (``fields``: name → annotation over str) drawn
    from ``choices``: a form class per run, built from the measures it proposes."""
    from pydantic import create_model

    (list_name,) = form.model_fields
    outer = form.model_fields[list_name]
    (row,) = get_args(outer.annotation)
    measure = Annotated[str, choices]
    named: dict[str, Any] = {
        name: (list[measure] if shape is list else measure, FieldInfo.merge_field_infos(row.model_fields[name]))
        for name, shape in fields.items()
    }
    row_model: Any = create_model(row.__name__, __base__=row, **named)
    rows: dict[str, Any] = {list_name: (list[row_model], FieldInfo.merge_field_infos(outer))}
    return create_model(form.__name__, __base__=form, **rows)


def listing_choices(
    form: type[ItalianForm], lists: Mapping[str, Choices], words: Mapping[str, Mapping[str, Any]] | None = None
) -> Any:
    """``form`` with the fields ``lists`` names, in its rows, chosen from those lists: a list of
    codes becomes a list of choices (the UI draws a multiple choice), a code a choice. ``words``
    gives such a field its title and description for the list; the free-text schema it had (a
    code's pattern, which the words do not fit) is dropped, its checks and bounds stay. A form
    class per run, from lists that live in config/ (models/ never reads configuration)."""
    from pydantic import create_model

    (list_name,) = form.model_fields
    outer = form.model_fields[list_name]
    (row,) = get_args(outer.annotation)
    listed: dict[str, Any] = {}
    for name, choices in lists.items():
        info = row.model_fields[name]
        item = Annotated[str, choices]
        annotation = list[item] if get_origin(info.annotation) is list else item  # type: ignore[valid-type]
        changes = {"json_schema_extra": None, **(words or {}).get(name, {})}
        listed[name] = (annotation, FieldInfo.merge_field_infos(info, **changes))
    row_model: Any = create_model(row.__name__, __base__=row, **listed)
    rows: dict[str, Any] = {list_name: (list[row_model], FieldInfo.merge_field_infos(outer))}
    return create_model(form.__name__, __base__=form, **rows)
