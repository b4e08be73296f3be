"""Reading request bodies with a size limit (endpoints outside GraphQL: webhooks, internal APIs)."""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["BodyTooLargeError", "read_body"]


class BodyTooLargeError(Exception):
    pass


async def read_body(request: Request, *, limit: int) -> bytes:
    """The body, refusing to buffer more than `limit` bytes whatever Content-Length claims."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)
