"""The out-of-scope scoring bench-nlu reports its CLINC150 and fallback figures with, and its training-time
run."""

import argparse
import os
from pathlib import Path

import pytest
import yaml

from benchmarks.fallback_rules import IN_SCOPE_BUDGET, Prediction, Setting, judged, prediction
from benchmarks.nlu import Variant, diet_options, nlu_config, train_full_model, train_nlu


def predictions(*rows: tuple[str, float, float | None, float | None]) -> list[Prediction]:
    return [Prediction(*row) for row in rows]


def test_answering_out_of_scope_is_a_rejection_at_any_setting() -> None:
    found = judged(predictions(("greet", 0.9, 0.8, 0.9), ("out_of_scope", 0.99, 0.9, 0.9)), ["greet", "oos"])
    assert list(found.confidences) == [0.9, -1.0]
    assert list(found.rejected(Setting(0.0))) == [False, True]


def test_a_parse_gives_its_intent_its_lead_and_its_familiarity() -> None:
    parse = {
        "intent": {"name": "faq", "confidence": 0.8},
        "intent_ranking": [{"name": "faq", "confidence": 0.8}, {"name": "greet", "confidence": 0.15}],
        "familiarity": 0.71,
    }
    assert prediction(parse, "faq/returns_policy") == Prediction("faq/returns_policy", 0.8, pytest.approx(0.65), 0.71)
    assert prediction({"intent": {"name": "greet", "confidence": 0.4}}, "greet") == Prediction("greet", 0.4)


def test_the_fallback_takes_low_confidence_a_narrow_lead_and_unfamiliar_messages() -> None:
    found = judged(
        predictions(
            ("greet", 0.9, 0.8, 0.9),  # sure, clear, familiar
            ("thank", 0.4, 0.5, 0.9),  # unsure
            ("greet", 0.5, 0.05, 0.9),  # hardly ahead of the second intent
            ("greet", 0.9, 0.85, 0.3),  # unlike every training example
            ("greet", 0.9, None, None),  # no second intent, no sentence feature: never ambiguous or unfamiliar
        ),
        ["greet", "thank", "greet", "oos", "greet"],
    )
    assert list(found.rejected(Setting(0.45, 0.5, 0.1))) == [False, True, True, True, False]
    assert list(found.rejected(Setting(0.45))) == [False, True, False, False, False]
    figures = found.figures(Setting(0.45, 0.5, 0.1))
    assert figures["in_scope_accuracy"] == 0.5  # two of the four in-scope kept (and right)
    assert figures["oos_recall"] == 1.0
    assert figures["oos_precision"] == round(1 / 3, 4)
    assert (figures["min_similarity"], figures["ambiguity_threshold"]) == (0.5, 0.1)
    plain = judged(predictions(("greet", 0.9, 0.8, 0.9)), ["greet"], confidence_only=True)
    assert plain.margins is None and plain.familiarity is None
    assert "min_similarity" not in plain.figures(Setting(0.5))


def test_accuracy_picks_the_best_confidence_threshold() -> None:
    rows = [("greet", 0.9), ("greet", 0.8), ("greet", 0.7), ("greet", 0.4), ("greet", 0.35), ("out_of_scope", 0.9)]
    found = judged(predictions(*[(i, c, None, None) for i, c in rows]), ["greet"] * 3 + ["oos"] * 3)
    setting = found.choose("accuracy")
    assert 0.4 < setting.threshold <= 0.7 and setting.min_similarity is None
    assert found.figures(setting)["oos_recall"] == 1.0


def test_balanced_weighs_the_few_out_of_scope_sentences_as_much_as_the_many_in_scope() -> None:
    # eleven in-scope answers (two unsure) and one foreign sentence at 0.6: accuracy keeps every answer
    # and lets the foreign one through; balanced rejects it at the cost of the two unsure ones
    rows = [("greet", 0.9, None, None)] * 9 + [("greet", 0.5, None, None)] * 2 + [("greet", 0.6, None, None)]
    found = judged(predictions(*rows), ["greet"] * 11 + ["oos"])
    assert found.choose("accuracy").threshold <= 0.5
    balanced = found.choose("balanced")
    assert 0.6 < balanced.threshold <= 0.9
    assert found.figures(balanced)["oos_recall"] == 1.0


def test_familiarity_catches_what_confidence_cannot_and_the_settings_are_chosen_together() -> None:
    # three in-scope answers, sure and familiar; two foreign sentences answered just as surely but unlike
    # anything trained on: no confidence threshold separates them, a familiarity threshold does
    rows = [("greet", 0.95, 0.9, 0.9), ("greet", 0.9, 0.8, 0.85), ("greet", 0.92, 0.9, 0.8)]
    rows += [("greet", 0.93, 0.9, 0.4), ("greet", 0.91, 0.9, 0.5)]
    found = judged(predictions(*rows), ["greet"] * 3 + ["oos"] * 2)
    setting = found.choose("accuracy")
    assert setting.threshold == 0.0 and setting.ambiguity == 0.0
    assert setting.min_similarity is not None and 0.5 < setting.min_similarity <= 0.8
    assert found.figures(setting)["oos_recall"] == 1.0 and found.figures(setting)["in_scope_accuracy"] == 1.0
    assert judged(predictions(*rows), ["greet"] * 3 + ["oos"] * 2, confidence_only=True).choose() == Setting(0.0)
    # familiarity separates them perfectly, confidence no better than chance
    assert found.separation() == {"confidence": 0.5, "familiarity": 1.0}
    assert judged(predictions(*rows[:3]), ["greet"] * 3).separation() == {}  # nothing out of scope


def test_the_budget_rule_gives_up_no_more_in_scope_accuracy_than_its_budget() -> None:
    # 400 in-scope answers, right: two at familiarity 0.605, the others spread over 0.62-0.99; 10 foreign
    # sentences at 0.50-0.95. Catching every foreign one costs most answers; the budget allows turning
    # away two in-scope answers of 400 (0.5%), so it stops between 0.605 and 0.62
    in_scope = [("greet", 0.9, 0.9, 0.605)] * 2 + [("greet", 0.9, 0.9, 0.62 + 0.37 * i / 397) for i in range(398)]
    foreign = [("greet", 0.9, 0.9, 0.5 + 0.05 * i) for i in range(10)]
    found = judged(predictions(*in_scope, *foreign), ["greet"] * 400 + ["oos"] * 10)
    setting = found.choose("budget")
    figures = found.figures(setting)
    assert figures["in_scope_accuracy"] >= 1.0 - IN_SCOPE_BUDGET
    assert figures["oos_recall"] == 0.3  # 0.50, 0.55, 0.60 (and not one more without leaving the budget)
    with pytest.raises(ValueError, match="no rule"):
        found.choose("best")


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


def test_a_variant_may_start_from_another_configuration_file(tmp_path: Path) -> None:
    other = tmp_path / "other.yml"
    other.write_text("recipe: default.v1\nlanguage: en\npipeline: []\npolicies: []\n")
    assert Variant(config=other).config_file == other
    assert Variant(config=other).describe()["config"] == str(other)
    assert Variant().config_file.name == "config.yml" and "config" not in Variant().describe()
    with pytest.raises(ValueError, match="no configuration file"):
        Variant(config=tmp_path / "missing.yml")


def test_a_diet_left_without_a_task_is_left_out_of_the_run(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "recipe: default.v1\nlanguage: en\npipeline:\n  - name: WhitespaceTokenizer\n"
        "  - name: DIETClassifier\n    entity_recognition: false\n"
        "  - name: DIETClassifier\n    intent_classification: false\npolicies: []\n"
    )
    written = yaml.safe_load(
        nlu_config(config, overrides={"DIETClassifier": {"entity_recognition": False}}).read_text()
    )
    assert [c["name"] for c in written["pipeline"]] == ["WhitespaceTokenizer", "DIETClassifier"]
    assert written["pipeline"][1].get("intent_classification", True) is True
