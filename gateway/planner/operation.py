"""Client operations normalised for planning: fragments inlined, literal @skip/@include applied."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    print_ast,
)
from graphql.language import Visitor, visit


class OperationError(ValueError):
    """The document has no operation matching the request."""


@dataclass(kw_only=True, slots=True, eq=False)
class CField:
    response_name: str
    name: str
    alias: str | None
    arguments: str  # printed "(a: $x)" or ""
    variables: frozenset[str]
    conditions: tuple[str, ...]  # printed variable-driven directives, e.g. "@include(if: $x)"
    selections: list[CSelection] = field(default_factory=list)


@dataclass(kw_only=True, slots=True, eq=False)
class CFragment:
    type_condition: str | None
    conditions: tuple[str, ...]
    selections: list[CSelection] = field(default_factory=list)


CSelection = CField | CFragment


@dataclass(kw_only=True, slots=True, eq=False)
class NormalizedOperation:
    kind: str  # "query" | "mutation" | "subscription"
    name: str | None
    selections: list[CSelection]
    variable_definitions: dict[str, str]  # name -> printed "$x: Int = 1"
    node: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]


def print_arguments(node: FieldNode) -> str:
    """A field's arguments as sent to a subgraph: `(a: $x, b: 1)`, or "" without any."""
    if not node.arguments:
        return ""
    return "(" + ", ".join(print_ast(a) for a in node.arguments) + ")"


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        for operation in operations:
            if operation.name and operation.name.value == operation_name:
                return operation
        raise OperationError(f"Unknown operation named '{operation_name}'.")
    if len(operations) != 1:
        raise OperationError(
            "Must provide operation name if query contains multiple operations."
            if operations
            else "Must provide an operation."
        )
    return operations[0]


class _VariableCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        self.names.add(node.name.value)


def _variables(nodes: object) -> frozenset[str]:
    collector = _VariableCollector()
    for node in nodes or ():  # type: ignore[attr-defined]
        visit(node, collector)
    return frozenset(collector.names)


def _conditions(node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> tuple[str, ...] | None:
    """Printed variable conditions, or None when a literal condition excludes the node."""
    out: list[str] = []
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        value = directive.arguments[0].value if directive.arguments else None
        if isinstance(value, BooleanValueNode):
            if value.value == (name == "skip"):
                return None
            continue
        if isinstance(value, VariableNode):
            out.append(f"@{name}(if: ${value.name.value})")
    return tuple(out)


def _normalize(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str],
) -> list[CSelection]:
    out: list[CSelection] = []
    for selection in selection_set.selections:
        conditions = _conditions(selection)  # type: ignore[arg-type]
        if conditions is None:
            continue
        if isinstance(selection, FieldNode):
            arguments = print_arguments(selection)
            out.append(
                CField(
                    response_name=(selection.alias or selection.name).value,
                    name=selection.name.value,
                    alias=selection.alias.value if selection.alias else None,
                    arguments=arguments,
                    variables=_variables(selection.arguments)
                    | frozenset(c.split("$")[1].rstrip(")") for c in conditions),
                    conditions=conditions,
                    selections=_normalize(selection.selection_set, fragments, seen)
                    if selection.selection_set
                    else [],
                )
            )
        elif isinstance(selection, InlineFragmentNode):
            out.append(
                CFragment(
                    type_condition=selection.type_condition.name.value
                    if selection.type_condition
                    else None,
                    conditions=conditions,
                    selections=_normalize(selection.selection_set, fragments, seen),
                )
            )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            definition = fragments.get(name)
            if definition is None or name in seen:
                continue  # validation rejects both; stay total anyway
            out.append(
                CFragment(
                    type_condition=definition.type_condition.name.value,
                    conditions=conditions,
                    selections=_normalize(definition.selection_set, fragments, seen | {name}),
                )
            )
    return out


def normalize_operation(document: DocumentNode, operation_name: str | None) -> NormalizedOperation:
    operation = select_operation(document, operation_name)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return NormalizedOperation(
        kind=operation.operation.value,
        name=operation.name.value if operation.name else None,
        selections=_normalize(operation.selection_set, fragments, frozenset()),
        variable_definitions={
            v.variable.name.value: print_ast(v) for v in operation.variable_definitions or ()
        },
        node=operation,
        fragments=fragments,
    )


def fragment_applies(schema: GraphQLSchema, type_condition: str | None, runtime_type: str) -> bool:
    if type_condition is None or type_condition == runtime_type:
        return True
    condition = schema.get_type(type_condition)
    runtime = schema.get_type(runtime_type)
    if condition is None or runtime is None:
        return False
    from graphql import is_abstract_type

    if is_abstract_type(condition):
        return schema.is_sub_type(condition, runtime)  # type: ignore[arg-type]
    return False
