"""Development mode: compose the supergraph from running subgraphs and recompose when one changes.

A composition that fails keeps the last good supergraph serving and logs every error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from ..compose import SubgraphSource, compose, fetch_sdl
from .app import Gateway

logger = logging.getLogger("tributary.gateway.compose")


async def fetch_sources(subgraphs: Mapping[str, str], gateway: Gateway | None = None
                        ) -> list[SubgraphSource]:
    # `_service` answers the gateway only: ask with its credential when it has one.
    credential = gateway.credential if gateway is not None else None
    sdls = await asyncio.gather(*(
        fetch_sdl(url, headers=credential.headers(name) if credential else None)
        for name, url in subgraphs.items()))
    return [SubgraphSource(name=name, url=url, sdl=sdl) for (name, url), sdl in zip(subgraphs.items(), sdls)]


async def compose_once(gateway: Gateway, subgraphs: Mapping[str, str], previous: tuple[str, ...] | None,
                       *, failing: bool = False) -> tuple[str, ...] | None:
    """Fetch every SDL; recompose when any changed. Returns the SDLs now served.

    Logs only what changed: a new supergraph, a failed composition, a subgraph becoming
    unreachable (once, while `failing` is false), never a quiet round.
    """
    try:
        sources = await fetch_sources(subgraphs, gateway)
    except Exception as error:
        if not failing:
            logger.warning("could not fetch subgraph SDLs (retrying quietly): %s", error)
        raise _Unreachable from error
    current = tuple(s.sdl for s in sources)
    if failing:
        logger.info("every subgraph answers again")
    if current == previous:
        return previous
    result = compose(sources)
    if result.supergraph_sdl is None:
        for problem in result.errors:
            logger.error(
                "composition failed, keeping the last good supergraph: [%s] %s", problem.code, problem.message
            )
        return current  # don't retry the same broken SDLs every round
    gateway.swap(result.supergraph_sdl)
    logger.info("composed a supergraph from %d subgraphs", len(sources))
    return current


class _Unreachable(Exception):
    """A subgraph did not give its SDL this round."""


async def compose_first(gateway: Gateway, subgraphs: Mapping[str, str]) -> tuple[str, ...] | None:
    """The first composition, before the gateway serves; None when a subgraph did not answer."""
    try:
        return await compose_once(gateway, subgraphs, None)
    except _Unreachable:
        return None


async def poll_subgraphs(gateway: Gateway, subgraphs: Mapping[str, str], interval: float,
                         *, served: tuple[str, ...] | None = None) -> None:
    failing = False
    while True:
        await asyncio.sleep(interval)
        try:
            served = await compose_once(gateway, subgraphs, served, failing=failing)
            failing = False
        except _Unreachable:
            failing = True
