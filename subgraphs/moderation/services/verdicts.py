"""Synchronous text checks: classify, apply the surface's thresholds, store the verdict."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.moderation.config import ModerationSettings
from subgraphs.moderation.models import Verdict, utcnow
from subgraphs.moderation.services import reports
from subgraphs.moderation.services.classifier import SPAM_SCORE, Classification, TextClassifier

__all__ = ["ACTIONS", "SUBJECT_OF_SURFACE", "check_text", "decide_action", "get_verdict"]

ACTIONS = ("ALLOW", "HOLD", "BLOCK")
# The kind of subject a held text becomes in the review queue.
SUBJECT_OF_SURFACE = {"post": "POST", "comment": "COMMENT", "message": "MESSAGE",
                      "tip_message": "TIP", "profile": "USER"}


# On equal scores the reason names a rule, which a reviewer can check, before the model's label.
_REASON_ORDER = {"blocklist": 2, "spam": 1}


def decide_action(scores: dict[str, float], *, hold: float, block: float) -> tuple[str, str | None]:
    """(action, reason): the highest-scoring label against the surface's thresholds."""
    label, score = max(scores.items(), key=lambda item: (item[1], _REASON_ORDER.get(item[0], 0)))
    if score >= block:
        return "BLOCK", label.upper()
    if score >= hold:
        return "HOLD", label.upper()
    return "ALLOW", None


async def _repeats(session: AsyncSession, *, surface: str, author_id: str, digest: str,
                   settings: ModerationSettings) -> int:
    since = utcnow() - timedelta(seconds=settings.duplicate_window_seconds)
    query = select(func.count()).select_from(Verdict).where(
        Verdict.author_id == author_id, Verdict.surface == surface,
        Verdict.text_sha256 == digest, Verdict.created_at >= since)
    return int((await session.execute(query)).scalar_one())


def _with_duplicate(found: Classification) -> Classification:
    scores = {**found.scores, "spam": max(found.scores["spam"], SPAM_SCORE)}
    return replace(found, scores=scores, rules=(*found.rules, "duplicate_text"))


async def check_text(*, session: AsyncSession, classifier: TextClassifier,
                     settings: ModerationSettings, surface: str, text: str, author_id: str,
                     subject_id: str | None, caller: str) -> Verdict:
    """Classify `text` and store the verdict; a HOLD with a subject opens a review case."""
    found = classifier.classify(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if await _repeats(session, surface=surface, author_id=author_id, digest=digest,
                      settings=settings) >= settings.duplicate_limit:
        found = _with_duplicate(found)
    hold, block = settings.thresholds(surface)
    action, reason = decide_action(found.scores, hold=hold, block=block)
    verdict = Verdict(surface=surface, caller=caller, author_id=author_id, subject_id=subject_id,
                      text=text, text_sha256=digest, action=action, reason=reason,
                      scores=dict(found.scores), rules=list(found.rules),
                      model_name=found.model_name, model_version=found.model_version,
                      latency_ms=round(found.latency_ms, 3))
    session.add(verdict)
    await session.flush()
    if action == "HOLD" and subject_id is not None:
        await reports.open_case(session, subject_type=SUBJECT_OF_SURFACE[surface],
                                subject_id=subject_id, verdict_id=verdict.id)
    await session.commit()
    return verdict


async def get_verdict(*, session: AsyncSession, verdict_id: str) -> Verdict | None:
    return await session.get(Verdict, verdict_id)
