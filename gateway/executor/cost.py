"""Demand control: an operation's static cost from `@cost` and `@listSize` (the IBM GraphQL cost
model as Apollo applies it), worked out before any fetch.

An object, interface or union field costs 1, a scalar or enum field 0, unless `@cost` on the field
or its type says otherwise; provided arguments add their `@cost`; a list multiplies its item's cost
(the field's own plus its selections) by its size: the value of its slicing argument, else
`assumedSize`, else the configured default; `sizedFields` hand the slicing argument's value to
child fields (connections' `edges`/`nodes`). A mutation costs 10 more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_list_type,
    value_from_ast,
)
from graphql.pyutils import Undefined as _UNDEFINED

from ..supergraph.directives import FrontDoor, ListSize

__all__ = ["CostError", "estimate_cost"]

MUTATION_COST = 10


class CostError(ValueError):
    """The operation cannot be priced: a list that requires one slicing argument has none."""


@dataclass(frozen=True, kw_only=True, slots=True)
class _Pricing:
    schema: GraphQLSchema
    rules: FrontDoor
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    default_list_size: int


def estimate_cost(schema: GraphQLSchema, rules: FrontDoor, operation: OperationDefinitionNode, *,
                  fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any],
                  default_list_size: int) -> int:
    root = schema.get_root_type(operation.operation)
    assert root is not None, "validation accepted an operation on a root type the schema lacks"
    pricing = _Pricing(schema=schema, rules=rules, fragments=fragments, variables=dict(variables),
                       default_list_size=default_list_size)
    cost = _selections(pricing, root, operation.selection_set, None)
    return cost + (MUTATION_COST if operation.operation.value == "mutation" else 0)


def _selections(p: _Pricing, parent: Any, selection_set: SelectionSetNode,
                sized: Mapping[str, int] | None) -> int:
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field(p, parent, selection, sized)
        elif isinstance(selection, InlineFragmentNode):
            on = p.schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
            total += _selections(p, on, selection.selection_set, sized)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = p.fragments.get(selection.name.value)
            if fragment is not None:
                total += _selections(p, p.schema.get_type(fragment.type_condition.name.value),
                                     fragment.selection_set, sized)
    return total


def _field(p: _Pricing, parent: Any, node: FieldNode, sized: Mapping[str, int] | None) -> int:
    if not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
        return 0  # __typename on a union
    definition = parent.fields.get(node.name.value)
    if definition is None:
        return 0  # __typename, __schema, __type
    named = get_named_type(definition.type)
    key = (parent.name, node.name.value)
    weight = p.rules.field_cost.get(key)
    if weight is None:
        weight = p.rules.type_cost.get(named.name)
    if weight is None:
        weight = 1 if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)) else 0
    arguments = _arguments(p, definition, node)
    argument_cost = sum(p.rules.argument_cost.get((*key, name), 0) for name in arguments)
    size_rule = p.rules.list_size.get(key)
    slice_size = _slice(size_rule, arguments, node.name.value)
    children_sized = None
    if size_rule is not None and size_rule.sized_fields and slice_size is not None:
        children_sized = dict.fromkeys(size_rule.sized_fields, slice_size)
    if node.selection_set is not None:
        weight += _selections(p, named, node.selection_set, children_sized)
    if not _is_list(definition.type):
        return weight + argument_cost
    if sized is not None and node.name.value in sized:
        count = sized[node.name.value]
    elif slice_size is not None and not (size_rule and size_rule.sized_fields):
        count = slice_size
    elif size_rule is not None and size_rule.assumed_size is not None:
        count = size_rule.assumed_size
    else:
        count = p.default_list_size
    return count * weight + argument_cost


def _arguments(p: _Pricing, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
    """The field's argument values: given (literal or variable), else their defaults."""
    given = {a.name.value: a.value for a in node.arguments or ()}
    values: dict[str, Any] = {}
    for name, argument in definition.args.items():
        if name in given:
            value = value_from_ast(given[name], argument.type, p.variables)
            if value is not None:
                values[name] = value
        elif argument.default_value is not None and argument.default_value is not _UNDEFINED:
            values[name] = argument.default_value
    return values


def _slice(rule: ListSize | None, arguments: Mapping[str, Any], field_name: str) -> int | None:
    if rule is None or not rule.slicing_arguments:
        return None
    sizes = [int(arguments[name]) for name in rule.slicing_arguments
             if isinstance(arguments.get(name), int)]
    if not sizes:
        if rule.require_one_slicing_argument:
            raise CostError(f"'{field_name}' needs one of its slicing arguments "
                            f"({', '.join(rule.slicing_arguments)}).")
        return None
    if len(sizes) > 1 and rule.require_one_slicing_argument:
        raise CostError(f"'{field_name}' takes exactly one of its slicing arguments "
                        f"({', '.join(rule.slicing_arguments)}).")
    return max(sizes)


def _is_list(type_: Any) -> bool:
    while hasattr(type_, "of_type"):
        if is_list_type(type_):
            return True
        type_ = type_.of_type
    return False

