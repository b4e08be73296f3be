"""Field sets (`@key`, `@requires`, `@provides` arguments) parsed into small trees."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from graphql import FieldNode, InlineFragmentNode, SelectionSetNode, parse

from .operation import print_arguments


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldSetField:
    name: str
    arguments: str  # printed "(a: 1)" or ""
    selections: tuple[FieldSetField, ...] | None  # None for leaves
    type_condition: str | None = None  # set when the field came from `... on T { }`


def _convert(selection_set: SelectionSetNode, type_condition: str | None) -> tuple[FieldSetField, ...]:
    out: list[FieldSetField] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            out.append(
                FieldSetField(
                    name=selection.name.value,
                    arguments=print_arguments(selection),
                    selections=_convert(selection.selection_set, None)
                    if selection.selection_set
                    else None,
                    type_condition=type_condition,
                )
            )
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            out.extend(_convert(selection.selection_set, condition))
    return tuple(out)


@lru_cache(maxsize=4096)
def parse_field_set(field_set: str) -> tuple[FieldSetField, ...]:
    document = parse("{" + field_set + "}", no_location=True)
    return _convert(document.definitions[0].selection_set, None)  # type: ignore[attr-defined]


def field_set_names(fields: tuple[FieldSetField, ...] | None) -> dict[str, object]:
    """A name tree (`{"a": {"b": {}}}`) for checking what a `@provides` makes available."""
    tree: dict[str, object] = {}
    for f in fields or ():
        # a field under `... on T` is provided for T only: keyed "T.name"
        key = f"{f.type_condition}.{f.name}" if f.type_condition else f.name
        sub = tree.setdefault(key, {})
        if f.selections:
            assert isinstance(sub, dict)
            sub.update(field_set_names(f.selections))
    return tree
