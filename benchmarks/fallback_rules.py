"""How bench-nlu judges the fallback: which predictions it takes, and how its settings are chosen.

The fallback of config.yml takes a message when (FallbackClassifier) its intent's confidence is
under `threshold` or its top intent is less than `ambiguity_threshold` ahead of the second, or when
(FamiliarityFallback) it is less like the training examples than `min_similarity`. Answering with
the out_of_scope intent handles a message as well as falling back does: a rejection at any setting.

Settings are chosen on labelled predictions (validation, or out-of-fold) by one of three rules:
- "accuracy": the best accuracy, out-of-scope counted as one more class;
- "balanced": the best mean of in-scope accuracy and out-of-scope recall;
- "budget": the best out-of-scope recall among settings that cost at most IN_SCOPE_BUDGET of
  in-scope accuracy (against answering everything). The cost is measured on all the in-scope
  sentences, so this rule leans least on a validation set's few out-of-scope ones (CLINC150's
  validation split: 100 against 3,000).
Ties go to the higher in-scope accuracy, then to the setting that takes more messages: at equal
accuracy and in-scope accuracy the extra ones are wrong answers, and the fallback's "did you mean"
serves a customer better than a wrong answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

IN_SCOPE_BUDGET = 0.005
AMBIGUITY_MARGINS = (0.0, 0.02, 0.05, 0.1)
THRESHOLDS = np.round(np.arange(0.0, 1.0, 0.01), 2)
RULES = ("accuracy", "balanced", "budget")
OUT_OF_SCOPE_LABELS = frozenset({"out_of_scope", "oos"})  # ours, CLINC150's


@dataclass(frozen=True)
class Prediction:
    """One parse as the fallback judges it: the intent (a retrieval intent's full key), its
    confidence, its lead over the second intent, and the FamiliarityFallback's score."""

    intent: str
    confidence: float
    margin: float | None = None
    familiarity: float | None = None


@dataclass(frozen=True)
class Setting:
    """A fallback setting: confidence threshold, familiarity threshold (None: off), ambiguity margin."""

    threshold: float
    min_similarity: float | None = None
    ambiguity: float = 0.0


@dataclass(frozen=True)
class Judged:
    """Labelled predictions: confidences (-1 where the intent is out_of_scope), leads over the second
    intent and familiarity scores (None: the rule ignores them), right or wrong, out of scope or not."""

    confidences: np.ndarray
    margins: np.ndarray | None
    familiarity: np.ndarray | None
    correct: np.ndarray
    is_oos: np.ndarray

    def rejected(self, setting: Setting, thresholds: np.ndarray | None = None) -> np.ndarray:
        """Which predictions the fallback takes (rows: `thresholds` in place of the setting's, if given)."""
        cut = np.asarray([setting.threshold] if thresholds is None else thresholds)[:, None]
        taken = self.confidences[None, :] < cut
        if self.margins is not None and setting.ambiguity > 0:
            taken |= (self.margins < setting.ambiguity)[None, :]
        if self.familiarity is not None and setting.min_similarity is not None:
            taken |= (self.familiarity < setting.min_similarity)[None, :]
        return taken if thresholds is not None else taken[0]

    def figures(self, setting: Setting) -> dict[str, Any]:
        """In-scope accuracy, out-of-scope recall and precision, and the setting."""
        taken = self.rejected(setting)
        ok, oos = self.correct, self.is_oos
        found: dict[str, Any] = {
            "in_scope_accuracy": round(float(np.mean(ok[~oos] & ~taken[~oos])), 4),
            "oos_recall": round(float(np.mean(taken[oos])), 4),
            "oos_precision": round(float((taken & oos).sum() / max(int(taken.sum()), 1)), 4),
            "threshold": setting.threshold,
        }
        if self.familiarity is not None:
            found["min_similarity"] = setting.min_similarity
        if self.margins is not None:
            found["ambiguity_threshold"] = setting.ambiguity
        return found

    def separation(self) -> dict[str, float]:
        """How well each score alone tells out-of-scope sentences from in-scope ones, whatever the
        threshold: the area under the ROC curve (1.0 perfect, 0.5 chance); answering out_of_scope
        counts as the lowest score."""
        from sklearn.metrics import roc_auc_score

        if self.is_oos.all() or not self.is_oos.any():
            return {}
        found = {"confidence": round(float(roc_auc_score(self.is_oos, -self.confidences)), 4)}
        if self.familiarity is not None:
            # cosine similarities lie in [-1, 1]: -2 for out_of_scope answers, 2 for a missing score
            familiarity = np.where(self.confidences < 0, -2.0, np.minimum(self.familiarity, 2.0))
            found["familiarity"] = round(float(roc_auc_score(self.is_oos, -familiarity)), 4)
        return found

    def choose(self, rule: str = "accuracy") -> Setting:
        """The setting a rule (see the module's description) picks on these predictions."""
        if rule not in RULES:
            raise ValueError(f"no rule {rule!r}: one of {', '.join(RULES)}")
        ok, oos = self.correct, self.is_oos
        answered_right = float(np.mean(ok[~oos])) if (~oos).any() else 0.0
        margins = AMBIGUITY_MARGINS if self.margins is not None else (0.0,)
        similarities: list[float | None] = [None]
        if self.familiarity is not None:
            similarities += [float(s) for s in THRESHOLDS]
        best, best_key = Setting(0.0), (-np.inf, -np.inf, -1)
        for ambiguity in margins:
            for similarity in similarities:
                taken = self.rejected(Setting(0.0, similarity, ambiguity), THRESHOLDS)
                in_scope = (
                    (~taken[:, ~oos] & ok[None, ~oos]).mean(axis=1) if (~oos).any() else np.zeros(len(THRESHOLDS))
                )
                recall = taken[:, oos].mean(axis=1) if oos.any() else np.zeros(len(THRESHOLDS))
                if rule == "accuracy":
                    score = (in_scope * (~oos).sum() + recall * oos.sum()) / len(oos)
                elif rule == "balanced":
                    score = (in_scope + recall) / 2
                else:
                    score = np.where(in_scope >= answered_right - IN_SCOPE_BUDGET - 1e-9, recall, -np.inf)
                taken_count = taken.sum(axis=1)
                for at in np.flatnonzero(score == score.max()):
                    key = (round(float(score[at]), 9), round(float(in_scope[at]), 9), int(taken_count[at]))
                    if key > best_key:
                        best, best_key = Setting(float(THRESHOLDS[at]), similarity, ambiguity), key
        return best


def prediction(parse: dict[str, Any], intent: str) -> Prediction:
    """A parse's prediction (`intent`: its name as judged, e.g. a retrieval intent's full key)."""
    ranking = [float(r["confidence"]) for r in parse.get("intent_ranking") or []]
    familiarity = parse.get("familiarity")
    return Prediction(
        intent=intent,
        confidence=float(parse["intent"]["confidence"]),
        margin=ranking[0] - ranking[1] if len(ranking) >= 2 else None,
        familiarity=None if familiarity is None else float(familiarity),
    )


def scores(values: Sequence[float | None]) -> np.ndarray | None:
    """Scores as an array, a missing one as infinity (no second intent: never ambiguous; no sentence
    feature: never unfamiliar); None when every one is missing."""
    if all(v is None for v in values):
        return None
    return np.asarray([np.inf if v is None else v for v in values], dtype=float)


def judged(predictions: Sequence[Prediction], gold: Sequence[str], confidence_only: bool = False) -> Judged:
    """Labelled predictions as the fallback sees them; `confidence_only` ignores margins and
    familiarity (so do predictions that lack them, such as the TF-IDF baseline's)."""
    return Judged(
        confidences=np.asarray([-1.0 if p.intent == "out_of_scope" else p.confidence for p in predictions]),
        margins=None if confidence_only else scores([p.margin for p in predictions]),
        familiarity=None if confidence_only else scores([p.familiarity for p in predictions]),
        correct=np.asarray([p.intent == g for p, g in zip(predictions, gold, strict=True)], dtype=bool),
        is_oos=np.asarray([g in OUT_OF_SCOPE_LABELS for g in gold], dtype=bool),
    )
