"""The rule of docs/entity-references.md, checked on a subgraph's schema."""

from __future__ import annotations

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLType


def non_null_references(schema: GraphQLSchema, foreign: set[str]) -> list[str]:
    """`Type.field` of every field, outside the root operation types, whose value or list item
    is a non-null entity of another subgraph (one of `foreign`)."""
    roots = {t.name for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t}
    found = []
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name in roots or type_.name.startswith("_"):
            continue
        for name, field in type_.fields.items():
            if _non_null_at_the_entity(field.type, foreign):
                found.append(f"{type_.name}.{name}")
    return sorted(found)


def _non_null_at_the_entity(type_: GraphQLType, foreign: set[str]) -> bool:
    if isinstance(type_, GraphQLNonNull):
        inner = type_.of_type
        if isinstance(inner, GraphQLList):
            return _non_null_at_the_entity(inner.of_type, foreign)
        return getattr(inner, "name", None) in foreign
    if isinstance(type_, GraphQLList):
        return _non_null_at_the_entity(type_.of_type, foreign)
    return False
