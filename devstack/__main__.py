"""`python -m devstack` (what `make run` runs): every subgraph and the gateway on dev ports."""

from __future__ import annotations

import sys
from argparse import ArgumentParser

from devstack.stack import main


def run(argv: list[str]) -> int:
    parser = ArgumentParser(
        prog="python -m devstack",
        description="Every subgraph and the gateway on their dev ports (what `make run` runs); "
        "ports move with <NAME>_PORT / <NAME>_INTERNAL_PORT / GATEWAY_PORT.",
    )
    parser.parse_args(argv)
    return main() or 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
