"""Plan execution: fetches in plan order on one mutable response, errors collected, never raised."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..planner.plan import Condition, Fetch, Flatten, Parallel, PlanNode, Sequence
from .errors import SUBGRAPH_FETCH_FAILED, SUBGRAPH_INVALID_RESPONSE
from .fetch import SubgraphClient, SubgraphRequestError
from .merge import collect_objects, collect_targets, deep_merge, rename_keys
from .represent import Projector, compile_projector


@dataclass(kw_only=True, slots=True)
class ExecutionContext:
    variables: dict[str, Any]
    headers: Mapping[str, str]
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)


class PlanExecutor:
    def __init__(self, client: SubgraphClient, urls: Mapping[str, str]) -> None:
        self.client = client
        self.urls = dict(urls)
        self._projectors: dict[int, tuple[Fetch, Projector]] = {}

    async def execute(self, node: PlanNode | None, context: ExecutionContext) -> None:
        if node is not None:
            await self._run(node, context)

    async def _run(self, node: PlanNode, context: ExecutionContext) -> None:
        if isinstance(node, Fetch):
            await self._root_fetch(node, context)
        elif isinstance(node, Flatten):
            await self._entity_fetch(node.path, node.node, context)
        elif isinstance(node, Sequence):
            for child in node.nodes:
                await self._run(child, context)
        elif isinstance(node, Parallel):
            await asyncio.gather(*(self._run(child, context) for child in node.nodes))
        elif isinstance(node, Condition):
            branch = node.if_clause if context.variables.get(node.condition) else node.else_clause
            if branch is not None:
                await self._run(branch, context)

    def _projector(self, fetch: Fetch) -> Projector:
        entry = self._projectors.get(id(fetch))
        if entry is None or entry[0] is not fetch:
            if len(self._projectors) > 10_000:
                self._projectors.clear()
            entry = self._projectors[id(fetch)] = (fetch, compile_projector(fetch.requires))
        return entry[1]

    def _variables(self, fetch: Fetch, context: ExecutionContext) -> dict[str, Any]:
        return {v: context.variables[v] for v in fetch.variable_usages if v in context.variables}

    async def _call(
        self, fetch: Fetch, variables: dict[str, Any], context: ExecutionContext, error_path: list[Any] | None
    ) -> dict[str, Any] | None:
        body = orjson.dumps({"query": fetch.operation, "variables": variables})
        try:
            return await self.client.post(
                fetch.service_name,
                self.urls[fetch.service_name],
                body,
                context.headers,
                dedupe=fetch.operation_kind == "query",
            )
        except SubgraphRequestError as error:
            entry: dict[str, Any] = {
                "message": str(error),
                "extensions": {"code": SUBGRAPH_FETCH_FAILED, "serviceName": fetch.service_name},
            }
            if error_path:
                entry["path"] = error_path
            context.errors.append(entry)
            return None

    async def _root_fetch(self, fetch: Fetch, context: ExecutionContext) -> None:
        response = await self._call(fetch, self._variables(fetch, context), context, None)
        if response is None:
            return
        data = response.get("data")
        if isinstance(data, dict):
            if fetch.output_rewrites:
                rename_keys(data, fetch.output_rewrites)
            deep_merge(context.data, data)
        for error in response.get("errors") or ():
            context.errors.append(_subgraph_error(error, fetch.service_name, error.get("path") if isinstance(error, dict) else None))

    async def _entity_fetch(self, path: tuple[str, ...], node: PlanNode, context: ExecutionContext) -> None:
        if not isinstance(node, Fetch):  # conditions inside a Flatten
            await self._run(node, context)
            return
        fetch = node
        representations: list[dict[str, Any]] = []
        targets: list[list[dict[str, Any]]] = []
        index_of: dict[Any, int] = {}
        project = self._projector(fetch)
        for obj in collect_objects(context.data, path):
            projected = project(obj)
            if projected is None:
                continue
            key, representation = projected
            index = index_of.get(key)
            if index is None:
                index_of[key] = index = len(representations)
                representations.append(representation)
                targets.append([obj])
            else:
                targets[index].append(obj)
        if not representations:
            return
        variables = self._variables(fetch, context)
        variables["representations"] = representations
        fetch_path = list(path[: path.index("@")] if "@" in path else path)
        response = await self._call(fetch, variables, context, fetch_path or None)
        if response is None:
            return
        data = response.get("data")
        entities = data.get("_entities") if isinstance(data, dict) else None
        if entities is not None and (not isinstance(entities, list) or len(entities) != len(representations)):
            context.errors.append(
                {
                    "message": f"subgraph '{fetch.service_name}' returned {len(entities) if isinstance(entities, list) else 'no list of'} "
                    f"entities for {len(representations)} representations",
                    "path": fetch_path,
                    "extensions": {"code": SUBGRAPH_INVALID_RESPONSE, "serviceName": fetch.service_name},
                }
            )
            entities = None
        if entities:
            if fetch.output_rewrites:
                for entity in entities:
                    if type(entity) is dict:
                        rename_keys(entity, fetch.output_rewrites)
            for index, entity in enumerate(entities):
                if type(entity) is dict:
                    for obj in targets[index]:
                        deep_merge(obj, entity)
        errors = response.get("errors")
        if errors:
            self._entity_errors(errors, fetch, path, targets, fetch_path, context)

    def _entity_errors(
        self,
        errors: Any,
        fetch: Fetch,
        path: tuple[str, ...],
        targets: list[list[dict[str, Any]]],
        fetch_path: list[Any],
        context: ExecutionContext,
    ) -> None:
        # paths are only worth computing when a subgraph reported errors
        where = {id(obj): concrete for obj, concrete in collect_targets(context.data, path)}
        for error in errors if isinstance(errors, list) else ():
            error_path = error.get("path") if isinstance(error, dict) else None
            if (
                isinstance(error_path, list)
                and len(error_path) >= 2
                and error_path[0] == "_entities"
                and isinstance(error_path[1], int)
                and 0 <= error_path[1] < len(targets)
            ):
                for obj in targets[error_path[1]]:
                    concrete = where.get(id(obj), ())
                    context.errors.append(
                        _subgraph_error(error, fetch.service_name, [*concrete, *error_path[2:]])
                    )
            else:
                context.errors.append(_subgraph_error(error, fetch.service_name, fetch_path or None))


def _subgraph_error(error: Any, service: str, path: list[Any] | None) -> dict[str, Any]:
    if not isinstance(error, dict):
        error = {"message": str(error)}
    out: dict[str, Any] = {"message": error.get("message", "Subgraph error")}
    if path:
        out["path"] = list(path)
    extensions = dict(error.get("extensions") or {})
    extensions["serviceName"] = service
    out["extensions"] = extensions
    return out
