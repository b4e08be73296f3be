"""Moderation's internal API: the synchronous text check other subgraphs ask before they commit."""

from __future__ import annotations

from typing import Any

from shared.db import Database
from shared.errors import BadUserInputError
from shared.internal import InternalRequest, InternalRoute
from shared.references import MAX_ID
from subgraphs.moderation.config import SURFACES, ModerationSettings
from subgraphs.moderation.models import Verdict
from subgraphs.moderation.services import verdicts
from subgraphs.moderation.services.classifier import TextClassifier

__all__ = ["CHECK_CALLERS", "CHECK_PATH", "internal_routes", "verdict_json"]

CHECK_PATH = "/internal/moderation/check"
CHECK_CALLERS = frozenset({"social", "wallet", "identity"})


def _field(body: dict[str, Any], name: str, *, limit: int, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (name != "text" and not value.strip()) or len(value) > limit:
        raise BadUserInputError(f"`{name}` must be a string of at most {limit} characters",
                                extensions={"field": name, "reason": "INVALID_FIELD"})
    return value


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {"action": verdict.action, "reason": verdict.reason, "verdictId": verdict.id,
            "scores": verdict.scores, "rules": verdict.rules,
            "model": {"name": verdict.model_name, "version": verdict.model_version},
            "latencyMs": verdict.latency_ms}


def internal_routes(*, database: Database, classifier: TextClassifier,
                    settings: ModerationSettings) -> list[InternalRoute]:
    async def check(request: InternalRequest) -> dict[str, Any]:
        body = request.body
        surface = body.get("surface")
        if surface not in SURFACES:
            raise BadUserInputError(f"`surface` must be one of {', '.join(SURFACES)}",
                                    extensions={"field": "surface", "reason": "INVALID_FIELD"})
        text = _field(body, "text", limit=settings.max_text_length)
        author_id = _field(body, "authorId", limit=MAX_ID)
        subject_id = _field(body, "subjectId", limit=MAX_ID, required=False)
        assert text is not None and author_id is not None
        async with database.session() as session:
            verdict = await verdicts.check_text(
                session=session, classifier=classifier, settings=settings, surface=surface,
                text=text, author_id=author_id, subject_id=subject_id, caller=request.caller)
        return verdict_json(verdict)

    return [InternalRoute(path=CHECK_PATH, handler=check, callers=CHECK_CALLERS)]
