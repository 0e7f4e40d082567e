"""`make validate`: Rasa's own data validation, failing on any warning.

It runs the checks of `rasa data validate --fail-on-warnings` and, unlike it, fails on every
warning raised while loading the data too, with two exceptions: the warnings Rasa itself marks as
expected (rasa.utils.common.EXPECTED_WARNINGS), and "Found intent 'faq' in stories which is not
part of the domain" for the retrieval intents. Rasa 3.6 reads stories against domain.yml before the
retrieval intents of the NLU data (faq, chitchat) are merged into the domain, so rules using them
always get that warning; listing them in domain.yml instead makes the merge warn about duplicates.
And a third: "The utterance 'utter_x' is not used in any story or rule" for responses our custom
actions send (named in actions/*.py) and for the questions of forms (utter_ask_<slot>): Rasa only
looks for utterances in stories and rules.
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

from rasa.cli.utils import _validate_domain, _validate_nlu, _validate_story_structure
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.utils.common import EXPECTED_WARNINGS
from rasa.validator import Validator

UNKNOWN_STORY_INTENT = re.compile(r"Found intent '(\w+)' in stories which is not part of the domain")
UNUSED_UTTERANCE = re.compile(r"The utterance '(\w+)' is not used in any story or rule")
ACTIONS_DIR = Path(__file__).resolve().parents[1] / "actions"


def utterances_sent_elsewhere(form_slots: set[str]) -> set[str]:
    """Responses named in our custom actions' code, and the forms' questions."""
    named = {m for f in ACTIONS_DIR.glob("*.py") for m in re.findall(r"[\"'](utter_\w+)[\"']", f.read_text())}
    return named | {f"utter_ask_{slot}" for slot in form_slots}


def expected(warning: warnings.WarningMessage, retrieval_intents: set[str], sent_elsewhere: set[str]) -> bool:
    """Deprecations, Rasa's expected warnings, and the two warnings explained above."""
    text = str(warning.message)
    if issubclass(warning.category, (DeprecationWarning, PendingDeprecationWarning)):
        return True
    if any(issubclass(warning.category, kind) and re.match(pattern, text) for kind, pattern in EXPECTED_WARNINGS):
        return True
    unknown = UNKNOWN_STORY_INTENT.search(text)
    unused = UNUSED_UTTERANCE.search(text)
    return bool(unknown and unknown.group(1) in retrieval_intents) or bool(unused and unused.group(1) in sent_elsewhere)


def main() -> int:
    """Validate; exit 1 on any warning or failed check."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importer = TrainingDataImporter.load_from_config("config.yml", "domain.yml", ["data"])
        domain = importer.get_domain()
        validator = Validator.from_importer(importer)
        checks = [
            _validate_domain(validator),
            _validate_nlu(validator, fail_on_warnings=True),
            _validate_story_structure(validator, max_history=None, fail_on_warnings=True),
        ]
        validator.warn_if_config_mandatory_keys_are_not_set()
    form_slots = {slot for form in domain.forms.values() for slot in form.get("required_slots", [])}
    sent_elsewhere = utterances_sent_elsewhere(form_slots)
    problems = [w for w in caught if not expected(w, set(domain.retrieval_intents), sent_elsewhere)]
    for warning in problems:
        print(f"warning: {warning.message}", file=sys.stderr)
    if problems or not all(checks):
        print(f"validation failed: {len(problems)} warning(s), checks passed: {checks}", file=sys.stderr)
        return 1
    print("training data, domain and stories are valid: no warnings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
