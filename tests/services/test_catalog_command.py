"""`python -m catalog build`: demo data when the shop has none, an index only when it is stale or broken."""

import json
import os
import subprocess
import sys
from pathlib import Path

from settings import PROJECT_ROOT


def build(tmp_path: Path) -> str:
    env = {**os.environ, "SHOP_DATA_DIR": str(tmp_path / "var"), "SHOP_MODELS_DIR": str(tmp_path / "models")}
    result = subprocess.run(
        [sys.executable, "-m", "catalog", "build"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_builds_once_then_only_when_the_index_is_broken_or_the_catalog_changes(tmp_path: Path) -> None:
    first = build(tmp_path)
    assert "wrote the demo catalog" in first and "built the product index" in first
    assert "product index is current" in build(tmp_path)

    manifest = json.loads((tmp_path / "models" / "catalog" / "manifest.json").read_text())
    (tmp_path / "models" / "catalog" / manifest["version"] / "vectors.faiss").write_bytes(b"corrupt")
    assert "built the product index: 550 products" in build(tmp_path)
    assert "product index is current" in build(tmp_path)

    catalog = tmp_path / "var" / "shop" / "catalog.jsonl"
    catalog.write_text(catalog.read_text().replace('"price": ', '"price": 1', 1))
    assert "updated the product index: 0 added, 1 updated, 0 deleted" in build(tmp_path)


def test_a_broken_catalog_file_is_reported_and_the_index_kept(tmp_path: Path) -> None:
    build(tmp_path)
    manifest_before = (tmp_path / "models" / "catalog" / "manifest.json").read_text()
    catalog = tmp_path / "var" / "shop" / "catalog.jsonl"
    catalog.write_text(catalog.read_text() + "{broken\n")
    env = {**os.environ, "SHOP_DATA_DIR": str(tmp_path / "var"), "SHOP_MODELS_DIR": str(tmp_path / "models")}
    result = subprocess.run(
        [sys.executable, "-m", "catalog", "build"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "cannot build the product index" in result.stderr and "catalog.jsonl:" in result.stderr
    assert (tmp_path / "models" / "catalog" / "manifest.json").read_text() == manifest_before
