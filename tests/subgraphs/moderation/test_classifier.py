"""The text classifier on small texts whose verdicts the tests state themselves."""

from __future__ import annotations

from importlib import metadata

import pytest

from subgraphs.moderation.config import ModerationSettings
from subgraphs.moderation.services.rules import normalize
from subgraphs.moderation.services.verdicts import decide_action

SETTINGS = ModerationSettings(environment="test")


def action(classifier, text: str, surface: str = "post") -> tuple[str, str | None]:
    hold, block = SETTINGS.thresholds(surface)
    return decide_action(classifier.classify(text).scores, hold=hold, block=block)


@pytest.mark.parametrize("text", [
    "Had a lovely walk in the park with my family this morning.",
    "Congratulations on the new job, you deserve it!",
    "The meeting moved to Thursday at 3pm, see you there.",
])
def test_clean_english_is_allowed(classifier, text: str) -> None:
    found = classifier.classify(text)
    assert action(classifier, text) == ("ALLOW", None)
    assert found.rules == ()
    assert found.scores["blocklist"] == 0.0 and found.scores["spam"] == 0.0


def test_obviously_profane_english_is_blocked(classifier) -> None:
    found = classifier.classify("fuck you, you worthless piece of shit")
    assert "blocklist:en" in found.rules
    assert action(classifier, "fuck you, you worthless piece of shit")[0] == "BLOCK"


def test_the_model_alone_scores_insults_without_blocklisted_words(classifier) -> None:
    # No word of this text is on a blocklist: only the model can see that it is abusive.
    text = "shut up you stupid idiot, nobody wants your crap"
    found = classifier.classify(text)
    assert found.rules == ()
    assert found.scores["profanity"] >= SETTINGS.hold_thresholds["post"]
    assert action(classifier, text)[0] in ("HOLD", "BLOCK")
    clean = classifier.classify("thank you so much for the kind words")
    assert clean.scores["profanity"] < found.scores["profanity"]


@pytest.mark.parametrize("text", [
    "أنت شرموطة",  # a blocklisted Arabic insult
    "أنتِ شَرْمُوطَة",  # the same word with diacritics
    "يا ابن الكلب",  # a blocklisted phrase
])
def test_arabic_blocklist_words_are_blocked(classifier, text: str) -> None:
    found = classifier.classify(text)
    assert "blocklist:ar" in found.rules
    assert action(classifier, text) == ("BLOCK", "BLOCKLIST")


def test_arabic_that_merely_shares_letters_is_allowed(classifier) -> None:
    # "the dog is in the garden": a word of the phrase alone is not an insult.
    for text in ("صباح الخير يا أصدقائي", "الكلب في الحديقة"):
        assert classifier.classify(text).rules == ()
        assert action(classifier, text) == ("ALLOW", None)


def test_arabic_normalisation_unifies_spellings() -> None:
    assert normalize("قحبة") == normalize("قحبه")
    assert normalize("أحمد") == normalize("احمد")


def test_a_flood_of_links_is_held_as_spam(classifier) -> None:
    text = " ".join(f"cheap followers at https://spam{i}.example.xyz/buy" for i in range(6))
    found = classifier.classify(text)
    assert "link_spam" in found.rules
    assert action(classifier, text) == ("HOLD", "SPAM")
    assert "link_spam" not in classifier.classify("my blog: https://example.org/post").rules


def test_invites_mentions_and_repetition_are_spam(classifier) -> None:
    assert "invite_link" in classifier.classify("join us at discord.gg/abcdef").rules
    mentions = " ".join(f"@user{i}" for i in range(12))
    assert "mention_flood" in classifier.classify(f"look {mentions}").rules
    assert "mention_flood" not in classifier.classify("thanks @ana and @omar").rules
    assert "repeated_text" in classifier.classify("buy " * 12).rules
    assert "repeated_text" in classifier.classify("noooooooooooooooooooooooooo").rules


def test_each_classification_names_its_model_and_version(classifier) -> None:
    found = classifier.classify("hello there")
    assert found.model_name == "alt-profanity-check"
    assert found.model_version == metadata.version("alt-profanity-check")
    assert set(found.scores) == {"profanity", "blocklist", "spam"}
    assert all(0.0 <= s <= 1.0 for s in found.scores.values())
    assert found.latency_ms > 0


def test_thresholds_are_per_surface(classifier) -> None:
    # The same link flood: blocked on profiles, held on posts, let through in messages.
    settings = ModerationSettings(
        environment="test",
        hold_thresholds={**SETTINGS.hold_thresholds, "profile": 0.5, "message": 0.95},
        block_thresholds={**SETTINGS.block_thresholds, "profile": 0.8, "message": 0.99})
    text = " ".join(f"https://spam{i}.example.xyz" for i in range(6))
    scores = classifier.classify(text).scores
    verdicts = {s: decide_action(scores, hold=settings.thresholds(s)[0],
                                 block=settings.thresholds(s)[1])[0]
                for s in ("profile", "post", "message")}
    assert verdicts == {"profile": "BLOCK", "post": "HOLD", "message": "ALLOW"}


def test_thresholds_must_cover_every_surface_in_order() -> None:
    with pytest.raises(ValueError, match="surfaces"):
        ModerationSettings(environment="test", hold_thresholds={"post": 0.5})
    with pytest.raises(ValueError, match="above its block"):
        ModerationSettings(environment="test",
                           hold_thresholds={**SETTINGS.hold_thresholds, "post": 0.99},
                           block_thresholds={**SETTINGS.block_thresholds, "post": 0.5})


def test_the_schema_enums_match_the_services() -> None:
    from subgraphs.moderation.services.reports import DECISIONS, REASONS
    from subgraphs.moderation.types.report import ModerationAction, ReportReason

    assert tuple(a.value for a in ModerationAction) == DECISIONS
    assert tuple(r.value for r in ReportReason) == REASONS
