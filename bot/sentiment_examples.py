"""Labelled sentiment examples: our YAML files and GoEmotions' "group" splits, as (text, label) pairs.

Read by the sentiment component (bot/sentiment.py) and by the featurizer that tunes MiniLM on intents
and sentiment together (bot/minilm_features.py).
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

LABELS = ("negative", "neutral", "positive")


def read_examples(path: Path) -> list[tuple[str, str]]:
    """(text, label) pairs of a labelled file.

    `.yml`: our format ({"examples": [{"text", "label"}]}). `.tsv`: a GoEmotions "group" split
    (text, label ids, id; ids named in labels.txt beside it); only single-label negative,
    neutral or positive rows are kept.
    """
    if path.suffix == ".tsv":
        names = (path.parent / "labels.txt").read_text(encoding="utf-8").split()
        pairs = []
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) < 2 or "," in row[1] or not row[1].strip().isdigit():
                    continue
                label = names[int(row[1])]
                if label in LABELS:
                    pairs.append((row[0], label))
        return pairs
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = [(str(e["text"]), str(e["label"])) for e in content.get("examples", [])]
    bad = sorted({label for _, label in pairs if label not in LABELS})
    if bad:
        raise ValueError(f"{path}: unknown sentiment labels {bad}; use {', '.join(LABELS)}")
    return pairs
