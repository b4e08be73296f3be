"""The service kit every Tributary subgraph shares (settings, db, kv, auth, events, app factory).

Import from the modules (`shared.app`, `shared.auth`, ...); this package re-exports nothing.
"""

__all__: list[str] = []
