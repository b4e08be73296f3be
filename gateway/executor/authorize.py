"""Authorization before planning: which guarded fields a caller may not read, and the operation
without them (each answered `null` with an UNAUTHORIZED_FIELD_OR_TYPE error at its path)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_list_type,
)

from shared.auth import Caller

from ..planner.operation import CField, CFragment, CSelection
from ..supergraph.directives import Access, Alternatives, FrontDoor
from .errors import UNAUTHORIZED_FIELD_OR_TYPE

__all__ = ["Guard", "PolicyRegistry", "PolicyRequest", "Requester", "denied_guards", "find_guards",
           "restrict_selections"]

logger = logging.getLogger("tributary.gateway")


@dataclass(frozen=True, kw_only=True, slots=True)
class Guard:
    """One guarded field of an operation; `field` is the very node in its selection tree."""

    field: CField
    path: tuple[str, ...]  # response path, "@" for each list level
    access: Access


@dataclass(frozen=True, kw_only=True, slots=True)
class PolicyRequest:
    """What a policy may look at besides the caller."""

    operation_name: str | None
    operation_kind: str
    headers: Mapping[str, str]
    client_address: str | None
    variables: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class Requester:
    """The caller as authorization sees it: who, and the scopes they hold."""

    caller: Caller
    scopes: frozenset[str] = frozenset()


Policy = Callable[[Caller, PolicyRequest], Awaitable[bool]]


@dataclass
class PolicyRegistry:
    """`@policy` names -> async callables; a name nobody registered is never satisfied."""

    policies: dict[str, Policy] = field(default_factory=dict)

    def register(self, name: str, policy: Policy | None = None) -> Any:
        """`registry.register("name", fn)`, or as a decorator: `@registry.register("name")`."""
        if policy is not None:
            assert name not in self.policies, f"policy {name!r} is registered twice"
            self.policies[name] = policy
            return policy
        return lambda fn: self.register(name, fn)

    async def evaluate(self, names: set[str], caller: Caller, request: PolicyRequest) -> dict[str, bool]:
        ordered = sorted(names)
        results = await asyncio.gather(*(self._one(n, caller, request) for n in ordered))
        return dict(zip(ordered, results, strict=True))

    async def _one(self, name: str, caller: Caller, request: PolicyRequest) -> bool:
        policy = self.policies.get(name)
        if policy is None:
            logger.warning("@policy %r has no registered implementation: denied", name)
            return False
        try:
            return bool(await policy(caller, request))
        except Exception:  # a broken policy denies (fail closed) and is logged with its stack
            logger.exception("@policy %r failed: denied", name)
            return False


def find_guards(schema: GraphQLSchema, rules: FrontDoor, root_type: str,
                selections: list[CSelection]) -> tuple[Guard, ...]:
    """Every field of the operation whose field or return type carries an access directive."""
    if not rules.has_access_rules:
        return ()
    found: list[Guard] = []
    _walk(schema, rules, root_type, selections, (), found)
    return tuple(found)


def _walk(schema: GraphQLSchema, rules: FrontDoor, parent: str, items: list[CSelection],
          path: tuple[str, ...], found: list[Guard]) -> None:
    for item in items:
        if isinstance(item, CFragment):
            _walk(schema, rules, item.type_condition or parent, item.selections, path, found)
            continue
        parent_type = schema.get_type(parent)
        if item.name.startswith("__") or not isinstance(parent_type, (GraphQLObjectType, GraphQLInterfaceType)):
            continue
        definition = parent_type.fields.get(item.name)
        if definition is None:
            continue
        named = get_named_type(definition.type).name
        here = (*path, item.response_name)
        access = rules.access(parent, item.name, named)
        if access:
            found.append(Guard(field=item, path=here, access=access))
        if item.selections:
            _walk(schema, rules, named, item.selections, (*here, *_list_levels(definition.type)), found)


def _list_levels(type_: Any) -> tuple[str, ...]:
    levels: list[str] = []
    while hasattr(type_, "of_type"):
        if is_list_type(type_):
            levels.append("@")
        type_ = type_.of_type
    return tuple(levels)


def _met(alternatives: Alternatives, holds: Callable[[str], bool]) -> bool:
    return any(all(holds(name) for name in group) for group in alternatives)


async def denied_guards(guards: tuple[Guard, ...], requester: Requester, policies: PolicyRegistry,
                        request: PolicyRequest) -> frozenset[int]:
    """Indexes (into `guards`) of the fields this requester may not read."""
    names = {name for g in guards for alts in g.access.policies for group in alts for name in group}
    verdicts = await policies.evaluate(names, requester.caller, request) if names else {}
    denied = set()
    for index, guard in enumerate(guards):
        access = guard.access
        allowed = (
            (not access.authenticated or requester.caller.is_authenticated)
            and all(_met(alts, requester.scopes.__contains__) for alts in access.scopes)
            and all(_met(alts, verdicts.__getitem__) for alts in access.policies)
        )
        if not allowed:
            denied.add(index)
    return frozenset(denied)


def unauthorized_error(path: tuple[str, ...]) -> dict[str, Any]:
    return {"message": "Unauthorized field or type", "path": list(path),
            "extensions": {"code": UNAUTHORIZED_FIELD_OR_TYPE}}


def restrict_selections(items: list[CSelection], denied: dict[int, Guard],
                        errors: dict[tuple[str, ...], dict[str, Any]]) -> list[CSelection]:
    """`items` without the denied fields (by node identity); an emptied selection keeps
    `__typename` so its parent is still fetched. Fills `errors` by path, one per removed field."""
    out: list[CSelection] = []
    for item in items:
        if isinstance(item, CField):
            guard = denied.get(id(item))
            if guard is not None:
                errors.setdefault(guard.path, unauthorized_error(guard.path))
                continue
            if item.selections:
                kept = restrict_selections(item.selections, denied, errors)
                item = CField(response_name=item.response_name, name=item.name, alias=item.alias,
                              arguments=item.arguments, variables=item.variables,
                              conditions=item.conditions, selections=kept or [_typename()])
            out.append(item)
        else:
            kept = restrict_selections(item.selections, denied, errors)
            if kept:
                out.append(CFragment(type_condition=item.type_condition, conditions=item.conditions,
                                     selections=kept))
    return out


def _typename() -> CField:
    return CField(response_name="__typename", name="__typename", alias=None, arguments="",
                  variables=frozenset(), conditions=())
