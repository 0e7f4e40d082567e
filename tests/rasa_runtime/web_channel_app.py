"""A Sanic server with our web channel (bot/channels/web.py) mounted as Rasa mounts it, and a stand-in bot.

Started by tests/rasa_runtime/test_web_channel.py as a subprocess: the channel's code is the real
one, only the assistant behind it is replaced by `reply`, which answers from the message it got,
so a test sees exactly what the channel passed on (text, conversation id, metadata).
`python -m tests.rasa_runtime.web_channel_app --port N` reads its settings from the environment.
"""

from __future__ import annotations

import argparse
import json
import logging

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.web import ShopWebInput

CARDS = {
    "type": "product_cards",
    "products": [
        {
            "id": "P00301",
            "title": "Trail Shoe",
            "buttons": [{"title": "Add", "payload": '/add_to_cart{"product_id": "P00301"}'}],
        }
    ],
}


async def reply(message: UserMessage) -> None:
    """The stand-in bot: `buttons` and `cards` send those; anything else is echoed back as JSON."""
    out = message.output_channel
    if message.text == "buttons":
        await out.send_text_with_buttons(message.sender_id, "Pick one", [{"title": "Yes", "payload": "/affirm"}])
    elif message.text == "cards":
        await out.send_custom_json(message.sender_id, {"data": CARDS})
    else:
        seen = {"text": message.text, "sender": message.sender_id, "metadata": message.metadata}
        await out.send_text_message(message.sender_id, json.dumps(seen))


def main() -> None:
    """Serve the channel until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    channel = ShopWebInput.from_credentials({"session_messages_per_minute": 3, "ip_messages_per_minute": 600})
    app = Sanic("web_channel_test")
    # mounted as rasa.core.channels.channel.register mounts it, with `reply` in place of the assistant
    app.blueprint(channel.blueprint(reply), url_prefix=f"/webhooks/{channel.url_prefix()}")
    app.run(host="127.0.0.1", port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
