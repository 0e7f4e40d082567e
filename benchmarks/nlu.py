"""`make bench-nlu`: how well and how fast the assistant understands, each figure next to a baseline.

1. Our data, k-fold cross-validation: intent macro-F1 (retrieval intents as their full
   `faq/...` keys), entity F1 (type and span; relaxed = overlapping span), the top confusions;
   baseline: TF-IDF (words and character n-grams) with logistic regression on the same folds.
2. CLINC150 (../shared/data/clinc150): the pipeline trained on the 15,000 in-scope training
   sentences and the 100 out-of-scope ones as intent out_of_scope (--clinc-in-scope-only: without);
   the fallback's settings (confidence threshold, ambiguity margin, familiarity threshold:
   benchmarks/fallback_rules.py) chosen on the validation split (in-scope and out-of-scope); test
   in-scope accuracy, out-of-scope recall and precision, training time; same baseline. The cv run
   chooses config.yml's fallback settings the same way, on out-of-fold predictions.
3. Sentiment on GoEmotions' group test split (../shared/data/goemotions) and on our held-out shop
   messages: negative-vs-positive and 3-class macro-F1 of the component trained on our examples,
   and on ours plus GoEmotions' training split, next to VADER (lexicon baseline).
4. Parse latency of the trained assistant, one message at a time: p50/p95, next to the MiniLM
   featurizer alone.
5. Training time of the full assistant (NLU and dialogue, `rasa train` as `make train` runs it) from
   an empty training cache, next to Rasa's `rasa init` configuration on the same data and domain.

Figures go to reports/nlu.json. Sections: --only cv,clinc,sentiment,latency,training. Nothing is
downloaded.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import json
import logging
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import yaml

from benchmarks.fallback_rules import IN_SCOPE_BUDGET, Prediction, Setting, judged, prediction
from bot.sentiment_examples import LABELS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared" / "data"
REPORTS = Path(os.environ.get("SHOP_REPORTS_DIR", PROJECT_ROOT / "reports"))


def macro_f1(gold: list[str], predicted: list[str], labels: list[str] | None = None) -> float:
    """Unweighted mean of per-label F1 (labels: the gold labels unless given)."""
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, labels=labels or sorted(set(gold)), average="macro", zero_division=0))


def tfidf_baseline(train_texts: list[str], train_labels: list[str]) -> Callable[[list[str]], list[tuple[str, float]]]:
    """Words and character n-grams, TF-IDF, logistic regression: (label, probability) per text."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2)
    features = hstack([words.fit_transform(train_texts), chars.fit_transform(train_texts)]).tocsr()
    model = LogisticRegression(C=10.0, max_iter=3000).fit(features, train_labels)

    def predict(texts: list[str]) -> list[tuple[str, float]]:
        probabilities = model.predict_proba(hstack([words.transform(texts), chars.transform(texts)]).tocsr())
        best = probabilities.argmax(axis=1)
        return [(str(model.classes_[i]), float(p[i])) for i, p in zip(best, probabilities, strict=True)]

    return predict


# ---------------------------------------------------------------------------------------------- Rasa helpers


def nlu_config(
    config_file: Path, drop: frozenset[str] = frozenset(), overrides: dict[str, dict[str, Any]] | None = None
) -> Path:
    """A copy of config.yml without the policies (and without the named components), in a temp file."""
    text = config_file.read_text(encoding="utf-8")
    for variable in ("MINILM_MODEL_DIR", "SHOP_CATALOG_FILE"):
        text = text.replace("${" + variable + "}", os.environ.get(variable, ""))
    config = yaml.safe_load(text)
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] not in drop]
    for component in config["pipeline"]:
        component.update((overrides or {}).get(component["name"], {}))
    # a DIET left with neither task (the entity DIET where a run asks for no entities) is left out
    config["pipeline"] = [
        c for c in config["pipeline"] if c.get("intent_classification", True) or c.get("entity_recognition", True)
    ]
    config["policies"] = []
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
        yaml.safe_dump(config, handle)
    return Path(handle.name)


@dataclass(frozen=True)
class Variant:
    """What a cv or clinc run changes in config.yml's pipeline (nothing by default): another
    configuration file in its place (`config`), the intent-tuned MiniLM featurizer with
    `tuned_layers` layers tuned (for `tuning_passes` passes over the examples; 0: the featurizer's
    default), and DIET options."""

    tuned_layers: int = 0
    diet: dict[str, Any] = field(default_factory=dict)
    tuning_passes: int = 0
    config: Path | None = None

    @property
    def config_file(self) -> Path:
        """The configuration the run starts from."""
        return self.config or PROJECT_ROOT / "config.yml"

    def __post_init__(self) -> None:
        if self.tuned_layers < 0 or self.tuning_passes < 0:
            raise ValueError("tuned layers and tuning passes cannot be negative")
        if self.tuning_passes and not self.tuned_layers:
            raise ValueError("tuning passes need a tuned featurizer: give the tuned layers too")
        if self.config and not self.config.is_file():
            raise ValueError(f"no configuration file {self.config}")

    def overrides(self, diet_defaults: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """nlu_config overrides: DIET's (run defaults first, the variant's over them) and the featurizer's."""
        found: dict[str, dict[str, Any]] = {}
        if diet_defaults or self.diet:
            found["DIETClassifier"] = {**(diet_defaults or {}), **self.diet}
        if self.tuned_layers:
            tuning = {
                "tuned_layers": self.tuned_layers,
                **({"epochs": self.tuning_passes} if self.tuning_passes else {}),
            }
            found["bot.minilm_features.CompiledLanguageModelFeaturizer"] = {
                "name": "bot.minilm_features.IntentTunedFeaturizer",
                **tuning,
            }
            found["bot.minilm_features.IntentTunedFeaturizer"] = tuning
        return found

    def describe(self) -> dict[str, Any]:
        """How the run's pipeline differs from config.yml, for the report."""
        from bot.minilm_features import IntentTunedFeaturizer

        passes = self.tuning_passes or IntentTunedFeaturizer.get_default_config()["epochs"]
        return {
            **({"config": str(self.config)} if self.config else {}),
            "featurizer": f"intent-tuned MiniLM, top {self.tuned_layers} layers, {passes} passes"
            if self.tuned_layers
            else "the configuration's",
            "diet_options_changed": dict(sorted(self.diet.items())),
        }


def train_nlu(config: Path, data_file: Path, out: Path) -> tuple[str, float]:
    """Train an NLU model from an empty training cache (an earlier run's tuned layers would make the
    training time meaningless); returns its path and the seconds it took."""
    import rasa.model_training

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as cache, mock.patch.dict(os.environ, {"RASA_CACHE_DIRECTORY": cache}):
        started = time.perf_counter()
        model = rasa.model_training.train_nlu(str(config), str(data_file), str(out))
        seconds = time.perf_counter() - started
    if not model:
        raise RuntimeError(f"training on {data_file} produced no model")
    return model, seconds


def parse_all(model: str, texts: list[str]) -> list[dict[str, Any]]:
    """Parse every text with a loaded model."""
    from rasa.core.agent import Agent

    agent = Agent.load(model)

    async def run() -> list[dict[str, Any]]:
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(run())


def write_predictions(name: str, texts: dict[str, list[list[str]]], predicted: dict[str, list[Prediction]]) -> None:
    """Every prediction with its sentence and gold label into reports/<name>, to study other rules
    without retraining (the run's figures are in nlu.json)."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    rows = {
        split: [
            {"text": text, "gold": gold, **vars(p)} for (text, gold), p in zip(pairs, predicted[split], strict=True)
        ]
        for split, pairs in texts.items()
    }
    (REPORTS / name).write_text(json.dumps(rows) + "\n", encoding="utf-8")


def full_intent(parse: dict[str, Any]) -> str:
    """The predicted intent, with the response key for retrieval intents (faq/shipping_policy)."""
    name = str((parse.get("intent") or {}).get("name"))
    selector = (parse.get("response_selector") or {}).get(name)
    if selector:
        return str(selector["response"].get("intent_response_key") or name)
    return name


# ---------------------------------------------------------------------------------------------- 1. our data


def our_training_data() -> Any:
    """Our NLU examples and the retrieval intents' responses (data/nlu, data/responses)."""
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(PROJECT_ROOT / "data" / "nlu")).merge(load_data(str(PROJECT_ROOT / "data" / "responses")))


FALLBACKS = frozenset({"FallbackClassifier", "bot.unknown_words.UnknownWordsFallback"})
# the familiarity component stays in, scoring every parse without acting on it
SCORE_ONLY = {"bot.familiarity.FamiliarityFallback": {"min_similarity": None}}


def clinc_out_of_scope(split: str) -> list[str]:
    """CLINC150's out-of-scope sentences of a split (questions no shop assistant should answer)."""
    data = json.loads((SHARED / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    return [text for text, _ in data[f"oos_{split}"]]


def cross_validation(folds: int, out: Path, variant: Variant) -> dict[str, Any]:
    """k-fold CV of the NLU pipeline on our training data, and the baseline on the same folds.

    The fallbacks are left out so that every prediction keeps its confidence; the out-of-fold
    confidences, with CLINC150's out-of-scope validation sentences parsed by every fold's model,
    then choose the FallbackClassifier threshold config.yml uses."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    data = our_training_data()
    examples = list(data.intent_examples)
    labels = [m.get_full_intent() for m in examples]
    # sentiment is measured in its own section and changes no intent or entity: left out to save time
    config = nlu_config(
        variant.config_file,
        drop=FALLBACKS | {"bot.sentiment.SentimentAnalyzer"},
        overrides={**variant.overrides(), **SCORE_ONLY},
    )
    foreign = clinc_out_of_scope("val")
    gold, base, texts = [], [], []
    ours: list[Prediction] = []
    foreign_predictions: list[Prediction] = []
    gold_entities: list[set[tuple[str, int, int]]] = []
    our_entities: list[set[tuple[str, int, int]]] = []
    seconds = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=7)
    for fold, (train_idx, test_idx) in enumerate(splitter.split(examples, labels), start=1):
        train = TrainingData([examples[i] for i in train_idx], responses=data.responses)
        test = [examples[i] for i in test_idx]
        data_file = out / f"fold{fold}.yml"
        RasaYAMLWriter().dump(data_file, train)
        print(f"  fold {fold}/{folds}: training on {len(train_idx)} examples", flush=True)
        model, took = train_nlu(config, data_file, out / f"fold{fold}")
        seconds.append(took)
        parses = parse_all(model, [m.get("text") for m in test] + foreign)
        parses, foreign_parses = parses[: len(test)], parses[len(test) :]
        foreign_predictions += [prediction(p, full_intent(p)) for p in foreign_parses]
        gold += [m.get_full_intent() for m in test]
        texts += [m.get("text") for m in test]
        ours += [prediction(p, full_intent(p)) for p in parses]
        for message, parse in zip(test, parses, strict=True):
            gold_entities.append({(e["entity"], e["start"], e["end"]) for e in message.get("entities") or []})
            our_entities.append({(e["entity"], e["start"], e["end"]) for e in parse.get("entities") or []})
        baseline = tfidf_baseline([examples[i].get("text") for i in train_idx], [labels[i] for i in train_idx])
        base += [label for label, _ in baseline([m.get("text") for m in test])]
        print(
            f"    intent accuracy so far {np.mean([g == o.intent for g, o in zip(gold, ours, strict=True)]):.3f}",
            flush=True,
        )
    intents = [p.intent for p in ours]
    strict = entity_f1(gold_entities, our_entities, relaxed=False)
    relaxed = entity_f1(gold_entities, our_entities, relaxed=True)
    confusions = Counter((g, o) for g, o in zip(gold, intents, strict=True) if g != o).most_common(10)
    # out of scope: our out_of_scope examples and the foreign sentences; answering with the
    # out_of_scope intent is handling them as well as falling back is
    foreign_gold = ["oos"] * len(foreign_predictions)
    write_predictions(
        "cv_predictions.json",
        {"out_of_fold": [[t, g] for t, g in zip(texts, gold, strict=True)],
         "clinc_oos_val": [[t, "oos"] for t in foreign * folds]},
        {"out_of_fold": ours, "clinc_oos_val": foreign_predictions},
    )  # fmt: skip
    shipped = judged(ours + foreign_predictions, gold + foreign_gold)
    classifier = shipped_settings("FallbackClassifier")
    configured = Setting(
        float(classifier["threshold"]),
        shipped_settings("bot.familiarity.FamiliarityFallback").get("min_similarity"),
        float(classifier.get("ambiguity_threshold", 0.0)),
    )
    return {
        "folds": folds,
        **variant.describe(),
        "examples": len(examples),
        "intents": len(set(labels)),
        "intent_macro_f1": round(macro_f1(gold, intents), 4),
        "intent_accuracy": round(float(np.mean([g == o for g, o in zip(gold, intents, strict=True)])), 4),
        "baseline_tfidf_macro_f1": round(macro_f1(gold, base), 4),
        "baseline_tfidf_accuracy": round(float(np.mean([g == b for g, b in zip(gold, base, strict=True)])), 4),
        "entity_f1_strict": strict,
        "entity_f1_relaxed": relaxed,
        "top_confusions": [{"gold": g, "predicted": o, "count": n} for (g, o), n in confusions],
        "fallback_threshold": {
            "out_of_scope_sentences": f"{gold.count('out_of_scope')} ours + {len(foreign)} CLINC150 oos_val "
            f"(parsed by each of the {folds} fold models)",
            "rule": "accuracy: FallbackClassifier threshold and ambiguity_threshold, FamiliarityFallback "
            "min_similarity chosen together (benchmarks/fallback_rules.py)",
            "chosen": shipped.figures(shipped.choose("accuracy")),
            "within_budget": shipped.figures(shipped.choose("budget")),
            "as_configured": shipped.figures(configured),
            "auroc": shipped.separation(),
        },
        "training_seconds_per_fold": round(statistics.fmean(seconds), 1),
    }


def entity_f1(gold: list[set[tuple[str, int, int]]], found: list[set[tuple[str, int, int]]], relaxed: bool) -> float:
    """Micro F1 of entities: same type and span (relaxed: same type, overlapping span)."""
    true_positive = false_positive = false_negative = 0
    for expected, predicted in zip(gold, found, strict=True):

        def matches(a: tuple[str, int, int], pool: set[tuple[str, int, int]]) -> bool:
            if not relaxed:
                return a in pool
            return any(a[0] == b[0] and a[1] < b[2] and b[1] < a[2] for b in pool)

        true_positive += sum(matches(p, expected) for p in predicted)
        false_positive += sum(not matches(p, expected) for p in predicted)
        false_negative += sum(not matches(e, predicted) for e in expected)
    precision = true_positive / max(true_positive + false_positive, 1)
    recall = true_positive / max(true_positive + false_negative, 1)
    return round(2 * precision * recall / max(precision + recall, 1e-9), 4)


# ---------------------------------------------------------------------------------------------- 2. CLINC150


def clinc(out: Path, epochs: int, oos_train: bool, variant: Variant) -> dict[str, Any]:
    """The pipeline and the baseline on CLINC150 (full), threshold chosen on validation.

    Like our own assistant, which learns an out_of_scope intent from examples, both are trained on
    the in-scope training sentences plus CLINC's 100 out-of-scope training sentences as intent
    out_of_scope (Larson et al.'s "oos-train" setting); a prediction of out_of_scope is a rejection.
    `oos_train=False` trains on in-scope sentences only, rejection by threshold alone."""
    data = json.loads((SHARED / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    train = data["train"] + ([[text, "out_of_scope"] for text, _ in data["oos_train"]] if oos_train else [])
    lines = ['version: "3.1"', "nlu:"]
    by_intent: dict[str, list[str]] = {}
    for text, intent in train:
        by_intent.setdefault(intent, []).append(text)
    for intent, texts in sorted(by_intent.items()):
        lines.append(f"- intent: {intent}\n  examples: |")
        lines += [f"    - {' '.join(t.split())}" for t in texts]
    data_file = out / "clinc_train.yml"
    data_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = nlu_config(
        variant.config_file,
        drop=FALLBACKS | {"bot.sentiment.SentimentAnalyzer", "bot.shop_entities.ShopEntityExtractor",
                          "bot.retrieval.GatedResponseSelector", "EntitySynonymMapper", "bot.input_guard.InputGuard"},
        overrides={**variant.overrides({"entity_recognition": False, "epochs": epochs}), **SCORE_ONLY},
    )  # fmt: skip
    print(f"  training on {len(train)} CLINC150 sentences ({epochs} epochs)", flush=True)
    model, seconds = train_nlu(config, data_file, out / "clinc")

    def ours(texts: list[str]) -> list[Prediction]:
        return [prediction(p, full_intent(p)) for p in parse_all(model, texts)]

    def baseline_predictions(texts: list[str]) -> list[Prediction]:
        return [Prediction(label, confidence) for label, confidence in baseline(texts)]

    splits = {"validation": data["val"] + data["oos_val"], "test": data["test"] + data["oos_test"]}
    print("  evaluating on validation and test", flush=True)
    started = time.perf_counter()
    baseline = tfidf_baseline([t for t, _ in train], [i for _, i in train])
    baseline_seconds = time.perf_counter() - started
    predicted = {name: ours([text for text, _ in split]) for name, split in splits.items()}
    write_predictions("clinc_predictions.json", splits, predicted)
    gold = {name: [label for _, label in split] for name, split in splits.items()}
    return {
        "train_sentences": len(train),
        "out_of_scope_training": f"{len(data['oos_train'])} oos_train sentences as intent out_of_scope"
        if oos_train
        else "none (threshold only)",
        "test": f"{len(data['test'])} in-scope + {len(data['oos_test'])} out-of-scope",
        "pipeline": {
            **fallback_figures(predicted, gold),
            "training_seconds": round(seconds, 1),
            "epochs": epochs,
            **variant.describe(),
        },
        "baseline_tfidf": {
            **fallback_figures({n: baseline_predictions([t for t, _ in split]) for n, split in splits.items()}, gold),
            "training_seconds": round(baseline_seconds, 1),
        },
    }


def fallback_figures(predicted: dict[str, list[Prediction]], gold: dict[str, list[str]]) -> dict[str, Any]:
    """Test figures with the fallback set on validation (benchmarks/fallback_rules.py): config.yml's
    fallback (confidence threshold, ambiguity margin, familiarity threshold, chosen together) by
    each rule, accuracy first; and the confidence threshold alone, as in the runs before familiarity."""
    validation, test = judged(predicted["validation"], gold["validation"]), judged(predicted["test"], gold["test"])
    plain_validation = judged(predicted["validation"], gold["validation"], confidence_only=True)
    plain_test = judged(predicted["test"], gold["test"], confidence_only=True)
    return {
        "rule": "accuracy: the best validation accuracy, out-of-scope counted as a class (as in every run)",
        **test.figures(validation.choose("accuracy")),
        f"within_budget_{IN_SCOPE_BUDGET}": test.figures(validation.choose("budget")),
        "with_balanced_threshold": test.figures(validation.choose("balanced")),
        "confidence_only": plain_test.figures(plain_validation.choose("accuracy")),
        "confidence_only_within_budget": plain_test.figures(plain_validation.choose("budget")),
        "test_auroc": test.separation(),
    }


# ---------------------------------------------------------------------------------------------- 3. sentiment


def goemotions(split: str, limit: int | None = None) -> list[tuple[str, str]]:
    """Single-label negative / neutral / positive rows of a GoEmotions group split."""
    from bot.sentiment_examples import read_examples

    pairs = read_examples(SHARED / "goemotions" / "group" / f"{split}.tsv")
    if limit and len(pairs) > limit:
        pairs = random.Random(7).sample(pairs, limit)
    return pairs


@functools.cache
def shipped_settings(prefix: str) -> dict[str, Any]:
    """The settings in config.yml (with the launcher's variables filled in; read once) of the pipeline
    component whose name starts with `prefix`, its name included."""
    config = yaml.safe_load(nlu_config(PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    return dict(next(c for c in config["pipeline"] if c["name"].startswith(prefix)))


FEATURIZER = "bot.minilm_features."
# the intent-and-sentiment tuning measured when config.yml's featurizer does not tune (its own settings win)
JOINT_TUNING = {"tuned_layers": 6, "epochs": 4, "sentiment_files": ["bot/sentiment_data/train.yml"]}


def sentiment_component(out: Path, extra: list[str], encoder: str, **overrides: Any) -> Any:
    """A SentimentAnalyzer with its own classifier ("pipeline": on frozen MiniLM features, as
    bot.minilm_features.CompiledLanguageModelFeaturizer makes them with config.yml's pooling;
    "fine_tuned": its own MiniLM), trained like `rasa train` does on our examples plus extra files."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.sentiment import SentimentAnalyzer

    storage_dir = Path(tempfile.mkdtemp(dir=out))
    featurizer = shipped_settings(FEATURIZER)
    config = {
        **SentimentAnalyzer.get_default_config(),
        "model_weights": featurizer["model_weights"],
        "sentence_pooling": featurizer["sentence_pooling"],
        "training_file": str(PROJECT_ROOT / "bot" / "sentiment_data" / "train.yml"),
        "extra_training_files": extra,
        "encoder": encoder,
        **overrides,
    }
    context = ExecutionContext(GraphSchema({}), "bench")
    component = SentimentAnalyzer.create(config, LocalModelStorage(storage_dir), Resource("sentiment"), context)
    component.train(TrainingData())
    return component


def joint_tuned_sentiment(out: Path, extra: list[str]) -> Callable[[list[str]], list[dict[str, float]]]:
    """The intent-tuned featurizer with config.yml's settings (MiniLM tuned on our intents and labelled
    sentiment together, plus the extra labelled files; JOINT_TUNING where config.yml does not tune)
    trained on our NLU data as `rasa train` trains it; scores texts through its sentiment head."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.minilm_features import TUNED_SENTIMENT, IntentTunedFeaturizer
    from bot.sentiment import NEUTRAL

    settings = {key: value for key, value in shipped_settings(FEATURIZER).items() if key != "name"}
    config = {**IntentTunedFeaturizer.get_default_config(), **JOINT_TUNING, **settings}
    config["sentiment_files"] = [str(PROJECT_ROOT / name) for name in config["sentiment_files"]] + extra
    context = ExecutionContext(GraphSchema({}), "bench")
    storage = LocalModelStorage(Path(tempfile.mkdtemp(dir=out)))
    featurizer = IntentTunedFeaturizer.create(config, storage, Resource("featurizer"), context)
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    data = our_training_data()
    tokenizer.process_training_data(data)
    featurizer.train(data)

    def predict(texts: list[str]) -> list[dict[str, float]]:
        messages = [Message(data={"text": text}) for text in texts]
        tokenizer.process(messages)
        featurizer.process_training_data(TrainingData(messages))  # batches of 64
        return [m.get(TUNED_SENTIMENT) or NEUTRAL for m in messages]

    return predict


def sentiment_scores(
    gold: list[str], predicted_scores: list[dict[str, float]], texts: list[str] | None = None
) -> dict[str, float]:
    """3-class macro-F1 (labels as the component gives them, frustration signals included, when the
    texts are given), and negative-vs-positive macro-F1 on the non-neutral examples (argmax of the two)."""
    from bot.sentiment import frustration_signals, label_of

    signals = [frustration_signals(t) for t in texts] if texts is not None else [[] for _ in predicted_scores]
    three = [label_of(s, found) for s, found in zip(predicted_scores, signals, strict=True)]
    polar = [(g, "negative" if s["negative"] >= s["positive"] else "positive")
             for g, s in zip(gold, predicted_scores, strict=True) if g != "neutral"]  # fmt: skip
    return {
        "negative_vs_positive_macro_f1": round(macro_f1([g for g, _ in polar], [p for _, p in polar]), 4),
        "three_class_macro_f1": round(macro_f1(gold, three, list(LABELS)), 4),
    }


def vader_scores(texts: list[str]) -> list[dict[str, float]]:
    """VADER's compound score mapped to the three labels (the usual ±0.05 cut-offs)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    out = []
    for text in texts:
        scores = analyzer.polarity_scores(text)
        compound = scores["compound"]
        label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        out.append({"negative": scores["neg"], "neutral": 0.0, "positive": scores["pos"]} | {label: 2.0})
    return out


# With GoEmotions' thousands of rows the classifier learns from the general language of Reddit comments:
# every transformer layer takes part (two reach 0.876 negative-vs-positive macro-F1, six 0.906) and one
# pass over the data is enough. Our 930 shop messages alone: two layers, three passes.
GOEMOTIONS_FINE_TUNING = {"trainable_layers": 6, "epochs": 1}
OURS_FINE_TUNING = {"trainable_layers": 2, "epochs": 3}


def sentiment(out: Path, goemotions_limit: int) -> dict[str, Any]:
    """Three classifiers, two training sets each, against VADER, on GoEmotions test and our held-out
    shop messages: the sentiment head of MiniLM tuned on our intents and sentiment together
    ("joint_tuned", `encoder: featurizer`), the logistic regression on frozen features ("frozen",
    `encoder: pipeline`) and a MiniLM of its own fine-tuned on sentiment alone ("fine_tuned"; its
    layers and passes above, config.yml's learning rate)."""
    from bot.sentiment_examples import read_examples

    test_sets = {
        "goemotions_test": goemotions("test"),
        "shop_heldout": read_examples(PROJECT_ROOT / "bot" / "sentiment_data" / "shop_eval.yml"),
    }
    extra_file = out / "goemotions_train.yml"
    extra = goemotions("train", goemotions_limit)
    extra_file.write_text(yaml.safe_dump({"examples": [{"text": t, "label": lab} for t, lab in extra]}), "utf-8")
    models: dict[str, tuple[Callable[[list[str]], list[dict[str, float]]], float]] = {}
    for data_name, files in (("ours", []), ("ours+goemotions", [str(extra_file)])):
        print(f"  training sentiment: {data_name} joint_tuned (MiniLM on our intents and sentiment)", flush=True)
        started = time.perf_counter()
        models[f"{data_name} joint_tuned"] = (joint_tuned_sentiment(out, files), time.perf_counter() - started)
        for encoder, label in (("pipeline", "frozen"), ("fine_tuned", "fine_tuned")):
            name = f"{data_name} {label}"
            overrides = {} if encoder != "fine_tuned" else GOEMOTIONS_FINE_TUNING if files else OURS_FINE_TUNING
            print(f"  training sentiment: {name} {overrides or ''}", flush=True)
            started = time.perf_counter()
            component = sentiment_component(out, files, encoder, **overrides)
            models[name] = (component.predict, time.perf_counter() - started)
    featurizer = shipped_settings(FEATURIZER)
    result: dict[str, Any] = {
        "goemotions_train_used": len(extra),
        "shipped_encoder": shipped_settings("bot.sentiment.SentimentAnalyzer").get("encoder"),
        "joint_tuning": {key: featurizer.get(key, value) for key, value in JOINT_TUNING.items()},
        "fine_tuning": OURS_FINE_TUNING,
        "fine_tuning_with_goemotions": GOEMOTIONS_FINE_TUNING,
    }
    for set_name, pairs in test_sets.items():
        texts, gold = [t for t, _ in pairs], [lab for _, lab in pairs]
        figures = {"examples": len(pairs), "vader": sentiment_scores(gold, vader_scores(texts))}
        for name, (predict, _) in models.items():
            figures[name] = sentiment_scores(gold, predict(texts), texts)
        result[set_name] = figures
        print(f"  {set_name}: {json.dumps(figures)}", flush=True)
    result["training_seconds"] = {name: round(seconds, 1) for name, (_, seconds) in models.items()}
    return result


# ---------------------------------------------------------------------------------------------- 4. latency


def latency(messages: int) -> dict[str, Any]:
    """Parse latency of the trained assistant, one message at a time, next to the MiniLM featurizer
    alone: Rasa's eager LanguageModelFeaturizer (the baseline) and our compiled one."""
    from rasa.core.agent import Agent
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.message import Message
    from rasa.utils.log_utils import configure_structlog

    from bot.minilm_features import CompiledLanguageModelFeaturizer

    # logging as `make run` serves (SHOP_LOG_LEVEL's default INFO): unconfigured, Rasa's structlog
    # would print every parse result, which no server does
    configure_structlog(logging.INFO)
    model_file = Path(os.environ["RASA_MODEL_FILE"])
    everything = [m.get("text") for m in our_training_data().intent_examples]
    random.Random(7).shuffle(everything)
    # a running server has seen many messages: 100 others first warm up the graphs (TensorFlow traces
    # a function again for input shapes it has not seen), then the measured ones
    warm_up, texts = everything[:100], everything[100 : 100 + messages]
    agent = Agent.load(str(model_file))
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    config = {**LanguageModelFeaturizer.get_default_config(), "model_weights": os.environ["MINILM_MODEL_DIR"]}
    context = ExecutionContext(GraphSchema({}), "bench")

    async def parse_each() -> list[float]:
        timings = []
        for text in texts:
            started = time.perf_counter()
            await agent.parse_message(text)
            timings.append(time.perf_counter() - started)
        return timings

    def featurize_each(featurizer: LanguageModelFeaturizer) -> list[float]:
        warm_up = Message(data={"text": "warm up"})
        tokenizer.process([warm_up])
        featurizer.process([warm_up])
        timings = []
        for text in texts:
            message = Message(data={"text": text})
            started = time.perf_counter()
            tokenizer.process([message])
            featurizer.process([message])
            timings.append(time.perf_counter() - started)
        return timings

    def summary(values: list[float]) -> dict[str, float]:
        return {"p50_ms": round(float(np.percentile(values, 50)) * 1000, 2),
                "p95_ms": round(float(np.percentile(values, 95)) * 1000, 2)}  # fmt: skip

    async def warm() -> None:
        for text in warm_up:
            await agent.parse_message(text)

    asyncio.run(warm())
    whole = summary(asyncio.run(parse_each()))
    eager = summary(featurize_each(LanguageModelFeaturizer(config, context)))
    compiled = summary(featurize_each(CompiledLanguageModelFeaturizer(config, context)))
    return {
        "messages": len(texts),
        "warm_up_messages": len(warm_up),
        "parse": whole,
        "featurizer_alone_rasa_eager": eager,
        "featurizer_alone_compiled": compiled,
        "compiled_speedup_p95": round(eager["p95_ms"] / max(compiled["p95_ms"], 1e-9), 2),
    }


# ----------------------------------------------------------------------------------------- 5. training time


def train_full_model(config: Path, out: Path) -> float:
    """`rasa train` of the whole assistant with `config`, from an empty training cache; its seconds."""
    from devstack.training import rasa_train_command

    command = rasa_train_command(Path(sys.executable).parent / "rasa", out / "model")
    command[command.index("--config") + 1] = str(config)
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(out / "cache")}
    log = out / "train.log"
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as handle:
        code = subprocess.run(command, env=env, cwd=PROJECT_ROOT, stdout=handle, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - started
    if code != 0 or not (out / "model" / "assistant.tar.gz").exists():
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"rasa train with {config} failed (exit {code}):\n{tail}")
    return seconds


def training(out: Path) -> dict[str, Any]:
    """Full training time of our assistant and of `rasa init`'s configuration, each from an empty cache."""
    import rasa

    # the configuration Rasa suggests for a new assistant (what `rasa init` trains with): sparse
    # features, DIET, ResponseSelector, UnexpecTED and TED at 100 epochs each
    baseline_config = Path(rasa.__file__).parent / "engine" / "recipes" / "config_files" / "default_config.yml"
    figures = {}
    for name, config in (("ours", PROJECT_ROOT / "config.yml"), ("baseline_rasa_init_config", baseline_config)):
        print(f"  rasa train, {name}", flush=True)
        (out / name).mkdir()
        seconds = train_full_model(config, out / name)
        size = (out / name / "model" / "assistant.tar.gz").stat().st_size
        figures[name] = {"seconds": round(seconds, 1), "model_mb": round(size / 1e6, 1)}
    return {
        **figures,
        "data": "data/ and domain.yml, NLU and dialogue; empty training cache for each",
        "ours_vs_baseline_time": round(figures["ours"]["seconds"] / figures["baseline_rasa_init_config"]["seconds"], 2),
    }


def diet_options(text: str) -> dict[str, Any]:
    """--diet's value: DIETClassifier options as `name=value,name=value` (values read as YAML scalars,
    so numbers and booleans keep their type; no quotes to survive make and the shell)."""
    options: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, value = item.partition("=")
        if not equals or not name.strip() or not value.strip():
            raise argparse.ArgumentTypeError(f"{item!r} is not name=value (e.g. number_of_transformer_layers=0)")
        options[name.strip()] = yaml.safe_load(value.strip())
    if not options:
        raise argparse.ArgumentTypeError("no DIETClassifier options given (e.g. number_of_transformer_layers=0)")
    return options


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="cv,clinc,sentiment,latency,training")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--clinc-epochs", type=int, default=40)
    parser.add_argument(
        "--clinc-in-scope-only", action="store_true", help="train without CLINC's out-of-scope training sentences"
    )
    parser.add_argument(
        "--tuned-layers",
        type=int,
        default=0,
        help="cv and clinc with the intent-tuned MiniLM featurizer, this many layers tuned (0: config.yml's)",
    )
    parser.add_argument(
        "--tuning-passes",
        type=int,
        default=0,
        help="with --tuned-layers: passes of the tuning over the examples (0: the featurizer's default)",
    )
    parser.add_argument(
        "--diet",
        type=diet_options,
        default={},
        help="cv and clinc with these DIETClassifier options changed: number_of_transformer_layers=0,epochs=20",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="cv and clinc with this configuration file in place of config.yml"
    )
    parser.add_argument("--goemotions-limit", type=int, default=16000)
    parser.add_argument("--latency-messages", type=int, default=300)
    args = parser.parse_args()
    try:
        variant = Variant(args.tuned_layers, args.diet, args.tuning_passes, args.config)
    except ValueError as error:
        parser.error(str(error))
    sections = set(args.only.split(","))
    out_file = REPORTS / "nlu.json"
    report: dict[str, Any] = json.loads(out_file.read_text()) if out_file.exists() else {}
    report.update({
        "benchmark": "nlu",
        "machine": {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "ran_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    })  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        steps: dict[str, Callable[[], dict[str, Any]]] = {
            "cv": lambda: cross_validation(args.folds, out, variant),
            "clinc": lambda: clinc(out, args.clinc_epochs, not args.clinc_in_scope_only, variant),
            "sentiment": lambda: sentiment(out, args.goemotions_limit),
            "latency": lambda: latency(args.latency_messages),
            "training": lambda: training(out),
        }
        for name, step in steps.items():
            if name in sections:
                print(f"==> {name}", flush=True)
                started = time.perf_counter()
                report[name] = {**step(), "section_seconds": round(time.perf_counter() - started, 1)}
                REPORTS.mkdir(parents=True, exist_ok=True)
                out_file.write_text(json.dumps(report, indent=2) + "\n")
                print(json.dumps(report[name], indent=2), flush=True)
    print(f"\nfigures written to {out_file}")


if __name__ == "__main__":
    main()
