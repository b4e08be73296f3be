"""Print a merged supergraph in the layout of Apollo's `printSupergraph` (definitions sorted)."""

from __future__ import annotations

from graphql import print_ast

from ._model import MEnumValue, MType, directive, print_type
from .merge import Supergraph

_LINK_PURPOSE = '''enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}'''


def _join_definitions(version: tuple[int, int]) -> list[str]:
    field_args = (
        "graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, "
        "external: Boolean, override: String, usedOverridden: Boolean"
    )
    if version >= (0, 4):
        field_args += ", overrideLabel: String"
    if version >= (0, 5):
        field_args += ", contextArguments: [join__ContextArgument!]"
    definitions = [
        "directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE",
        (
            f"directive @join__field({field_args}) repeatable on FIELD_DEFINITION | "
            "INPUT_FIELD_DEFINITION"
        ),
        "directive @join__graph(name: String!, url: String!) on ENUM_VALUE",
        (
            "directive @join__implements(graph: join__Graph!, interface: String!) repeatable on "
            "OBJECT | INTERFACE"
        ),
        (
            "directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = "
            "false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable "
            "on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR"
        ),
        "directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION",
        (
            "directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) "
            "repeatable on SCHEMA"
        ),
        "scalar join__FieldSet",
        "scalar link__Import",
        _LINK_PURPOSE,
    ]
    if version >= (0, 4):
        definitions.append(
            "directive @join__directive(graphs: [join__Graph!], name: String!, args: "
            "join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION"
        )
        definitions.append("scalar join__DirectiveArguments")
    if version >= (0, 5):
        definitions.append("scalar join__FieldValue")
        definitions.append(
            "input join__ContextArgument {\n  name: String!\n  type: String!\n  context: "
            "String!\n  selection: join__FieldValue!\n}"
        )
    return definitions


def _sort_key(text: str) -> tuple[int, str]:
    header = text.split("\n")
    line = next(line for line in header if not line.startswith(('"', " ")) and line)
    words = line.split()
    name = words[1].split("(")[0].lstrip("@")
    return (0 if words[0] == "directive" else 1, name.lower())


def print_supergraph(supergraph: Supergraph) -> str:
    schema = "schema" + "".join("\n  " + print_ast(d) for d in supergraph.schema_links)
    schema += "\n{\n" + "".join(f"  {op}: {name}\n" for op, name in supergraph.roots.items()) + "}"
    graph_enum = MType(kind="enum", name="join__Graph")
    for value, name, url in supergraph.graphs:
        graph_enum.values[value] = MEnumValue(
            name=value, directives=[directive("join__graph", name=name, url=url)]
        )
    blocks = _join_definitions(supergraph.join_version) + supergraph.directive_definitions
    blocks.append(print_type(graph_enum))
    blocks.extend(print_type(t) for t in supergraph.types.values())
    blocks.sort(key=_sort_key)
    return "\n\n".join([schema, *blocks]) + "\n"
