"""`_entities` and `_service` answer the gateway alone, once the gateway's key is known.

They bypass every root field's checks (any representation, the whole SDL): a client that
reaches a subgraph directly must not use them. The gateway proves itself with its service
token (`shared.service_auth`); without the gateway's public key configured (bare dev or test
setups) the fields stay open, and prod refuses to start without that key.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

__all__ = ["GATEWAY_ONLY_FIELDS", "GatewayOnlyFields"]

GATEWAY_ONLY_FIELDS = frozenset({"_entities", "_service"})


class GatewayOnlyFields(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        settings = getattr(context, "settings", None)
        guarded = settings is not None and "gateway" in settings.service_public_keys
        if guarded and not getattr(context, "from_gateway", False) and self._asks_for_them():
            self.execution_context.result = ExecutionResult(data=None, errors=[GraphQLError(
                "_entities and _service answer the gateway only",
                extensions={"code": "FORBIDDEN", "reason": "GATEWAY_ONLY"})])
        yield

    def _asks_for_them(self) -> bool:
        document = self.execution_context.graphql_document
        if document is None:
            return False
        fragments = {d.name.value: d for d in document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        return any(name in GATEWAY_ONLY_FIELDS
                   for d in document.definitions if isinstance(d, OperationDefinitionNode)
                   for name in _root_field_names(d.selection_set, fragments, set()))


def _root_field_names(selection_set: SelectionSetNode,
                      fragments: dict[str, FragmentDefinitionNode], seen: set[str]) -> Iterator[str]:
    """Names of the root fields, through fragment spreads and inline fragments."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_field_names(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _root_field_names(fragment.selection_set, fragments, seen)
