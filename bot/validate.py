"""`make validate`: Rasa's own data validation, failing on any warning.

It runs the checks of `rasa data validate --fail-on-warnings` and, unlike it, fails on every
warning raised while loading the data too, with two exceptions: the warnings Rasa itself marks as
expected (rasa.utils.common.EXPECTED_WARNINGS), and "Found intent 'faq' in stories which is not
part of the domain" for the retrieval intents. Rasa 3.6 reads stories against domain.yml before the
retrieval intents of the NLU data (faq, chitchat) are merged into the domain, so rules using them
always get that warning; listing them in domain.yml instead makes the merge warn about duplicates.
"""

from __future__ import annotations

import re
import sys
import warnings

from rasa.cli.utils import _validate_domain, _validate_nlu, _validate_story_structure
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.utils.common import EXPECTED_WARNINGS
from rasa.validator import Validator

UNKNOWN_STORY_INTENT = re.compile(r"Found intent '(\w+)' in stories which is not part of the domain")


def expected(warning: warnings.WarningMessage, retrieval_intents: set[str]) -> bool:
    """Deprecations, Rasa's expected warnings, and the retrieval-intent warning explained above."""
    text = str(warning.message)
    if issubclass(warning.category, (DeprecationWarning, PendingDeprecationWarning)):
        return True
    if any(issubclass(warning.category, kind) and re.match(pattern, text) for kind, pattern in EXPECTED_WARNINGS):
        return True
    unknown = UNKNOWN_STORY_INTENT.search(text)
    return bool(unknown and unknown.group(1) in retrieval_intents)


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
    problems = [w for w in caught if not expected(w, set(domain.retrieval_intents))]
    for warning in problems:
        print(f"warning: {warning.message}", file=sys.stderr)
    if problems or not all(checks):
        print(f"validation failed: {len(problems)} warning(s), checks passed: {checks}", file=sys.stderr)
        return 1
    print("training data, domain and stories are valid: no warnings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
