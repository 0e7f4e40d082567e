"""The credentials file Rasa is started with: the configured one plus the social channels switched on.

Which social channels run is decided by the settings (settings/channels.py): a channel whose
secrets are set is added here as our verified connector. The file holds no secret: each connector
reads its own from the settings when Rasa starts, so nothing secret is written to disk or printed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from settings import Settings, SettingsError

# Rasa's channel name (and webhook path /webhooks/<name>/webhook) -> our connector
CONNECTORS = {
    "facebook": "bot.channels.messenger.ShopMessengerInput",
    "telegram": "bot.channels.telegram.ShopTelegramInput",
    "twilio": "bot.channels.twilio.ShopTwilioInput",
    "slack": "bot.channels.slack.ShopSlackInput",
}


def _has_key(text: str, key: str) -> bool:
    return re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE) is not None


def effective_credentials(settings: Settings) -> Path:
    """The credentials file for Rasa: the configured one when no social channel is on, else a copy
    in the data folder with our connectors added (written afresh at every start)."""
    enabled = settings.social.enabled()
    if not enabled:
        return settings.credentials_file
    text = settings.credentials_file.read_text(encoding="utf-8")
    for name in enabled:
        if _has_key(text, name):  # two channels would answer the same webhook, one of them unverified
            raise SettingsError(
                f"{settings.credentials_file} configures Rasa's own `{name}` channel, which does not verify "
                f"its webhooks; remove it: the {name} settings switch on {CONNECTORS[name]} instead"
            )
    added = [CONNECTORS[name] for name in enabled if not _has_key(text, CONNECTORS[name])]
    lines = [text.rstrip("\n"), ""]
    if added:
        lines.append("# Added at start for the social channels switched on in the settings (docs/channels.md);")
        lines.append("# each connector reads its secrets from the settings: none is written here.")
        lines.extend(f"{connector}:" for connector in added)
    target = settings.data_dir / "credentials.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".yml.partial")
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(partial, target)
    return target
