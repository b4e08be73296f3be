"""The supergraph under construction: mutable while merging, printed once at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import print_ast
from graphql.language import ast


@dataclass(frozen=True, slots=True)
class EnumLiteral:
    """An enum value inside a directive argument (`graph: PRODUCTS`)."""

    name: str


def to_value(value: Any) -> ast.ValueNode:
    if isinstance(value, ast.ValueNode):
        return value
    if isinstance(value, EnumLiteral):
        return ast.EnumValueNode(value=value.name)
    if isinstance(value, bool):
        return ast.BooleanValueNode(value=value)
    if isinstance(value, str):
        return ast.StringValueNode(value=value)
    if isinstance(value, int):
        return ast.IntValueNode(value=str(value))
    if isinstance(value, (list, tuple)):
        return ast.ListValueNode(values=tuple(to_value(v) for v in value))
    if isinstance(value, dict):
        return ast.ObjectValueNode(
            fields=tuple(
                ast.ObjectFieldNode(name=ast.NameNode(value=k), value=to_value(v))
                for k, v in value.items()
            )
        )
    raise TypeError(f"cannot express {value!r} as a GraphQL value")


def directive(directive_name: str, /, **args: Any) -> ast.DirectiveNode:
    """Build an application; arguments whose value is None are left out, as Apollo does."""
    return ast.DirectiveNode(
        name=ast.NameNode(value=directive_name),
        arguments=tuple(
            ast.ArgumentNode(name=ast.NameNode(value=k), value=to_value(v))
            for k, v in args.items()
            if v is not None
        ),
    )


def same_application(a: ast.DirectiveNode, b: ast.DirectiveNode) -> bool:
    return print_ast(a) == print_ast(b)


@dataclass(eq=False)
class MArg:
    name: str
    type: ast.TypeNode | None = None
    default: ast.ValueNode | None = None
    description: str | None = None
    directives: list[ast.DirectiveNode] = field(default_factory=list)


@dataclass(eq=False)
class MField:
    name: str
    parent: str
    type: ast.TypeNode | None = None
    args: dict[str, MArg] = field(default_factory=dict)
    description: str | None = None
    directives: list[ast.DirectiveNode] = field(default_factory=list)
    default: ast.ValueNode | None = None  # input fields only

    @property
    def coordinate(self) -> str:
        return f"{self.parent}.{self.name}"


@dataclass(eq=False)
class MEnumValue:
    name: str
    description: str | None = None
    directives: list[ast.DirectiveNode] = field(default_factory=list)


@dataclass(eq=False)
class MType:
    kind: str
    name: str
    description: str | None = None
    directives: list[ast.DirectiveNode] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    fields: dict[str, MField] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    values: dict[str, MEnumValue] = field(default_factory=dict)


_KEYWORD = {
    "object": "type", "interface": "interface", "union": "union", "enum": "enum",
    "input": "input", "scalar": "scalar",
}  # fmt: skip


def _description(text: str | None, indent: str) -> str:
    if text is None:
        return ""
    printed = print_ast(ast.StringValueNode(value=text, block=True))
    return "\n".join(indent + line if line else line for line in printed.split("\n")) + "\n"


def _print_field(f: MField, *, is_input: bool) -> str:
    assert f.type is not None
    if is_input:
        node: ast.Node = ast.InputValueDefinitionNode(
            name=ast.NameNode(value=f.name),
            type=f.type,
            default_value=f.default,
            directives=tuple(f.directives),
        )
    else:
        node = ast.FieldDefinitionNode(
            name=ast.NameNode(value=f.name),
            type=f.type,
            arguments=tuple(
                ast.InputValueDefinitionNode(
                    name=ast.NameNode(value=a.name),
                    description=(
                        ast.StringValueNode(value=a.description, block=True)
                        if a.description is not None
                        else None
                    ),
                    type=a.type,
                    default_value=a.default,
                    directives=tuple(a.directives),
                )
                for a in f.args.values()
            ),
            directives=tuple(f.directives),
        )
    body = print_ast(node)
    return _description(f.description, "  ") + "\n".join("  " + line for line in body.split("\n"))


def print_type(t: MType) -> str:
    """Print one type the way Apollo's `printSupergraph` lays it out (one type directive a line)."""
    head = f"{_KEYWORD[t.kind]} {t.name}"
    if t.interfaces:
        head += " implements " + " & ".join(t.interfaces)
    directives = [print_ast(d) for d in t.directives]
    out = _description(t.description, "")
    if t.kind == "union":
        members = " | ".join(t.members)
        if not directives:
            return out + head + (f" = {members}" if members else "")
        return (
            out
            + head
            + "".join("\n  " + d for d in directives)
            + (f"\n = {members}" if members else "")
        )
    if t.kind == "scalar":
        return out + head + "".join("\n  " + d for d in directives)
    if directives:
        head += "".join("\n  " + d for d in directives) + "\n{"
    else:
        head += " {"
    if t.kind == "enum":
        lines = [
            _description(v.description, "  ")
            + "  "
            + " ".join([v.name, *(print_ast(d) for d in v.directives)])
            for v in t.values.values()
        ]
    else:
        lines = [_print_field(f, is_input=t.kind == "input") for f in t.fields.values()]
    # As graphql-js/Apollo print: a described item other than the first gets a blank line before.
    lines = [
        "\n" + line if i and line.lstrip().startswith('"') else line for i, line in enumerate(lines)
    ]
    return out + head + "\n" + "\n".join(lines) + "\n}"
