"""Moderation's background work: the classifier model is loaded off the event loop.

This slice has no event consumers yet (media checks from `content.media_ready` and re-checks of
held items come with them); `warm` is what the app runs at startup.
"""

from __future__ import annotations

import asyncio

from subgraphs.moderation.services.classifier import TextClassifier

__all__ = ["warm"]


async def warm(classifier: TextClassifier) -> None:
    """Load the bundled model in a thread: importing scikit-learn takes seconds."""
    await asyncio.to_thread(classifier.load)
