"""`python -m gateway compose --config supergraph.yaml [--out schema/supergraph.graphql]`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from .._cli import ArgumentParser
from ._compose import compose
from .config import ConfigError, SdlFetchError, load_config, load_sources


def _parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m gateway compose",
        description="Compose the subgraphs named in a config file into a supergraph SDL.",
    )
    parser.add_argument("--config", required=True, help="supergraph.yaml")
    parser.add_argument("--out", help="write the supergraph here (default: standard output)")
    parser.add_argument("--hints", action="store_true", help="also print composition hints")
    return parser


def main(argv: list[str]) -> int:
    """Exit 0 with the supergraph written, or 1 with every error on stderr (subgraph, coordinate)."""
    argv = list(argv)
    if argv[:1] == ["compose"]:
        argv = argv[1:]
    args = _parser().parse_args(argv)
    try:
        sources = asyncio.run(load_sources(load_config(args.config)))
    except (ConfigError, SdlFetchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    result = compose(sources)
    if args.hints:
        for hint in result.hints:
            print(f"hint: {hint.code}: {hint.message}", file=sys.stderr)
    if result.supergraph_sdl is None:
        print(
            f"composition failed with {len(result.errors)} error(s):",
            file=sys.stderr,
        )
        for error in result.errors:
            where = ", ".join(
                part
                for part in (
                    f"subgraph {error.subgraph}" if error.subgraph else "",
                    f"at {error.coordinate}" if error.coordinate else "",
                )
                if part
            )
            print(f"error[{error.code}] ({where}): {error.message}", file=sys.stderr)
        return 1
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(result.supergraph_sdl, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(result.supergraph_sdl)
    return 0
