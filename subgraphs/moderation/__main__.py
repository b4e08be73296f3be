"""`python -m subgraphs.moderation`: serve the moderation subgraph with uvicorn (MODERATION_* settings)."""

from __future__ import annotations

import uvicorn

from shared.config import load_settings
from subgraphs.moderation.app import create_app
from subgraphs.moderation.config import ModerationSettings


def main() -> None:
    settings = load_settings(ModerationSettings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
