"""`supergraph.yaml`: which subgraphs to compose, where they route, and where their SDL comes from."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from ._compose import SubgraphSource

SERVICE_SDL_QUERY = "{ _service { sdl } }"


class ConfigError(ValueError):
    """The composition config file is missing, malformed, or names an unusable subgraph."""


class SdlFetchError(RuntimeError):
    """A subgraph did not answer `{ _service { sdl } }` with an SDL string."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SubgraphConfig:
    """One subgraph entry: exactly one of `schema_file` / `introspection_url` is set."""

    name: str
    routing_url: str
    schema_file: Path | None = None
    introspection_url: str | None = None


def _entry(name: str, raw: Any, base: Path) -> SubgraphConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"subgraph {name!r}: expected a mapping")
    routing_url = raw.get("routing_url")
    if not isinstance(routing_url, str) or not routing_url:
        raise ConfigError(f"subgraph {name!r}: `routing_url` is required")
    schema = raw.get("schema") or {}
    if not isinstance(schema, dict):
        raise ConfigError(f"subgraph {name!r}: `schema` must be a mapping")
    file, url = schema.get("file"), schema.get("subgraph_url")
    if (file is None) == (url is None):
        raise ConfigError(
            f"subgraph {name!r}: give exactly one of `schema.file` or `schema.subgraph_url`"
        )
    return SubgraphConfig(
        name=name,
        routing_url=routing_url,
        schema_file=(base / file) if file is not None else None,
        introspection_url=url,
    )


def load_config(path: str | Path) -> list[SubgraphConfig]:
    """Read a rover-style config: `subgraphs: {name: {routing_url, schema: {file|subgraph_url}}}`."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    subgraphs = data.get("subgraphs") if isinstance(data, dict) else None
    if not isinstance(subgraphs, dict) or not subgraphs:
        raise ConfigError(f"{path}: expected a non-empty `subgraphs:` mapping")
    return [_entry(str(name), raw, path.parent) for name, raw in subgraphs.items()]


async def fetch_sdl(url: str, *, timeout: float = 10.0,
                    headers: Mapping[str, str] | None = None) -> str:
    """Ask a running subgraph for its federation SDL (`{ _service { sdl } }`)."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(url, json={"query": SERVICE_SDL_QUERY}, headers=headers) as response,
        ):
            if response.status != 200:
                raise SdlFetchError(f"{url}: HTTP {response.status}")
            body = await response.json(content_type=None)
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise SdlFetchError(f"{url}: {exc or type(exc).__name__}") from exc
    sdl = ((body or {}).get("data") or {}).get("_service", {}) or {}
    sdl = sdl.get("sdl") if isinstance(sdl, dict) else None
    if not isinstance(sdl, str):
        errors = (body or {}).get("errors")
        raise SdlFetchError(f"{url}: no `_service.sdl` in the response (errors: {errors})")
    return sdl


async def load_sources(configs: Sequence[SubgraphConfig]) -> list[SubgraphSource]:
    """Read or fetch every subgraph's SDL concurrently; the first failure is raised."""

    async def one(config: SubgraphConfig) -> SubgraphSource:
        if config.schema_file is not None:
            try:
                sdl = config.schema_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"subgraph {config.name!r}: cannot read {exc.filename}") from exc
        else:
            assert config.introspection_url is not None
            sdl = await fetch_sdl(config.introspection_url)
        return SubgraphSource(name=config.name, url=config.routing_url, sdl=sdl)

    return list(await asyncio.gather(*(one(c) for c in configs)))
