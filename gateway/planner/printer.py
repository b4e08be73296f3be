"""Plans printed for people (in the spirit of Apollo's query plan output) and as JSON for tools."""

from __future__ import annotations

from typing import Any

from graphql import parse, print_ast

from .plan import Condition, Fetch, Flatten, InputField, Parallel, PlanNode, QueryPlan, Sequence


def _pretty_operation(operation: str, indent: str) -> list[str]:
    printed = print_ast(parse(operation, no_location=True))  # we only print what we generated
    return [indent + line for line in printed.splitlines()]


def _input_lines(fields: tuple[InputField, ...], indent: str) -> list[str]:
    lines: list[str] = []
    typed: dict[str, list[InputField]] = {}
    for f in fields:
        if f.type_condition is not None:
            typed.setdefault(f.type_condition, []).append(f)
            continue
        lines.extend(_input_field_lines(f, indent))
    for condition, group in typed.items():
        lines.append(f"{indent}... on {condition} {{")
        for f in group:
            lines.extend(_input_field_lines(f, indent + "  "))
        lines.append(indent + "}")
    return lines


def _input_field_lines(f: InputField, indent: str) -> list[str]:
    head = f.name if f.source == f.name else f"{f.name} <- {f.source}"
    if f.selections is None:
        return [indent + head]
    return [f"{indent}{head} {{", *_input_lines(f.selections, indent + "  "), indent + "}"]


def _node_lines(node: PlanNode, indent: str) -> list[str]:
    inner = indent + "  "
    if isinstance(node, Fetch):
        lines = [f'{indent}Fetch(service: "{node.service_name}") {{']
        for fragment in node.requires:
            rewrite = "" if fragment.typename == fragment.type_condition else f" as {fragment.typename}"
            lines.append(f"{inner}... on {fragment.type_condition}{rewrite} {{")
            lines.append(f"{inner}  __typename")
            lines.extend(_input_lines(fragment.fields, inner + "  "))
            lines.append(inner + "}")
        if node.requires:
            lines.append(inner + "=>")
        lines.extend(_pretty_operation(node.operation, inner))
        lines.append(indent + "},")
        return lines
    if isinstance(node, Flatten):
        return [
            f'{indent}Flatten(path: "{".".join(node.path)}") {{',
            *_node_lines(node.node, inner),
            indent + "},",
        ]
    if isinstance(node, (Sequence, Parallel)):
        name = "Sequence" if isinstance(node, Sequence) else "Parallel"
        lines = [f"{indent}{name} {{"]
        for child in node.nodes:
            lines.extend(_node_lines(child, inner))
        lines.append(indent + "},")
        return lines
    assert isinstance(node, Condition)
    if node.if_clause is not None and node.else_clause is not None:
        return [
            f"{indent}Condition(if: ${node.condition}) {{",
            *_node_lines(node.if_clause, inner),
            f"{indent}}} Else {{",
            *_node_lines(node.else_clause, inner),
            indent + "},",
        ]
    if node.if_clause is not None:
        return [f"{indent}Include(if: ${node.condition}) {{", *_node_lines(node.if_clause, inner), indent + "},"]
    assert node.else_clause is not None
    return [f"{indent}Skip(if: ${node.condition}) {{", *_node_lines(node.else_clause, inner), indent + "},"]


def print_plan(plan: QueryPlan) -> str:
    lines = ["QueryPlan {"]
    if plan.node is not None:
        lines.extend(_node_lines(plan.node, "  "))
    lines.append("}")
    return "\n".join(lines)


def plan_to_json(node: PlanNode | QueryPlan | None) -> Any:
    if node is None:
        return None
    if isinstance(node, QueryPlan):
        return {"kind": "QueryPlan", "operationKind": node.operation_kind, "node": plan_to_json(node.node)}
    if isinstance(node, Fetch):
        return {
            "kind": "Fetch",
            "serviceName": node.service_name,
            "operationKind": node.operation_kind,
            "variableUsages": list(node.variable_usages),
            "operation": node.operation,
            "requires": [
                {
                    "kind": "InlineFragment",
                    "typeCondition": f.type_condition,
                    "typename": f.typename,
                    "selections": _inputs_json(f.fields),
                }
                for f in node.requires
            ],
        }
    if isinstance(node, Flatten):
        return {"kind": "Flatten", "path": list(node.path), "node": plan_to_json(node.node)}
    if isinstance(node, (Sequence, Parallel)):
        return {"kind": type(node).__name__, "nodes": [plan_to_json(n) for n in node.nodes]}
    return {
        "kind": "Condition",
        "condition": node.condition,
        "ifClause": plan_to_json(node.if_clause),
        "elseClause": plan_to_json(node.else_clause),
    }


def _inputs_json(fields: tuple[InputField, ...]) -> list[dict[str, Any]]:
    return [
        {"kind": "Field", "name": f.name, "source": f.source, "selections": _inputs_json(f.selections) if f.selections else None}
        for f in fields
    ]
