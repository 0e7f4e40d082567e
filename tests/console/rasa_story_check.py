"""Read test story files with Rasa's own YAML story reader (run by the Rasa runtime's Python).

The console writes the stories; this is what `rasa test core --stories` would read from them:
the file is validated against Rasa's story schema, then parsed with the project's domain. Prints,
as JSON, whether Rasa sees each file as a test story file, every warning Rasa raised while reading
(an unknown intent, a malformed step) and each story's events.
Usage: python tests/console/rasa_story_check.py DOMAIN_FILE STORY_FILE...
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader


def _event(event: Event) -> dict[str, Any]:
    if isinstance(event, UserUttered):
        entities = [[e.get("entity"), e.get("value")] for e in event.entities]
        return {"user": event.text, "intent": event.intent.get("name"), "entities": entities}
    if isinstance(event, ActionExecuted):
        return {"action": event.action_name}
    if isinstance(event, SlotSet):
        return {"slot": event.key, "value": event.value}
    if isinstance(event, ActiveLoop):
        return {"active_loop": event.name}
    return {"other": type(event).__name__}


def main() -> None:
    domain = Domain.load(sys.argv[1])
    report: dict[str, Any] = {}
    for path in sys.argv[2:]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            steps = YAMLStoryReader(domain, source_name=path).read_from_file(path)
        report[path] = {
            "is_test_stories_file": YAMLStoryReader.is_test_stories_file(path),
            "warnings": [str(w.message) for w in caught if issubclass(w.category, UserWarning)],
            "stories": [{"name": step.block_name, "events": [_event(e) for e in step.events]} for step in steps],
        }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
