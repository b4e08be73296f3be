"""`python -m subgraphs.wallet`: serve the wallet subgraph with uvicorn (WALLET_* settings)."""

from __future__ import annotations

import uvicorn

from shared.config import load_settings
from subgraphs.wallet.app import create_app
from subgraphs.wallet.config import WalletSettings


def main() -> None:
    settings = load_settings(WalletSettings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
