"""The credentials file the run command gives Rasa (devstack/channels.py): the configured channels
plus the social channels switched on, read by Rasa's own loader into our verified connectors."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.run import create_http_input_channels

from bot.channels.messenger import ShopMessengerInput
from bot.channels.slack import ShopSlackInput
from bot.channels.telegram import ShopTelegramInput
from bot.channels.twilio import ShopTwilioInput
from devstack.channels import effective_credentials
from devstack.training import training_fingerprint
from settings import SettingsError, load_settings
from tests.rasa_runtime.test_channel_replies import ALL


def settings_for(tmp_path: Path, credentials: str, **values: str) -> tuple[dict[str, str], Path]:
    source = tmp_path / "credentials.yml"
    source.write_text(credentials)
    env = {"SHOP_SETTINGS_FILE": "", "SHOP_DATA_DIR": str(tmp_path / "data"), "RASA_CREDENTIALS_FILE": str(source)}
    return {**env, **values}, source


def test_without_social_channels_rasa_gets_the_configured_file(tmp_path: Path) -> None:
    env, source = settings_for(tmp_path, "rest:\n")
    assert effective_credentials(load_settings(env)) == source
    assert not (tmp_path / "data" / "credentials.yml").exists()


def test_the_channels_switched_on_are_added_without_their_secrets_and_rasa_builds_ours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, _ = settings_for(tmp_path, "# ours\nrest:\n", **ALL)
    written = effective_credentials(load_settings(env))
    assert written == tmp_path / "data" / "credentials.yml"
    text = written.read_text()
    assert text.startswith("# ours\nrest:\n")
    assert not [value for key, value in ALL.items() if ("SECRET" in key or "TOKEN" in key) and value in text]
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # the connectors read their secrets from the settings, as in Rasa's process
    channels = create_http_input_channels(None, str(written))
    assert sorted(type(channel).__name__ for channel in channels) == sorted(
        ["RestInput", "ShopMessengerInput", "ShopTelegramInput", "ShopTwilioInput", "ShopSlackInput"]
    )
    by_type = {type(channel): channel for channel in channels}
    # the webhook paths Rasa derives, /webhooks/<name>/webhook, keep Rasa's channel names
    names = [by_type[kind].url_prefix() for kind in (ShopMessengerInput, ShopTelegramInput, ShopTwilioInput)]
    assert [*names, by_type[ShopSlackInput].url_prefix()] == ["facebook", "telegram", "twilio", "slack"]


def test_rasas_unverified_connector_for_a_channel_switched_on_is_refused(tmp_path: Path) -> None:
    env, _ = settings_for(tmp_path, "rest:\ntelegram:\n  access_token: x\n", **ALL)
    with pytest.raises(SettingsError, match="Rasa's own `telegram` channel"):
        effective_credentials(load_settings(env))


def test_a_connector_in_the_credentials_without_its_settings_does_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_SETTINGS_FILE", "")
    for key in ALL:
        monkeypatch.delenv(key, raising=False)
    connectors = [ShopTwilioInput, ShopTelegramInput, ShopMessengerInput, ShopSlackInput]
    for connector, label in zip(connectors, ["Twilio", "Telegram", "Messenger", "Slack"], strict=True):
        with pytest.raises(ValueError, match=f"{label} .*SHOP_{label.upper()}_"):
            connector.from_credentials(None)


def test_editing_a_connector_does_not_retrain_the_model(tmp_path: Path) -> None:
    for name in ("config.yml", "domain.yml", "data/nlu.yml", "bot/component.py", "bot/channels/telegram.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"# {name}\n")
    lock = tmp_path / "rasa.lock"
    lock.write_text("rasa==3.6.21\n")
    before = training_fingerprint("/models/minilm", lock, root=tmp_path)
    (tmp_path / "bot" / "channels" / "telegram.py").write_text("# a connector changed\n")
    (tmp_path / "bot" / "channels" / "slack.py").write_text("# a connector added\n")
    assert training_fingerprint("/models/minilm", lock, root=tmp_path) == before
    (tmp_path / "bot" / "component.py").write_text("# an NLU component changed\n")
    assert training_fingerprint("/models/minilm", lock, root=tmp_path) != before
