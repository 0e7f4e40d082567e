"""How our own fallback components hand a message to the two-stage fallback: the `nlu_fallback`
intent leads the ranking (once), as Rasa's FallbackClassifier does it."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

FALLBACK_INTENT = "nlu_fallback"


def is_fallback(message: Message) -> bool:
    """True when an earlier component already sent the message to the fallback."""
    return (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == FALLBACK_INTENT


def fall_back(message: Message, confidence: float) -> None:
    """Make `nlu_fallback` the message's intent, with `confidence`, at the top of its ranking."""
    fallback = {INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: confidence}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != FALLBACK_INTENT]
    message.set(INTENT, fallback, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
