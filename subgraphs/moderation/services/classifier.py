"""The text classifier: alt-profanity-check's bundled model plus the rules, versioned.

The model (a linear SVM over a bag of words, trained on English) ships inside the
`alt-profanity-check` package, MIT licence; loading it imports scikit-learn and takes seconds,
so the app loads it once at startup, before its internal port opens.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from subgraphs.moderation.services.rules import Blocklists, spam_rules

__all__ = ["LABELS", "MODEL_NAME", "Classification", "TextClassifier"]

MODEL_NAME = "alt-profanity-check"
LABELS = ("profanity", "blocklist", "spam")
# A rule is certain of what it saw, but spam is a different harm from abuse: a spam rule holds
# for review at the default thresholds, a blocklisted word blocks.
SPAM_SCORE = 0.9


@dataclass(frozen=True, kw_only=True, slots=True)
class Classification:
    scores: dict[str, float]  # label -> score in [0, 1]
    rules: tuple[str, ...]  # the rules the text broke
    model_name: str
    model_version: str
    latency_ms: float


@dataclass
class TextClassifier:
    blocklists: Blocklists = field(default_factory=Blocklists.load)
    link_limit: int = 3
    mention_limit: int = 8
    _model: Any = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    # The installed package's version: its model is trained with and pinned to one scikit-learn.
    model_version: str = field(default_factory=lambda: metadata.version(MODEL_NAME), init=False)

    def load(self) -> None:
        """Load the bundled model (idempotent; blocking: call it from a thread)."""
        with self._lock:
            if self._model is None:
                import profanity_check

                self._model = profanity_check

    def profanity(self, text: str) -> float:
        self.load()
        return float(self._model.predict_prob([text])[0])

    def classify(self, text: str) -> Classification:
        started = time.perf_counter()
        hits = [*self.blocklists.hits(text),
                *spam_rules(text, link_limit=self.link_limit, mention_limit=self.mention_limit)]
        labels = {h.label for h in hits}
        scores = {
            "profanity": round(self.profanity(text), 6),
            "blocklist": 1.0 if "blocklist" in labels else 0.0,
            "spam": SPAM_SCORE if "spam" in labels else 0.0,
        }
        return Classification(scores=scores, rules=tuple(h.rule for h in hits),
                              model_name=MODEL_NAME, model_version=self.model_version,
                              latency_ms=(time.perf_counter() - started) * 1000.0)
