"""Sentiment on every message: negative / neutral / positive with a score, and frustration signals.

Three classifiers, chosen by `encoder`:
- "featurizer" (config.yml's): the sentiment head of bot.minilm_features.IntentTunedFeaturizer, which
  tunes the pipeline's MiniLM on intents and on these labelled examples together (its own
  `sentiment_files`) and puts each message's probabilities on it; no extra work per message;
- "pipeline": a multinomial logistic regression on the frozen MiniLM features of
  bot.minilm_features.CompiledLanguageModelFeaturizer (the sentence vector and the mean of the token
  vectors); no extra work per message;
- "fine_tuned": MiniLM's top layers fine-tuned with a linear head (bot/minilm_tuning.py) in a MiniLM
  of its own: its forward pass per message costs about as much as the featurizer's.
Each is trained at `rasa train` time from our labelled examples (`training_file`, plus optional
corpora given by path in `extra_training_files`; the featurizer's from its `sentiment_files`) and
persisted inside the Rasa model as arrays (README "Benchmarks" compares them).

Frustration signals come from the text itself: shouting, repeated punctuation, profanity,
"third time I ask", threats to leave. The result is added to the parse output as `sentiment`
({"label", "score", "scores", "frustration"}); the action server copies it into slots.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.minilm_features import TUNED_SENTIMENT, CompiledLanguageModelFeaturizer
from bot.minilm_tuning import TunedMiniLM, load_minilm, read_state
from bot.sentiment_examples import LABELS, read_examples

logger = logging.getLogger(__name__)

SENTIMENT = "sentiment"
WEIGHTS_FILE = "sentiment.npz"
ENCODER_FILE = "sentiment_encoder.npz"
ENCODERS = ("featurizer", "pipeline", "fine_tuned")
NEUTRAL = {"negative": 0.0, "neutral": 1.0, "positive": 0.0}

PROFANITY = re.compile(
    r"\b(damn|dammit|crap|crappy|wtf|ffs|bloody|hell|shit\w*|bs|fuck\w*|f\*+k\w*|piss(ed)?|bollocks|arse|ass|"
    r"sucks?|rubbish)\b",
    re.IGNORECASE,
)
REPEATED_REQUEST = re.compile(
    r"\b((second|2nd|third|3rd|fourth|4th|fifth|5th|\w+teenth|hundredth|umpteenth) time|"
    r"(asked|told|written|emailed|called|messaged) (you )?(\w+ )?(times|twice|again)|"
    r"again and again|(still|yet) (no|not|nothing|waiting)|keep (asking|telling|writing|waiting)|"
    r"how many times)\b",
    re.IGNORECASE,
)
THREAT_TO_LEAVE = re.compile(
    r"\b(never (shop|order|buy|use|come)\w*|(close|delete|cancel) my account|take my (business|money) elsewhere|"
    r"(last|final) time i (shop|order|buy)\w*|shop(ping)? (somewhere|elsewhere)|go(ing)? to (a )?competitors?|"
    r"(leave|report you|report this|chargeback|bad review|trading standards|my lawyer|sue you))\b",
    re.IGNORECASE,
)
REPEATED_PUNCTUATION = re.compile(r"[!?]{2,}")
LETTERS = re.compile(r"[A-Za-z]{3,}")


def frustration_signals(text: str) -> list[str]:
    """Which frustration signals the text shows (empty when none)."""
    signals = []
    words = LETTERS.findall(text)
    if len(words) >= 2 and sum(w.isupper() for w in words) / len(words) >= 0.6:
        signals.append("shouting")
    if REPEATED_PUNCTUATION.search(text):
        signals.append("repeated_punctuation")
    if PROFANITY.search(text):
        signals.append("profanity")
    if REPEATED_REQUEST.search(text):
        signals.append("repeated_request")
    if THREAT_TO_LEAVE.search(text):
        signals.append("threat_to_leave")
    return signals


# Signals that say the customer is not neutral, whichever way: "third time I ask", "I'll shop
# elsewhere", swearing, capitals (repeated punctuation alone also comes with delight: "thanks!!")
NOT_NEUTRAL_SIGNALS = frozenset({"repeated_request", "threat_to_leave", "profanity", "shouting"})


def label_of(scores: dict[str, float], signals: list[str]) -> str:
    """The sentiment label: the likeliest, except that a message with a not-neutral frustration
    signal takes the likelier of negative and positive instead of neutral."""
    label = max(scores, key=lambda name: scores[name])
    if label == "neutral" and NOT_NEUTRAL_SIGNALS.intersection(signals):
        label = "negative" if scores.get("negative", 0.0) >= scores.get("positive", 0.0) else "positive"
    return label


def sentence_vector(message: Message) -> np.ndarray | None:
    """The message's MiniLM sentence vector next to the mean of its token vectors."""
    sequence, sentence = message.get_dense_features(TEXT)
    if sequence is None or sentence is None:
        return None
    return np.concatenate([np.asarray(sentence.features).ravel(), np.asarray(sequence.features).mean(axis=0)])


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class SentimentAnalyzer(GraphComponent):
    """Adds `sentiment` to every parsed message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Where the labelled examples are, the features model (as the pipeline's), which classifier."""
        return {
            "training_file": "bot/sentiment_data/train.yml",
            "extra_training_files": [],
            "model_weights": None,
            "sentence_pooling": "cls",  # as the pipeline's featurizer pools (bot/minilm_features.py)
            "encoder": "pipeline",
            "regularization": 1.0,  # "pipeline": the logistic regression's C
            # "fine_tuned": how many of MiniLM's top layers learn, for how long
            "trainable_layers": 2,
            "epochs": 2,
            "learning_rate": 5e-5,
            "batch_size": 32,
            "max_length": 64,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when a labelled file changes (Rasa does not see them as training data)."""
        digest = hashlib.sha256()
        for name in [config.get("training_file"), *(config.get("extra_training_files") or [])]:
            path = Path(str(name))
            digest.update(str(name).encode())
            digest.update(path.read_bytes() if path.is_file() else b"missing")
        return digest.hexdigest()

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> None:
        if config.get("encoder", "pipeline") not in ENCODERS:
            raise ValueError(
                f"SentimentAnalyzer encoder must be one of {', '.join(ENCODERS)}, not {config['encoder']!r}"
            )
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._execution_context = execution_context
        # what training (or loading) produced: the head on the pipeline's features, or the fine-tuned encoder
        self._weights: dict[str, np.ndarray] | None = None
        self._encoder: TunedMiniLM | None = None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentimentAnalyzer:
        """A new, untrained component."""
        return cls(config, model_storage, resource, execution_context)

    def featurize(self, texts: list[str]) -> list[np.ndarray | None]:
        """MiniLM features of texts, made exactly as in the pipeline (whitespace tokens, LM featurizer);
        None for a text without tokens."""
        messages = [Message(data={TEXT: text}) for text in texts]
        tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
        tokenizer.process(messages)
        lm_config = {
            **CompiledLanguageModelFeaturizer.get_default_config(),
            "model_name": "bert",
            "model_weights": self._config["model_weights"],
            "sentence_pooling": self._config.get("sentence_pooling", "cls"),
        }
        featurizer = CompiledLanguageModelFeaturizer(lm_config, self._execution_context)
        featurizer.process_training_data(TrainingData(messages))  # batches of 64; `process` goes one by one
        vectors: list[np.ndarray | None] = [sentence_vector(m) for m in messages]
        return vectors

    def _new_encoder(self) -> TunedMiniLM:
        return TunedMiniLM(
            *load_minilm(str(self._config["model_weights"])),
            trainable_layers=int(self._config["trainable_layers"]),
            classes=len(LABELS),
            max_length=int(self._config["max_length"]),
            purpose="sentiment fine-tuning",
        )

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the classifier on the labelled examples."""
        if self._config.get("encoder") == "featurizer":
            # the featurizer before this component trained the head and scored every training message
            if not any(m.get(TUNED_SENTIMENT) for m in training_data.intent_examples):
                raise ValueError(
                    "SentimentAnalyzer with encoder featurizer reports the sentiment that "
                    "bot.minilm_features.IntentTunedFeaturizer computes: put that featurizer before it, "
                    "with sentiment_files"
                )
            return self._resource
        files = [Path(self._config["training_file"]), *map(Path, self._config.get("extra_training_files") or [])]
        pairs = [pair for path in files for pair in read_examples(path)]
        if not pairs:
            raise ValueError(f"SentimentAnalyzer has no labelled examples in {', '.join(map(str, files))}")
        if self._config.get("encoder") == "fine_tuned":
            return self._fine_tune(pairs)
        return self._fit_on_pipeline_features(pairs, training_data)

    def _fine_tune(self, pairs: list[tuple[str, str]]) -> Resource:
        encoder = self._new_encoder()
        encoder.fit(
            [text for text, _ in pairs],
            [LABELS.index(label) for _, label in pairs],
            epochs=int(self._config["epochs"]),
            learning_rate=float(self._config["learning_rate"]),
            batch_size=int(self._config["batch_size"]),
        )
        logger.info("sentiment encoder fine-tuned on %d labelled examples", len(pairs))
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / ENCODER_FILE, **encoder.state())
        self._encoder = encoder
        return self._resource

    def _fit_on_pipeline_features(self, pairs: list[tuple[str, str]], training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        texts = [text for text, _ in pairs]
        # one of the pipeline's featurized messages, featurized again our way: they must agree, or the
        # classifier would learn on other features than it is served (e.g. another sentence_pooling)
        probe = next((m for m in training_data.intent_examples if sentence_vector(m) is not None), None)
        if probe is None:
            vectors = self.featurize(texts)
        else:
            ours, *vectors = self.featurize([str(probe.get(TEXT)), *texts])
            served = sentence_vector(probe)
            if ours is None or served is None or not np.allclose(ours, served, atol=1e-3):
                raise ValueError(
                    "SentimentAnalyzer: its MiniLM features differ from the pipeline's; give it the same "
                    "model_weights and sentence_pooling as bot.minilm_features.CompiledLanguageModelFeaturizer "
                    "(an IntentTunedFeaturizer's tuned features cannot be made here: use encoder fine_tuned)"
                )
        kept = [(vector, label) for vector, (_, label) in zip(vectors, pairs, strict=True) if vector is not None]
        features = np.stack([vector for vector, _ in kept])
        labels = np.asarray([LABELS.index(label) for _, label in kept])
        classifier = LogisticRegression(C=float(self._config["regularization"]), max_iter=3000, class_weight="balanced")
        classifier.fit(features, labels)
        weights = {"coef": classifier.coef_, "intercept": classifier.intercept_, "classes": classifier.classes_}
        logger.info("sentiment classifier trained on %d labelled examples", len(pairs))
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / WEIGHTS_FILE, **weights)
        self._weights = weights
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentimentAnalyzer:
        """The trained component."""
        component = cls(config, model_storage, resource, execution_context)
        try:
            if config.get("encoder") == "featurizer":
                return component  # nothing of its own: the featurizer holds the head
            with model_storage.read_from(resource) as directory:
                if config.get("encoder") == "fine_tuned":
                    state = read_state(directory / ENCODER_FILE)
                    component._encoder = component._new_encoder()
                    component._encoder.restore(state)
                else:
                    with np.load(directory / WEIGHTS_FILE) as stored:
                        component._weights = {
                            name: np.asarray(stored[name]) for name in ("coef", "intercept", "classes")
                        }
        except (ValueError, OSError, KeyError) as error:
            logger.error("sentiment classifier unreadable (%s): every message will be neutral", error)
            component._weights = component._encoder = None
        return component

    def predict(self, texts: list[str]) -> list[dict[str, float]]:
        """Label probabilities for texts (featurized here; used by the benchmark). Not for encoder
        "featurizer", whose scores only the pipeline's featurizer makes."""
        if self._config.get("encoder") == "featurizer":
            raise ValueError("encoder featurizer: the pipeline's IntentTunedFeaturizer scores the texts")
        if self._encoder is not None:
            return [self._named(row) for row in self._encoder.predict(texts)]
        return [NEUTRAL if vector is None else self.scores(vector) for vector in self.featurize(texts)]

    @staticmethod
    def _named(probabilities: np.ndarray) -> dict[str, float]:
        return {label: float(p) for label, p in zip(LABELS, probabilities, strict=True)}

    def scores(self, vector: np.ndarray) -> dict[str, float]:
        """Probability of each label for one feature vector."""
        assert self._weights is not None
        logits = self._weights["coef"] @ vector + self._weights["intercept"]
        logits = logits - logits.max()
        probabilities = np.exp(logits) / np.exp(logits).sum()
        return {LABELS[int(c)]: float(p) for c, p in zip(self._weights["classes"], probabilities, strict=False)}

    def _scores_of(self, messages: list[Message]) -> list[dict[str, float]]:
        """Each message's label probabilities (neutral for an empty one or an untrained component)."""
        texts = [str(message.get(TEXT) or "") for message in messages]
        if self._config.get("encoder") == "featurizer":
            tuned = [message.get(TUNED_SENTIMENT) if text.strip() else None
                     for message, text in zip(messages, texts, strict=True)]  # fmt: skip
            return [scores or NEUTRAL for scores in tuned]
        if self._encoder is not None:
            spoken = [i for i, text in enumerate(texts) if text.strip()]
            rows = self._encoder.predict([texts[i] for i in spoken]) if spoken else np.zeros((0, len(LABELS)))
            found = dict(zip(spoken, rows, strict=True))
            return [self._named(found[i]) if i in found else NEUTRAL for i in range(len(texts))]
        vectors = [sentence_vector(m) if self._weights is not None and t.strip() else None
                   for m, t in zip(messages, texts, strict=True)]  # fmt: skip
        return [NEUTRAL if vector is None else self.scores(vector) for vector in vectors]

    def process(self, messages: list[Message]) -> list[Message]:
        """Annotate each message with its sentiment and frustration signals."""
        for message, scores in zip(messages, self._scores_of(messages), strict=True):
            signals = frustration_signals(message.get(TEXT) or "")
            label = label_of(scores, signals)
            result = {
                "label": label,
                "score": round(scores[label], 4),
                "scores": {name: round(value, 4) for name, value in scores.items()},
                "frustration": signals,
            }
            message.set(SENTIMENT, result, add_to_output=True)
        return messages
