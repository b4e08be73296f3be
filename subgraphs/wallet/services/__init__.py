"""Wallet business logic: async functions taking the session (and KV) explicitly."""

__all__: list[str] = []
