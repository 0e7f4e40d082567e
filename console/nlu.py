"""The NLU inbox's rules: what counts as training data already, Rasa's inline entity markup, and the YAML export.

Approved examples are written into the existing `data/nlu/*.yml` files, into the block of their
intent, as plain lines appended to that block, so `git diff` shows exactly the new examples and
nothing else moves (no YAML round trip, which would reformat the files).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from console.masking import PERSONAL_ENTITIES, mask_text

NEW_INTENTS_FILE = "annotated.yml"  # intents that have no block yet go here, in data/nlu/
MARKUP = re.compile(r"\[([^\[\]\(\)]+)\]\(([A-Za-z_][\w-]*)\)")
INTENT_LINE = re.compile(r"^- intent:\s*(\S+)\s*$")
EXAMPLE_LINE = re.compile(r"^(\s+)- ")
MAX_EXAMPLE_LENGTH = 500


class InvalidAnnotation(ValueError):
    """An annotation the inbox cannot accept; the message says why."""


def normalise(text: str) -> str:
    """How texts compare: inline markup removed, case and spacing ignored."""
    return " ".join(MARKUP.sub(lambda m: m.group(1), text).lower().split())


@dataclass(frozen=True)
class TrainingData:
    """The NLU training examples in data/nlu/, the intents and entities the assistant knows."""

    examples: frozenset[str]  # normalised texts
    intent_files: dict[str, Path]
    intents: tuple[str, ...]
    entities: tuple[str, ...]


def load_training_data(data_dir: Path, domain_file: Path) -> TrainingData:
    """Read data/nlu/*.yml and domain.yml."""
    examples: set[str] = set()
    intent_files: dict[str, Path] = {}
    for path in sorted((data_dir / "nlu").glob("*.yml")):
        content: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in content.get("nlu") or []:
            if isinstance(block, dict) and isinstance(block.get("intent"), str):
                intent_files.setdefault(block["intent"], path)
                for line in str(block.get("examples") or "").splitlines():
                    if line.strip().startswith("- "):
                        examples.add(normalise(line.strip()[2:]))
    domain: Any = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    domain_intents = [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []]
    intents = sorted({*domain_intents, *intent_files} - {"nlu_fallback"})
    entities = [e if isinstance(e, str) else next(iter(e)) for e in domain.get("entities") or []]
    return TrainingData(frozenset(examples), intent_files, tuple(intents), tuple(entities))


def markup_of(text: str, entities: Sequence[dict[str, Any]]) -> str:
    """The message in Rasa's inline markup, `[running shoes](product)`, from the entities NLU found."""
    spans = sorted(
        (
            (int(e["start"]), int(e["end"]), str(e["entity"]))
            for e in entities
            if isinstance(e.get("start"), int) and isinstance(e.get("end"), int) and e.get("entity")
        ),
        key=lambda span: span[0],
    )
    out, position = [], 0
    for start, end, entity in spans:
        if start < position or end > len(text) or start >= end:
            continue  # overlapping or out-of-range spans cannot be written inline
        out.append(text[position:start] + f"[{text[start:end]}]({entity})")
        position = end
    return "".join(out) + text[position:]


# made-up values put in place of personal entities, so a suggested example carries no one's data
SAMPLE_VALUES = {"email": "jane@example.com", "phone": "+1 555 0100", "order_id": "SO-100001", "name": "Alex"}
PLACEHOLDER = re.compile(r"\[(?:email|phone|order|name|address|card ending[^\]]*)\]")


def suggested_example(text: str, entities: Sequence[dict[str, Any]], names: Sequence[str] = ()) -> str:
    """The message in inline markup with personal data masked and personal entities replaced by made-up values."""
    markup = markup_of(text, entities)
    pieces, position = [], 0
    for match in MARKUP.finditer(markup):
        value, entity = match.group(1), match.group(2)
        shown = SAMPLE_VALUES.get(entity, f"[{entity}]") if entity in PERSONAL_ENTITIES else mask_text(value, names)
        pieces.append(mask_text(markup[position : match.start()], names) + f"[{shown}]({entity})")
        position = match.end()
    return "".join(pieces) + mask_text(markup[position:], names)


def check_example(example: str, intent: str, training: TrainingData) -> str:
    """A clean one-line example with known entities for a known intent; raises InvalidAnnotation."""
    example = " ".join(example.split())
    if intent not in training.intents:
        raise InvalidAnnotation(f"unknown intent {intent!r}")
    if not example or len(example) > MAX_EXAMPLE_LENGTH:
        raise InvalidAnnotation(f"an example needs 1 to {MAX_EXAMPLE_LENGTH} characters")
    unknown = {m.group(2) for m in MARKUP.finditer(example)} - set(training.entities)
    if unknown:
        raise InvalidAnnotation(f"unknown entities: {', '.join(sorted(unknown))}")
    plain = MARKUP.sub(lambda m: m.group(1), example)
    if PLACEHOLDER.search(example):
        raise InvalidAnnotation("replace the masked personal data ([email], [name], ...) with made-up values")
    if any(ch in plain for ch in "[]") or plain.strip() != plain or not plain.strip():
        raise InvalidAnnotation("entity markup must look like [running shoes](product)")
    if plain[:1] in "!&*>|%@`'\"{#-?:,":
        raise InvalidAnnotation("an example may not start with a YAML special character")
    return example


def _insert(lines: list[str], intent: str, examples: Sequence[str]) -> bool:
    """Append examples at the end of the intent's block; False if the file has no such block."""
    for index, line in enumerate(lines):
        match = INTENT_LINE.match(line)
        if not match or match.group(1) != intent:
            continue
        last, indent = None, "    "
        for inner in range(index + 1, len(lines)):
            if lines[inner].startswith("- "):
                break
            example = EXAMPLE_LINE.match(lines[inner])
            if example and not lines[inner].lstrip().startswith("- intent"):
                last, indent = inner, example.group(1)
        if last is None:
            return False
        lines[last + 1 : last + 1] = [f"{indent}- {e}\n" for e in examples]
        return True
    return False


@dataclass(frozen=True)
class Export:
    """The files an export changes (path -> new content) and the unified diff a reviewer reads."""

    files: dict[Path, str]
    diff: str


def plan_export(data_dir: Path, training: TrainingData, approved: Iterable[tuple[str, str]]) -> Export:
    """Where each approved (intent, example) goes and the resulting diff; duplicates of training data are left out."""
    by_intent: dict[str, list[str]] = {}
    seen = set(training.examples)
    for intent, example in approved:
        if normalise(example) not in seen:
            seen.add(normalise(example))
            by_intent.setdefault(intent, []).append(example)
    contents: dict[Path, list[str]] = {}
    new_file = data_dir / "nlu" / NEW_INTENTS_FILE
    for intent, examples in sorted(by_intent.items()):
        path = training.intent_files.get(intent, new_file)
        if path not in contents:
            existing = path.read_text(encoding="utf-8") if path.is_file() else 'version: "3.1"\n\nnlu:\n'
            contents[path] = existing.splitlines(keepends=True)
            if contents[path] and not contents[path][-1].endswith("\n"):
                contents[path][-1] += "\n"
        if not _insert(contents[path], intent, examples):
            gap = ["\n"] if contents[path] and contents[path][-1].strip() not in ("", "nlu:") else []
            contents[path] += [*gap, f"- intent: {intent}\n", "  examples: |\n", *[f"    - {e}\n" for e in examples]]
    files: dict[Path, str] = {}
    diffs: list[str] = []
    for path, lines in sorted(contents.items()):
        before = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.is_file() else []
        relative = path.relative_to(data_dir.parent) if path.is_relative_to(data_dir.parent) else path
        diffs.extend(difflib.unified_diff(before, lines, f"a/{relative}", f"b/{relative}"))
        files[path] = "".join(lines)
    return Export(files, "".join(diffs))


def write_export(export: Export) -> None:
    """Write the planned files (each replaced whole, through a temporary file, so a crash leaves no half file)."""
    for path, content in export.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(content, encoding="utf-8")
        temporary.replace(path)
