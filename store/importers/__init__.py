"""Importers: a generic CSV/JSONL one with column mapping, and one for the UCI Online Retail format.

Every importer validates each row, rejects bad rows with a reason (never crashing on them), and
writes what it accepted in the caller's single transaction: an import commits entirely or not at all.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Rejection:
    """A row that was not imported, and why."""

    row: int
    reason: str


@dataclass
class ImportReport:
    """What an import read, wrote and rejected."""

    source: str
    rows_read: int = 0
    written: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)

    def reject(self, row: int, reason: str) -> None:
        """Record a rejected row."""
        self.rejected.append(Rejection(row, reason))

    def rejection_counts(self) -> dict[str, int]:
        """How many rows were rejected for each reason."""
        counts: dict[str, int] = {}
        for rejection in self.rejected:
            counts[rejection.reason] = counts.get(rejection.reason, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: -item[1]))

    def to_json(self, max_rows: int = 1000) -> dict[str, Any]:
        """The report as JSON-ready data (the first `max_rows` rejections listed one by one)."""
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "written": self.written,
            "rejected": len(self.rejected),
            "rejected_by_reason": self.rejection_counts(),
            "rejections": [{"row": r.row, "reason": r.reason} for r in self.rejected[:max_rows]],
        }


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, record) from a CSV or JSON-lines file, gzip-compressed or not.

    A JSON line that does not parse is yielded as {"__error__": reason}, so the importer can reject it.
    """
    name = path.name.lower().removesuffix(".gz")
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        if name.endswith(".jsonl") or name.endswith(".ndjson"):
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    yield number, {"__error__": f"not valid JSON: {error.msg}"}
                    continue
                yield number, record if isinstance(record, dict) else {"__error__": "not a JSON object"}
        elif name.endswith(".csv"):
            for number, record in enumerate(csv.DictReader(handle), start=2):  # row 1 is the header
                if None in record:
                    yield number, {"__error__": "more fields than the header has"}
                else:
                    yield number, record
        else:
            raise ValueError(f"{path}: only .csv and .jsonl files (optionally .gz) can be imported")
