"""Cross-origin requests: which browser origins may call the gateway, and preflight answers."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from ..config import GatewaySettings

__all__ = ["LOCALHOST_ORIGINS", "cors_middleware"]

# A dev frontend (Vite :5173, Next :3000, ...) runs on some local port; any port is fine.
LOCALHOST_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?"


def cors_middleware(settings: GatewaySettings) -> list[Middleware]:
    """CORSMiddleware for the configured origins (plus localhost outside prod), or none."""
    regex = LOCALHOST_ORIGINS if settings.cors_allow_localhost else None
    if not settings.cors_origins and regex is None:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_origin_regex=regex,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["*"],
            allow_credentials=settings.cors_allow_credentials,
            expose_headers=["x-request-id"],
            max_age=600,
        )
    ]
