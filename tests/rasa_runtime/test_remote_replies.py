"""Action replies checked with the compiled validator: the same verdicts as Rasa's own check, the same
error for a malformed reply, and the schema itself checked only once per process."""

from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import remote_replies

REPLIES: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "browsing", "value": {"ids": ["P00301"]}}], "responses": [{"text": "hi"}]},
    {"events": [{"event": "bot", "text": "Here you are", "data": {"custom": {"type": "product_cards"}}}]},
    {"events": [{"event": "followup", "name": "action_listen"}], "responses": [{"custom": {"a": 1}}]},
    {"events": "not a list", "responses": []},
    {"events": [{"name": "browsing"}], "responses": []},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [], "responses": ["a bare string"]},
    {"events": [{"event": "slot", "name": 7}], "responses": []},
]


def rasa_verdict(reply: dict[str, Any]) -> bool:
    try:
        jsonschema.validate(reply, RemoteAction.action_response_format_spec())
    except jsonschema.ValidationError:
        return False
    return True


def our_verdict(action: RemoteAction, reply: dict[str, Any]) -> bool:
    try:
        return action._validate_action_result(reply)
    except jsonschema.ValidationError:
        return False


def test_the_compiled_check_agrees_with_rasas_on_good_and_malformed_replies() -> None:
    remote_replies.install()
    action = RemoteAction("action_search_products", EndpointConfig("http://127.0.0.1:1/webhook"))
    verdicts = [(our_verdict(action, reply), rasa_verdict(reply)) for reply in REPLIES]
    assert [ours for ours, _ in verdicts] == [theirs for _, theirs in verdicts]
    assert [ours for ours, _ in verdicts].count(True) == 4  # the four good replies, and only those


def test_a_malformed_reply_raises_rasas_error_with_its_explanation() -> None:
    remote_replies.install()
    action = RemoteAction("action_search_products", EndpointConfig("http://127.0.0.1:1/webhook"))
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "not a list"})


def test_the_schema_is_checked_once_however_many_replies(monkeypatch: pytest.MonkeyPatch) -> None:
    remote_replies.reply_validator.cache_clear()
    checks: list[object] = []
    validator_class = jsonschema.validators.validator_for(RemoteAction.action_response_format_spec())
    original = validator_class.check_schema
    monkeypatch.setattr(validator_class, "check_schema", lambda schema: checks.append(schema) or original(schema))
    remote_replies.install()
    action = RemoteAction("action_recommend", EndpointConfig("http://127.0.0.1:1/webhook"))
    for _ in range(5):
        assert action._validate_action_result({"events": [], "responses": []})
    assert len(checks) == 1
