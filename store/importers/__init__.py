"""Importers: a generic CSV/JSONL one with column mapping, and one for the UCI Online Retail format.

Every importer validates each row, rejects bad rows with a reason (never crashing on them), and
writes what it accepted in the caller's single transaction: an import commits entirely or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datafiles import read_records

__all__ = ["ImportReport", "Rejection", "read_records"]


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
