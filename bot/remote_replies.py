"""Check the action server's replies with a validator built once, not once per reply.

Rasa 3.6 validates every custom action's reply with `jsonschema.validate(reply, schema)`. That call
first checks the schema itself against the JSON-Schema meta-schema, which is most of its cost:
about 50 ms of CPU per custom action on our 2-core machines, more than the NLU and both policy
predictions of a turn together (measured with cProfile, see README "Speed"). The schema never
changes while the server runs, so `install()` checks it once, keeps a compiled validator and
validates each reply with it. Replies are checked exactly as strictly as before: the same schema,
the same error (with Rasa's explanation appended) for a malformed reply.
`bot/server.py` installs it before starting the Rasa server.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

FORMAT_HELP = (
    ". Failed to validate Action server response from API, make sure your response from the Action "
    f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
)


@lru_cache(maxsize=1)
def reply_validator() -> Any:
    """The validator of Rasa's action-reply schema, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_reply(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's `_validate_action_result`, with the compiled validator."""
    try:
        reply_validator().validate(result)
    except ValidationError as error:
        error.message += FORMAT_HELP
        raise
    return True


def install() -> None:
    """Replace RemoteAction's reply check (once per process)."""
    RemoteAction._validate_action_result = validate_reply
