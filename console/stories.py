""" "Save as test story": a conversation turned into a Rasa end-to-end test story, personal data made up.

The story is what `make test-stories` (`rasa test core --stories tests/stories`) runs: each customer
message as `user:` text with its entities in inline markup and its `intent:` (the annotator's
correction from the NLU inbox when there is one), each action the assistant ran, the slots that
influence the conversation and the forms' loops. Emails, phones, names, order numbers and addresses
are replaced by made-up values, in the text and in the entities, so the file can be committed.
Bot texts are left out: the `action:` steps already say what the assistant did.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from console.errors import Refusal
from console.masking import PERSONAL_ENTITIES, mask_text
from console.nlu import MARKUP, SAMPLE_VALUES
from console.tracker import TrackerEvent, mapping

# made-up values for personal entities, and for the placeholders the masking leaves in free text
MADE_UP_ENTITIES = {**SAMPLE_VALUES, "person": "Alex", "address": "1 Example Street", "postcode": "AB1 2CD"}
MADE_UP_PLACEHOLDERS = {
    "email": SAMPLE_VALUES["email"],
    "phone": SAMPLE_VALUES["phone"],
    "order": SAMPLE_VALUES["order_id"],
    "name": SAMPLE_VALUES["name"],
    "address": MADE_UP_ENTITIES["address"],
    "card": "4242 4242 4242 4242",
}
PLACEHOLDER = re.compile(r"\[(email|phone|order|name|address|card)(?: ending \d{4})?\]")
# the assistant's own bookkeeping: Rasa adds these itself when it runs a test story
SKIPPED_ACTIONS = frozenset({"action_listen", "action_session_start", "action_unlikely_intent"})
INTENT_PREFIX = "/"  # a message starting with it is a button payload, which Rasa reads as an intent, not text


class StoryError(Refusal):
    """A story that cannot be saved; `status` is the HTTP status the console answers with."""


class NoCustomerMessages(StoryError):
    """The conversation holds nothing the customer said."""


class StoryFolderError(StoryError):
    """The test story folder is missing or cannot be written to."""

    status = 409


class StoryExists(StoryError):
    """A story of this conversation was saved before (files are never overwritten)."""

    status = 409


@dataclass(frozen=True)
class Correction:
    """An annotator's approved reading of one customer message (from the NLU inbox)."""

    intent: str
    example: str  # inline markup, `do you sell [boots](product)`


@dataclass(frozen=True)
class TestStory:
    """A conversation as a test story: its name, its file name and its YAML."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    file_name: str
    yaml_text: str
    user_steps: int
    corrected: int


class _Literal(str):
    """Text written as a YAML literal block (`user: |`), as our hand-written stories are."""


class _StoryDumper(yaml.SafeDumper):  # type: ignore[misc]  # yaml is untyped here
    pass


_StoryDumper.add_representer(
    _Literal, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")
)


def _one_line(text: str, strip: bool = True) -> str:
    """Printable text on one line: control characters, line breaks and runs of spaces become single spaces."""
    spaced = re.sub(r"\s+", " ", "".join(ch if ch.isprintable() else " " for ch in text))
    return spaced.strip() if strip else spaced


def _made_up(text: str, names: Sequence[str]) -> str:
    """Free text with personal data replaced by made-up values and no brackets left that Rasa would read as markup."""
    # the customer's own brackets become parentheses: every bracket left afterwards is the masking's placeholder
    plain = _one_line(text, strip=False).replace("[", "(").replace("]", ")")
    return PLACEHOLDER.sub(lambda m: MADE_UP_PLACEHOLDERS[m.group(1)], mask_text(plain, names))


def _entity_text(entity: str, value: str, names: Sequence[str]) -> str:
    if entity in PERSONAL_ENTITIES:
        return MADE_UP_ENTITIES.get(entity, "Alex")
    return _made_up(value, names)


def _markup_from_parse(text: str, entities: Iterable[Mapping[str, Any]], names: Sequence[str]) -> str:
    """The message in inline markup, `do you sell [running shoes](product)`, personal data made up everywhere."""
    spans = sorted(
        (int(e["start"]), int(e["end"]), str(e["entity"]))
        for e in entities
        if isinstance(e.get("start"), int) and isinstance(e.get("end"), int) and _entity_name(e.get("entity"))
    )
    pieces, position = [], 0
    for start, end, entity in spans:
        if start < position or end > len(text) or start >= end:
            continue  # overlapping or out-of-range spans (two extractors, one span) cannot be written inline
        value = _entity_text(entity, text[start:end], names)
        pieces.append(_made_up(text[position:start], names) + (f"[{value}]({entity})" if value else ""))
        position = end
    return _one_line("".join(pieces) + _made_up(text[position:], names))


def _markup_from_example(example: str, names: Sequence[str]) -> str:
    """An annotator's example with any personal data that slipped in made up as well."""
    pieces, position = [], 0
    for match in MARKUP.finditer(example):
        value = _entity_text(match.group(2), match.group(1), names)
        pieces.append(_made_up(example[position : match.start()], names) + f"[{value}]({match.group(2)})")
        position = match.end()
    return _one_line("".join(pieces) + _made_up(example[position:], names))


def _entity_name(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[A-Za-z_][\w-]*", value) is not None


def _name(value: Any) -> str | None:
    """An intent, action, slot or form name as Rasa writes them; anything else (hostile input) is left out."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][\w./-]{0,254}", value):
        return value
    return None


def _slot_value(value: Any, names: Sequence[str]) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str):
        return _made_up(value, names)
    return None  # lists and objects: not needed to predict the next action, and may hold anything


def _user_step(event: TrackerEvent, correction: Correction | None, names: Sequence[str]) -> dict[str, Any]:
    parse = mapping(event.data.get("parse_data"))
    raw_text = str(event.data.get("text") or "")
    intent = _name(correction.intent if correction else mapping(parse.get("intent")).get("name"))
    step: dict[str, Any] = {}
    if correction is not None:
        text = _markup_from_example(correction.example, names)
    elif raw_text.strip().startswith(INTENT_PREFIX):
        text = ""  # a button's payload: the intent says it all
    else:
        entities = [e for e in parse.get("entities") or [] if isinstance(e, dict)]
        text = _markup_from_parse(raw_text, entities, names)
    if text and not text.startswith(INTENT_PREFIX):
        step["user"] = _Literal(text + "\n")
    if intent:
        step["intent"] = intent
    return step


def story_steps(
    events: Sequence[TrackerEvent],
    corrections: Mapping[int, Correction],
    influential_slots: frozenset[str],
    names: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The story's steps from the tracker events, in order (the tracker's own undo events applied)."""
    steps: list[dict[str, Any]] = []
    user_positions: list[int] = []
    for event in events:
        data = event.data
        kind = data.get("event", event.type_name)
        if kind == "user":
            step = _user_step(event, corrections.get(event.id), names)
            if step:
                user_positions.append(len(steps))
                steps.append(step)
        elif kind == "action":
            name = _name(data.get("name"))
            if name and name not in SKIPPED_ACTIONS:
                steps.append({"action": name})
        elif kind == "slot":
            name = _name(data.get("name"))
            if name in influential_slots:
                steps.append({"slot_was_set": [{name: _slot_value(data.get("value"), names)}]})
        elif kind == "active_loop":
            loop = data.get("name")
            if loop is None or _name(loop):
                steps.append({"active_loop": loop})
        elif kind == "rewind" and user_positions:
            # Rasa forgets the last customer message and what followed (the two-stage fallback asks again)
            del steps[user_positions.pop() :]
        elif kind == "undo":
            for index in range(len(steps) - 1, -1, -1):
                if "action" in steps[index]:
                    del steps[index]
                    break
    return steps


def story_file_name(sender_id: str, started_at: dt.datetime) -> str:
    """`test_console_<date>_<hash>.yml`: Rasa's test story prefix, no trace of the sender id (it may be a phone)."""
    digest = hashlib.sha256(sender_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"test_console_{started_at:%Y%m%d}_{digest}.yml"


def build_story(
    sender_id: str,
    started_at: dt.datetime,
    channel: str | None,
    events: Sequence[TrackerEvent],
    corrections: Mapping[int, Correction],
    influential_slots: frozenset[str] = frozenset(),
    names: Sequence[str] = (),
) -> TestStory:
    """The conversation as a test story; raises NoCustomerMessages when the customer said nothing."""
    steps = story_steps(events, corrections, influential_slots, names)
    user_steps = [s for s in steps if "intent" in s or "user" in s]
    if not user_steps:
        raise NoCustomerMessages("This conversation has no customer messages, so there is no story to test.")
    file_name = story_file_name(sender_id, started_at)
    intents = list(dict.fromkeys(str(s["intent"]) for s in user_steps if "intent" in s))
    summary = ", ".join(intents[:4]) + (", ..." if len(intents) > 4 else "")
    name = f"console {file_name[len('test_console_') : -len('.yml')]}: {summary or 'customer messages'}"
    corrected = sum(1 for event in events if event.id in corrections and event.type_name == "user")
    header = (
        f"# Saved from the staff console: a {_one_line(channel or 'unknown channel')} conversation of "
        f"{started_at:%Y-%m-%d}. Personal data is replaced by made-up values.\n"
        "# The actions are what the assistant did then: correct any it got wrong before committing.\n"
    )
    body = yaml.dump(
        {"version": "3.1", "stories": [{"story": name, "steps": steps}]},
        Dumper=_StoryDumper,
        sort_keys=False,
        allow_unicode=True,
        width=10_000,
    )
    return TestStory(name, file_name, header + body, len(user_steps), corrected)


def influential_slots(domain_file: Path) -> frozenset[str]:
    """The domain's slots that influence the conversation (the only ones a test story needs)."""
    domain: Any = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    slots = domain.get("slots") or {}
    return frozenset(
        name
        for name, spec in slots.items()
        if isinstance(spec, dict) and spec.get("influence_conversation", spec.get("type") != "any") is not False
    )


def write_story(folder: Path, story: TestStory) -> Path:
    """Write the story as a new file in `folder`, whole or not at all; never replaces an existing file."""
    if not folder.is_dir():
        raise StoryFolderError(
            f"The test story folder {folder} does not exist: create it, or start the console with "
            "--test-stories pointing at an existing folder."
        )
    target = folder / story.file_name
    if target.exists():
        raise StoryExists(
            f"This conversation is already saved as {story.file_name}; delete that file to save it again."
        )
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=folder, prefix=".story-", suffix=".tmp", delete=False
        ) as handle:
            temporary = Path(handle.name)
            handle.write(story.yaml_text)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, target)  # fails if the name exists, so a concurrent save cannot be overwritten
    except FileExistsError:
        raise StoryExists(
            f"This conversation is already saved as {story.file_name}; delete that file to save it again."
        ) from None
    except OSError as error:
        raise StoryFolderError(f"The test story folder {folder} cannot be written to: {error.strerror}.") from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    return target
