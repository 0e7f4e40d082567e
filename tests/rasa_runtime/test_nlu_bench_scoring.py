"""The out-of-scope scoring bench-nlu reports its CLINC150 and fallback figures with, and its training-time
run."""

import argparse
import os
from pathlib import Path

import pytest

from benchmarks.nlu import (
    Prediction,
    Variant,
    choose_threshold,
    choose_thresholds,
    diet_options,
    judged,
    oos_figures,
    prediction,
    rejection_confidences,
    train_full_model,
    train_nlu,
)


def test_answering_out_of_scope_is_a_rejection_at_any_threshold() -> None:
    confidences = rejection_confidences(["greet", "out_of_scope", "out_of_scope"], [0.9, 0.99, 0.2])
    assert confidences == [0.9, -1.0, -1.0]


def test_an_ambiguous_answer_is_a_rejection_at_any_threshold_as_the_fallback_classifier_makes_it() -> None:
    confidences = rejection_confidences(["greet", "thank", "greet"], [0.9, 0.5, 0.55], [0.85, 0.05, None], 0.1)
    assert confidences == [0.9, -1.0, 0.55]  # no second intent: nothing to be ambiguous with


def test_a_parse_gives_its_intent_its_lead_and_its_familiarity() -> None:
    parse = {
        "intent": {"name": "faq", "confidence": 0.8},
        "intent_ranking": [{"name": "faq", "confidence": 0.8}, {"name": "greet", "confidence": 0.15}],
        "response_selector": {"faq": {"response": {"intent_response_key": "faq/returns_policy"}}},
        "familiarity": 0.71,
    }
    assert prediction(parse) == Prediction("faq/returns_policy", 0.8, pytest.approx(0.65), 0.71)
    assert prediction({"intent": {"name": "greet", "confidence": 0.4}}) == Prediction("greet", 0.4, None, None)


def test_judging_by_the_shipped_rule_uses_the_ambiguity_margin_and_familiarity() -> None:
    predictions = [
        Prediction("greet", 0.9, 0.8, 0.9),
        Prediction("thank", 0.6, 0.02, 0.8),
        Prediction("greet", 0.9, 0.85, 0.2),
    ]
    gold = ["greet", "thank", "oos"]
    shipped = judged(predictions, gold, "shipped")
    assert shipped.confidences == [0.9, -1.0, 0.9]  # config.yml's ambiguity_threshold is 0.1
    assert shipped.correct == [True, True, False] and shipped.is_oos == [False, False, True]
    assert shipped.familiarity == [0.9, 0.8, 0.2]
    plain = judged(predictions, gold, "confidence")
    assert plain.confidences == [0.9, 0.6, 0.9] and plain.familiarity is None
    # without familiarity scores (the TF-IDF baseline) the shipped rule judges on confidence alone
    assert judged([Prediction("greet", 0.9)], ["greet"], "shipped").familiarity is None


def test_familiarity_catches_what_confidence_cannot_and_both_thresholds_are_chosen_together() -> None:
    # three in-scope answers, sure and familiar; two foreign sentences answered just as surely, but unlike
    # anything trained on: no confidence threshold separates them, a familiarity threshold does
    confidences = [0.95, 0.9, 0.92, 0.93, 0.91]
    familiarity = [0.9, 0.85, 0.8, 0.4, 0.5]
    correct = [True, True, True, False, False]
    is_oos = [False, False, False, True, True]
    assert choose_threshold(confidences, correct, is_oos) == 0.0
    threshold, similarity = choose_thresholds(confidences, correct, is_oos, familiarity)
    assert threshold == 0.0 and similarity is not None and 0.5 < similarity <= 0.8
    figures = oos_figures(confidences, correct, is_oos, threshold, familiarity, similarity)
    assert figures["in_scope_accuracy"] == 1.0 and figures["oos_recall"] == 1.0 and figures["oos_precision"] == 1.0
    assert figures["min_similarity"] == similarity
    # when familiarity does not help, it stays off
    assert choose_thresholds(confidences, correct, is_oos, [0.9] * 5) == (0.0, None)


def test_figures_count_out_of_scope_answers_as_rejections() -> None:
    # in-scope: right and sure, right but unsure, wrongly sent to out_of_scope; foreign: caught by the
    # out_of_scope intent, caught by the threshold, answered with confidence
    labels = ["greet", "thank", "out_of_scope", "out_of_scope", "greet", "thank"]
    confidences = rejection_confidences(labels, [0.9, 0.3, 0.95, 0.97, 0.2, 0.8])
    correct = [True, True, False, False, False, False]
    is_oos = [False, False, False, True, True, True]
    figures = oos_figures(confidences, correct, is_oos, threshold=0.5)
    assert figures["in_scope_accuracy"] == round(1 / 3, 4)
    assert figures["oos_recall"] == round(2 / 3, 4)
    # four rejected (unsure thank, wrong out_of_scope, two foreign), two of them truly foreign
    assert figures["oos_precision"] == 0.5


def test_threshold_is_the_one_with_the_best_accuracy_on_validation() -> None:
    confidences = [0.9, 0.8, 0.7, 0.4, 0.35, -1.0]
    correct = [True, True, True, False, False, False]
    is_oos = [False, False, False, True, True, True]
    threshold = choose_threshold(confidences, correct, is_oos)
    assert 0.4 < threshold <= 0.7
    assert oos_figures(confidences, correct, is_oos, threshold)["oos_recall"] == 1.0


def test_balanced_threshold_weighs_the_few_out_of_scope_sentences_as_much_as_the_many_in_scope() -> None:
    # eleven in-scope answers (two unsure) and one foreign sentence at 0.6: plain accuracy keeps every
    # answer and lets the foreign one through; balanced rejects it at the cost of the two unsure ones
    confidences = [0.9] * 9 + [0.5, 0.5, 0.6]
    correct = [True] * 11 + [False]
    is_oos = [False] * 11 + [True]
    assert choose_threshold(confidences, correct, is_oos) <= 0.5
    balanced = choose_threshold(confidences, correct, is_oos, balanced=True)
    assert 0.6 < balanced <= 0.9
    assert oos_figures(confidences, correct, is_oos, balanced)["oos_recall"] == 1.0


def test_a_failed_training_run_is_reported_with_rasas_own_words(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("recipe: default.v1\nlanguage: en\npipeline:\n  - name: NoSuchComponent\npolicies: []\n")
    with pytest.raises(RuntimeError) as failure:
        train_full_model(config, tmp_path)
    assert "NoSuchComponent" in str(failure.value)
    assert not (tmp_path / "model" / "assistant.tar.gz").exists()


def test_nlu_training_uses_its_own_empty_cache_and_gives_the_callers_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    callers = tmp_path / "callers-cache"
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(callers))
    config = tmp_path / "config.yml"
    config.write_text(
        "recipe: default.v1\nlanguage: en\npipeline:\n  - name: WhitespaceTokenizer\n"
        "  - name: KeywordIntentClassifier\npolicies: []\n"
    )
    data = tmp_path / "nlu.yml"
    data.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n'
        "- intent: goodbye\n  examples: |\n    - farewell\n"
    )
    model, seconds = train_nlu(config, data, tmp_path / "out")
    assert Path(model).is_file() and seconds > 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == [Path(model).name]  # its cache is gone
    assert not callers.exists() or not any(callers.iterdir())  # the caller's cache was not used
    assert os.environ["RASA_CACHE_DIRECTORY"] == str(callers)
    config.write_text("recipe: default.v1\nlanguage: en\npipeline:\n  - name: NoSuchComponent\npolicies: []\n")
    with pytest.raises(Exception, match="NoSuchComponent"):
        train_nlu(config, data, tmp_path / "failed")
    assert os.environ["RASA_CACHE_DIRECTORY"] == str(callers)


def test_a_variant_changes_diet_over_the_runs_settings_and_swaps_the_featurizer() -> None:
    assert Variant().overrides() == {}
    variant = Variant(tuned_layers=4, diet={"epochs": 20, "number_of_transformer_layers": 0})
    overrides = variant.overrides({"entity_recognition": False, "epochs": 40})
    assert overrides["DIETClassifier"] == {"entity_recognition": False, "epochs": 20, "number_of_transformer_layers": 0}
    swapped = overrides["bot.minilm_features.CompiledLanguageModelFeaturizer"]
    assert swapped == {"name": "bot.minilm_features.IntentTunedFeaturizer", "tuned_layers": 4}
    assert variant.describe()["diet_options_changed"] == {"epochs": 20, "number_of_transformer_layers": 0}
    assert variant.describe()["featurizer"] == "intent-tuned MiniLM, top 4 layers, 3 passes"  # the default


def test_a_variant_sets_the_tuning_passes_only_when_asked_and_only_with_a_tuned_featurizer() -> None:
    variant = Variant(tuned_layers=6, tuning_passes=4)
    swapped = variant.overrides()["bot.minilm_features.CompiledLanguageModelFeaturizer"]
    assert swapped == {"name": "bot.minilm_features.IntentTunedFeaturizer", "tuned_layers": 6, "epochs": 4}
    assert variant.overrides()["bot.minilm_features.IntentTunedFeaturizer"] == {"tuned_layers": 6, "epochs": 4}
    assert "DIETClassifier" not in variant.overrides()  # the tuning's epochs are not DIET's
    assert variant.describe()["featurizer"] == "intent-tuned MiniLM, top 6 layers, 4 passes"
    with pytest.raises(ValueError, match="tuned featurizer"):
        Variant(tuning_passes=4)
    with pytest.raises(ValueError, match="negative"):
        Variant(tuned_layers=6, tuning_passes=-1)


@pytest.mark.parametrize("text", ["epochs", "=20", "epochs=", " , "])
def test_diet_options_refuse_what_is_not_name_value(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        diet_options(text)


def test_diet_options_keep_their_types() -> None:
    options = diet_options("number_of_transformer_layers=0, embedding_dimension=128,constrain_similarities=false")
    assert options == {"number_of_transformer_layers": 0, "embedding_dimension": 128, "constrain_similarities": False}
