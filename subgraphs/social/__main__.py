"""`python -m subgraphs.social`: serve the social subgraph with uvicorn (SOCIAL_* settings)."""

from __future__ import annotations

import uvicorn

from shared.config import load_settings
from subgraphs.social.app import create_app
from subgraphs.social.config import SocialSettings


def main() -> None:
    settings = load_settings(SocialSettings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
