"""The action server registers every custom action the domain names, and nothing it cannot run."""

from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

from settings import PROJECT_ROOT


def test_the_action_server_registers_exactly_the_domains_custom_actions() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")  # what `rasa_sdk --actions actions` does; fails on a nameless action
    domain = yaml.safe_load(Path(PROJECT_ROOT / "domain.yml").read_text())
    custom = {name for name in domain["actions"] if not name.startswith("utter_")}
    assert set(executor.actions) == custom
