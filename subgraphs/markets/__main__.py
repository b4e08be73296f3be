"""`python -m subgraphs.markets`: serve the markets subgraph with uvicorn (MARKETS_* settings)."""

from __future__ import annotations

import uvicorn

from shared.config import load_settings
from subgraphs.markets.app import create_app
from subgraphs.markets.config import MarketsSettings


def main() -> None:
    settings = load_settings(MarketsSettings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
