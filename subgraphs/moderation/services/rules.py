"""Rules beside the model: per-language blocklists, link/invite spam, repetition, mention floods."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BLOCKLIST_DIR", "Blocklists", "RuleHit", "normalize", "spam_rules", "tokens"]

BLOCKLIST_DIR = Path(__file__).resolve().parent.parent / "data" / "blocklists"

_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")  # harakat, dagger alef, tatweel
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه",
                              "ؤ": "و", "ئ": "ي"})
_WORD = re.compile(r"\w+", re.UNICODE)
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|io|xyz|ru|top|link|click|"
                  r"biz|info|gg|me|ly)(?:/\S*)?\b", re.IGNORECASE)
_INVITE = re.compile(r"(?:discord(?:app)?\.(?:gg|com/invite)|t\.me|telegram\.me|"
                     r"chat\.whatsapp\.com|wa\.me)/\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_CHAR_RUN = re.compile(r"(.)\1{19,}", re.DOTALL)


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleHit:
    rule: str  # e.g. "blocklist:ar", "link_spam"
    label: str  # the score label it raises: "blocklist" or "spam"


def normalize(text: str) -> str:
    """Case-folded NFKC text with Arabic spelling variants unified."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _ARABIC_MARKS.sub("", folded).translate(_ARABIC_FOLD)


def tokens(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


@dataclass(frozen=True, slots=True)
class Blocklists:
    """Each language's entries, normalised: single words and multi-word phrases."""

    words: dict[str, frozenset[str]]
    phrases: dict[str, tuple[str, ...]]

    @classmethod
    def load(cls, directory: Path = BLOCKLIST_DIR) -> Blocklists:
        words: dict[str, frozenset[str]] = {}
        phrases: dict[str, tuple[str, ...]] = {}
        for path in sorted(directory.glob("*.txt")):
            entries = [" ".join(tokens(line)) for line in path.read_text(encoding="utf-8").splitlines()
                       if line.strip() and not line.lstrip().startswith("#")]
            words[path.stem] = frozenset(e for e in entries if e and " " not in e)
            phrases[path.stem] = tuple(e for e in entries if " " in e)
        assert words, f"no blocklists in {directory}"
        return cls(words=words, phrases=phrases)

    def hits(self, text: str) -> list[RuleHit]:
        found = tokens(text)
        present = set(found)
        joined = f" {' '.join(found)} "
        return [RuleHit(rule=f"blocklist:{language}", label="blocklist")
                for language in self.words
                if present & self.words[language]
                or any(f" {p} " in joined for p in self.phrases[language])]


def _repeated(found: list[str], text: str) -> bool:
    if _CHAR_RUN.search(text):
        return True
    if len(found) < 8:
        return False
    _, most = Counter(found).most_common(1)[0]
    return most / len(found) > 0.5


def spam_rules(text: str, *, link_limit: int, mention_limit: int) -> list[RuleHit]:
    """The spam rules `text` breaks on its own (repetition across texts is the verdicts' job)."""
    hits = []
    if _INVITE.search(text):
        hits.append("invite_link")
    if len(_URL.findall(text)) > link_limit:
        hits.append("link_spam")
    if len({m.casefold() for m in _MENTION.findall(text)}) > mention_limit:
        hits.append("mention_flood")
    if _repeated(tokens(text), text):
        hits.append("repeated_text")
    return [RuleHit(rule=r, label="spam") for r in hits]
