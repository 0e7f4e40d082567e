"""Start the Rasa server the way the shop runs it: Rasa's own command line, with the action guard.

`python -m bot.server run --model ...` takes exactly the arguments of `rasa run`.
"""

from __future__ import annotations

import sys

from bot import action_guard, remote_replies


def main() -> None:
    """Install the guard around custom actions and the compiled reply check, then hand over to Rasa's command line."""
    action_guard.install()
    remote_replies.install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
