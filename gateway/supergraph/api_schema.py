"""The API schema: the supergraph without federation machinery or @inaccessible elements."""

from __future__ import annotations

from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    GraphQLSchema,
    SchemaDefinitionNode,
    build_ast_schema,
    parse,
)

from .parse import Features, read_features, unwrap_type

__all__ = ["build_api_schema"]


def _drop_spec_directives(node: Any, features: Features) -> Any:
    directives = node.directives or ()
    kept = tuple(d for d in directives if d.name.value not in features.spec_directives
                 and not any(d.name.value.startswith(p) for p in features.spec_prefixes))
    return node if len(kept) == len(directives) else _replace(node, directives=kept)


def _replace(node: Any, **changes: Any) -> Any:
    clone = node.__copy__()
    for key, value in changes.items():
        setattr(clone, key, value)
    return clone


def _inaccessible(node: Any, features: Features) -> bool:
    return features.inaccessible is not None and any(
        d.name.value == features.inaccessible for d in node.directives or ()
    )


def _clean_field(node: Any, features: Features, hidden: set[str]) -> Any | None:
    if _inaccessible(node, features) or unwrap_type(node.type) in hidden:
        return None
    arguments = getattr(node, "arguments", None)
    if arguments:
        kept_args = tuple(
            _drop_spec_directives(a, features) for a in arguments if not _inaccessible(a, features)
        )
        node = _replace(node, arguments=kept_args)
    return _drop_spec_directives(node, features)


def api_document(document: DocumentNode, features: Features) -> DocumentNode:
    def machinery(name: str) -> bool:
        return any(name.startswith(prefix) for prefix in features.spec_prefixes)

    hidden = {
        d.name.value
        for d in document.definitions
        if hasattr(d, "name") and d.name is not None
        and not isinstance(d, DirectiveDefinitionNode)
        and (_inaccessible(d, features) or machinery(d.name.value))
    }
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode):
            ops = tuple(op for op in definition.operation_types if op.type.name.value not in hidden)
            definitions.append(_replace(definition, directives=(), operation_types=ops))
            continue
        if isinstance(definition, DirectiveDefinitionNode):
            name = definition.name.value
            if name in features.spec_directives or machinery(name):
                continue
            definitions.append(definition)
            continue
        name = definition.name.value  # type: ignore[attr-defined]
        if name in hidden:
            continue
        changes: dict[str, Any] = {}
        fields = getattr(definition, "fields", None)
        if fields is not None:
            changes["fields"] = tuple(
                f for f in (_clean_field(f, features, hidden) for f in fields) if f
            )
        values = getattr(definition, "values", None)
        if values is not None:
            changes["values"] = tuple(
                _drop_spec_directives(v, features) for v in values if not _inaccessible(v, features)
            )
        interfaces = getattr(definition, "interfaces", None)
        if interfaces is not None:
            changes["interfaces"] = tuple(i for i in interfaces if i.name.value not in hidden)
        members = getattr(definition, "types", None)
        if members is not None:
            changes["types"] = tuple(t for t in members if t.name.value not in hidden)
        definition = _replace(definition, **changes) if changes else definition
        definitions.append(_drop_spec_directives(definition, features))
    return DocumentNode(definitions=tuple(definitions))


def build_api_schema(sdl: str) -> GraphQLSchema:
    document = parse(sdl)
    features = read_features(document)
    return build_ast_schema(api_document(document, features), assume_valid_sdl=True)
