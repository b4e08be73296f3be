"""`python -m subgraphs.content`: serve the content subgraph with uvicorn (CONTENT_* settings)."""

from __future__ import annotations

import uvicorn

from shared.config import load_settings
from subgraphs.content.app import create_app
from subgraphs.content.config import ContentSettings


def main() -> None:
    settings = load_settings(ContentSettings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
