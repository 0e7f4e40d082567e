"""The operator command line, run as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from settings import PROJECT_ROOT


def store(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHOP_DATA_DIR": str(tmp_path / "var"), "SHOP_REPORTS_DIR": str(tmp_path / "reports")}
    return subprocess.run(
        [sys.executable, "-m", "store", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_operator_commands(tmp_path: Path) -> None:
    assert store(tmp_path, "init-db").returncode == 0
    seeded = store(tmp_path, "seed-demo", "--customers", "40")
    assert seeded.returncode == 0, seeded.stderr
    assert '"customers": 40' in seeded.stdout
    again = store(tmp_path, "seed-demo")
    assert again.returncode == 2 and "use --replace" in again.stderr
    assert "demo data not added" in store(tmp_path, "seed-demo", "--if-empty").stdout
    assert "customers                    40" in store(tmp_path, "stats").stdout

    exported = store(tmp_path, "export-customer", "1", "--out", str(tmp_path / "c1.json"))
    assert exported.returncode == 0
    assert json.loads((tmp_path / "c1.json").read_text())["customer"]["id"] == 1
    refused = store(tmp_path, "erase-customer", "1")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    erased = store(tmp_path, "erase-customer", "1", "--yes")
    assert erased.returncode == 0 and '"orders_anonymised"' in erased.stdout
    missing = store(tmp_path, "export-customer", "1")
    assert missing.returncode == 2 and "no customer 1" in missing.stderr
    assert "removed" in store(tmp_path, "retention", "--days", "30").stdout


def test_import_writes_a_report_of_rejections(tmp_path: Path) -> None:
    data = tmp_path / "products.csv"
    data.write_text("sku,title,category,price\nA1,Mug,Home,4.5\nA2,Bowl,Home,cheap\n")
    result = store(tmp_path, "import", "products", str(data), "--map", "id=sku")
    assert result.returncode == 0, result.stderr
    assert "rejected       1: price is not a number" in result.stdout
    (report,) = (tmp_path / "reports" / "imports").glob("import-*.json")
    assert json.loads(report.read_text())["rejections"] == [{"row": 3, "reason": "price is not a number"}]
    bad_map = store(tmp_path, "import", "products", str(data), "--map", "sku")
    assert bad_map.returncode == 2 and "field=column" in bad_map.stderr
