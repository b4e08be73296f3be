"""Automatic persisted queries: clients send a sha256 hash instead of the document once it is known."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"


class PersistedQueryError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class PersistedQueries:
    """An LRU of documents by their sha256, filled by clients following the APQ protocol."""

    def __init__(self, size: int = 1000) -> None:
        self.size = size
        self._documents: OrderedDict[str, str] = OrderedDict()

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        persisted = (extensions or {}).get("persistedQuery")
        if not isinstance(persisted, dict):
            return query
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or persisted.get("version", 1) != 1:
            raise PersistedQueryError("Unsupported persisted query.", "PERSISTED_QUERY_NOT_SUPPORTED")
        if query is None:
            found = self._documents.get(digest)
            if found is None:
                raise PersistedQueryError("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)
            self._documents.move_to_end(digest)
            return found
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise PersistedQueryError(
                "provided sha does not match query", PERSISTED_QUERY_HASH_MISMATCH
            )
        self._documents[digest] = query
        if len(self._documents) > self.size:
            self._documents.popitem(last=False)
        return query
