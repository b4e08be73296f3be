"""One supergraph, ready to serve: parse/validate/plan with an LRU cache, then execute and shape."""

from __future__ import annotations

import random as _random
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    execute_sync,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from ..planner import (
    NormalizedOperation,
    OperationError,
    PlanningError,
    QueryPlan,
    QueryPlanner,
    normalize_operation,
)
from ..planner.operation import CField, CSelection
from ..supergraph import Supergraph, build_api_schema, parse_supergraph
from ..supergraph.directives import FrontDoor, read_front_door
from . import errors as codes
from .authorize import Guard, find_guards, restrict_selections
from .cost import CostError, estimate_cost
from .execute import ExecutionContext, PlanExecutor
from .fetch import SubgraphClient
from .shape_codegen import CompiledShaper

_INTROSPECTION = frozenset({"__schema", "__type"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    max_depth: int = 25
    max_aliases: int = 50
    max_tokens: int = 15_000
    introspection: bool = True
    cost_mode: str = "measure"  # off | measure | enforce
    max_cost: int = 10_000
    default_list_size: int = 10


class RequestError(Exception):
    """The request cannot run at all: unparsable, invalid, or past a limit (HTTP 400 territory)."""

    def __init__(self, message: str, code: str, *, locations: list[dict[str, int]] | None = None,
                 errors: list[dict[str, Any]] | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        entry: dict[str, Any] = {"message": message, "extensions": {"code": code}}
        if locations:
            entry["locations"] = locations
        self.errors = errors or [entry]


@dataclass(frozen=True, kw_only=True, slots=True)
class PreparedOperation:
    document: DocumentNode
    operation: NormalizedOperation
    plan: QueryPlan
    introspection: DocumentNode | None  # the introspection root fields, answered locally
    guards: tuple[Guard, ...] = ()  # fields behind @authenticated/@requiresScopes/@policy
    # the operation planned without some guards (by their indexes), with the errors for them
    restricted: dict[frozenset[int], tuple[PreparedOperation, tuple[dict[str, Any], ...]]] = field(
        default_factory=dict, hash=False, compare=False)
    # the estimated cost, kept when it cannot depend on variables (the operation declares none)
    fixed_cost: list[int] = field(default_factory=list, hash=False, compare=False)


def _graphql_error(error: GraphQLError, code: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"message": error.message, "extensions": {"code": code}}
    if error.locations:
        entry["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    return entry


def _depth(items: list[CSelection], depth: int = 0) -> int:
    deepest = depth
    for item in items:
        if isinstance(item, CField):
            if item.selections:
                deepest = max(deepest, _depth(item.selections, depth + 1))
            else:
                deepest = max(deepest, depth + 1)
        else:
            deepest = max(deepest, _depth(item.selections, depth))
    return deepest


def _aliases(items: list[CSelection]) -> int:
    return sum(
        (1 if isinstance(item, CField) and item.alias else 0) + _aliases(item.selections)
        for item in items
    )


_NO_LABELS: frozenset[str] = frozenset()
_MAX_RESTRICTED = 16  # restricted variants kept per operation (callers differ in a few ways)
_PERCENT = re.compile(r"percent\((\d+(?:\.\d+)?)\)")


def _percent(label: str) -> float | None:
    """n for a `percent(n)` label (composition has checked it is within 0..100), else None."""
    match = _PERCENT.fullmatch(label)
    return float(match.group(1)) if match else None


class Engine:
    def __init__(
        self,
        supergraph_sdl: str,
        client: SubgraphClient,
        *,
        url_overrides: Mapping[str, str] | None = None,
        cache_size: int = 1000,
        limits: Limits | None = None,
        override_labels: frozenset[str] = frozenset(),
        random: Callable[[], float] = _random.random,
    ) -> None:
        """`override_labels`: progressive @override labels that are always active; a
        `percent(n)` label is active for a random n% of requests (`random` draws in [0, 1))."""
        self.supergraph: Supergraph = parse_supergraph(supergraph_sdl)
        self.schema: GraphQLSchema = build_api_schema(supergraph_sdl)
        self.planner = QueryPlanner(self.supergraph, self.schema)
        self.shaper = CompiledShaper(self.schema, self._hidden_enum_values())
        self.front_door: FrontDoor = read_front_door(supergraph_sdl)
        urls: dict[str, str] = {name: s.url for name, s in self.supergraph.subgraphs.items()}
        urls.update({k: v for k, v in (url_overrides or {}).items() if k in urls})
        self.urls = urls
        self.executor = PlanExecutor(client, urls)
        self.limits = limits or Limits()
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str | None, frozenset[str]], PreparedOperation] = (
            OrderedDict())
        self.enabled_labels = override_labels
        self.random = random
        self._percents = {label: _percent(label) for label in self.planner.override_labels}

    def _hidden_enum_values(self) -> dict[str, frozenset[str]]:
        hidden = {}
        for type_def in self.supergraph.types.values():
            api_type = self.schema.get_type(type_def.name)
            if type_def.kind == "enum" and isinstance(api_type, GraphQLEnumType):
                hidden[type_def.name] = type_def.values - frozenset(api_type.values)
        return hidden

    # -- preparing -----------------------------------------------------------------------------
    def active_labels(self) -> frozenset[str]:
        """This request's active progressive @override labels (none when the supergraph has none)."""
        if not self._percents:
            return _NO_LABELS
        return frozenset(
            label for label, percent in self._percents.items()
            if (label in self.enabled_labels if percent is None else self.random() * 100 < percent)
        )

    def prepare(self, query: str, operation_name: str | None) -> PreparedOperation:
        labels = self.active_labels()
        key = (query, operation_name, labels)
        prepared = self._cache.get(key)
        if prepared is not None:
            self._cache.move_to_end(key)
            return prepared
        prepared = self._prepare(query, operation_name, labels)
        self._cache[key] = prepared
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return prepared

    def _prepare(self, query: str, operation_name: str | None,
                 labels: frozenset[str] = frozenset()) -> PreparedOperation:
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as error:
            code = (
                codes.MAX_TOKENS_EXCEEDED
                if "tokens. Parsing aborted" in error.message
                else codes.GRAPHQL_PARSE_FAILED
            )
            raise RequestError(error.message, code, errors=[_graphql_error(error, code)]) from None
        # With introspection off, "Did you mean …" would hand out the schema field by field.
        validation_errors = validate(self.schema, document,
                                     hide_suggestions=not self.limits.introspection)
        if validation_errors:
            raise RequestError(
                validation_errors[0].message,
                codes.GRAPHQL_VALIDATION_FAILED,
                errors=[_graphql_error(e, codes.GRAPHQL_VALIDATION_FAILED) for e in validation_errors],
            )
        try:
            operation = normalize_operation(document, operation_name)
        except OperationError as error:
            raise RequestError(str(error), codes.OPERATION_RESOLUTION_FAILURE) from None
        if _depth(operation.selections) > self.limits.max_depth:
            raise RequestError(
                f"Operation exceeds the maximum depth of {self.limits.max_depth}.",
                codes.MAX_DEPTH_EXCEEDED,
            )
        if _aliases(operation.selections) > self.limits.max_aliases:
            raise RequestError(
                f"Operation exceeds the maximum of {self.limits.max_aliases} aliases.",
                codes.MAX_ALIASES_EXCEEDED,
            )
        introspection = self._introspection_document(document, operation)
        if introspection is not None and not self.limits.introspection:
            raise RequestError(
                "Introspection is disabled on this gateway.", codes.GRAPHQL_VALIDATION_FAILED
            )
        planned = operation
        if introspection is not None:
            planned = NormalizedOperation(
                kind=operation.kind,
                name=operation.name,
                selections=[
                    s for s in operation.selections
                    if not (isinstance(s, CField) and s.name in _INTROSPECTION)
                ],
                variable_definitions=operation.variable_definitions,
                node=operation.node,
                fragments=operation.fragments,
            )
        try:
            plan = self.planner.plan_operation(planned, active_labels=labels)
        except PlanningError as error:
            raise RequestError(str(error), codes.QUERY_PLANNING_FAILED) from None
        root_type = self.supergraph.root_types[operation.kind]
        return PreparedOperation(
            document=document, operation=operation, plan=plan, introspection=introspection,
            guards=find_guards(self.schema, self.front_door, root_type, planned.selections),
        )

    def restrict(self, prepared: PreparedOperation, denied: frozenset[int]
                 ) -> tuple[PreparedOperation, tuple[dict[str, Any], ...]]:
        """`prepared` planned without the denied guards, and an error for each removed field."""
        if not denied:
            return prepared, ()
        known = prepared.restricted.get(denied)
        if known is not None:
            return known
        guards = {id(prepared.guards[i].field): prepared.guards[i] for i in denied}
        errors: dict[tuple[str, ...], dict[str, Any]] = {}
        operation = prepared.operation
        kept = [s for s in operation.selections
                if not (prepared.introspection is not None and isinstance(s, CField)
                        and s.name in _INTROSPECTION)]
        planned = NormalizedOperation(
            kind=operation.kind, name=operation.name,
            selections=restrict_selections(kept, guards, errors),
            variable_definitions=operation.variable_definitions, node=operation.node,
            fragments=operation.fragments,
        )
        try:
            plan = self.planner.plan_operation(planned, active_labels=self.active_labels())
        except PlanningError as error:
            raise RequestError(str(error), codes.QUERY_PLANNING_FAILED) from None
        variant = (PreparedOperation(document=prepared.document, operation=operation, plan=plan,
                                     introspection=prepared.introspection),
                   tuple(errors.values()))
        if len(prepared.restricted) < _MAX_RESTRICTED:
            prepared.restricted[denied] = variant
        return variant

    def _introspection_document(
        self, document: DocumentNode, operation: NormalizedOperation
    ) -> DocumentNode | None:
        node = operation.node
        fields = [
            s for s in node.selection_set.selections
            if isinstance(s, FieldNode) and s.name.value in _INTROSPECTION
        ]
        if not fields:
            return None
        only = OperationDefinitionNode(
            operation=node.operation,
            name=node.name,
            variable_definitions=node.variable_definitions,
            directives=node.directives,
            selection_set=SelectionSetNode(selections=tuple(fields)),
        )
        others = [d for d in document.definitions if not isinstance(d, OperationDefinitionNode)]
        return DocumentNode(definitions=(only, *others))

    # -- demand control ------------------------------------------------------------------------
    def check_cost(self, prepared: PreparedOperation, variables: Mapping[str, Any] | None) -> int | None:
        """The operation's estimated cost (None when demand control is off); in enforce mode a
        RequestError, before any fetch, when it is over the limit or cannot be priced."""
        limits = self.limits
        if limits.cost_mode == "off":
            return None
        if prepared.fixed_cost:
            cost = prepared.fixed_cost[0]
        else:
            try:
                cost = estimate_cost(
                    self.schema, self.front_door, prepared.operation.node,
                    fragments=prepared.operation.fragments,
                    variables=self.coerce_variables(prepared, variables),
                    default_list_size=limits.default_list_size)
            except CostError as error:
                if limits.cost_mode != "enforce":
                    return None
                raise RequestError(str(error), codes.COST_SLICING_ARGUMENT_MISSING) from None
            if not prepared.operation.variable_definitions:
                prepared.fixed_cost.append(cost)
        if limits.cost_mode == "enforce" and cost > limits.max_cost:
            raise RequestError(
                f"The operation's estimated cost {cost} is over the limit of {limits.max_cost}.",
                codes.COST_ESTIMATED_TOO_EXPENSIVE,
                errors=[{"message": f"The operation's estimated cost {cost} is over the limit of "
                         f"{limits.max_cost}.", "extensions": {"code": codes.COST_ESTIMATED_TOO_EXPENSIVE,
                                                               "cost": {"estimated": cost,
                                                                        "max": limits.max_cost}}}],
            )
        return cost

    # -- executing -----------------------------------------------------------------------------
    def coerce_variables(self, prepared: PreparedOperation, raw: Mapping[str, Any] | None) -> dict[str, Any]:
        coerced = get_variable_values(
            self.schema, prepared.operation.node.variable_definitions or (), dict(raw or {})
        )
        if isinstance(coerced, list):
            raise RequestError(
                coerced[0].message,
                codes.BAD_USER_INPUT,
                errors=[_graphql_error(e, codes.BAD_USER_INPUT) for e in coerced],
            )
        return coerced

    async def execute(
        self,
        prepared: PreparedOperation,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        *,
        errors: tuple[dict[str, Any], ...] = (),
    ) -> dict[str, Any]:
        """Run the plan; `errors` (from authorization) come first in the response."""
        coerced = self.coerce_variables(prepared, variables)
        # forward what the client sent; subgraph operations repeat the defaults themselves
        forwarded = {k: v for k, v in (variables or {}).items()}
        for name, value in coerced.items():
            forwarded.setdefault(name, value)
        context = ExecutionContext(variables=forwarded, headers=headers)
        context.errors.extend(dict(e) for e in errors)
        context.variables.update({k: v for k, v in coerced.items() if isinstance(v, bool)})
        await self.executor.execute(prepared.plan.node, context)
        if prepared.introspection is not None:
            result = execute_sync(self.schema, prepared.introspection, variable_values=coerced)
            if result.data:
                context.data.update(result.data)
            for error in result.errors or ():
                context.errors.append(dict(error.formatted))
        root_type = self.supergraph.root_types[prepared.operation.kind]
        data = self.shaper.shape_root(
            prepared.operation.selections, root_type, context.data, coerced, context.errors
        )
        response: dict[str, Any] = {}
        if context.errors:
            response["errors"] = context.errors
        response["data"] = data
        return response
