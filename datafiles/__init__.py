"""Reading records from the files shops export: CSV or JSON lines, gzip-compressed or not."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


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
