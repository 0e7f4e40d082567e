"""Importing a shop's product export into the catalog, with a column mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.importer import import_catalog
from catalog.products import Product


def test_csv_export_with_mapping_merges_by_id(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "SKU,Name,Dept,Price,Colour,Qty\n"
        "A1,Walnut Desk Organiser,Home > Office,24.50,brown,3\n"
        "A2,,Home,9.99,white,1\n"  # no title
        "A3,Linen Apron,Home > Kitchen,-2,beige,1\n"  # negative price
        "A1,Walnut Desk Organiser again,Home,20,brown,1\n"  # duplicate id in the file
        "B7,Enamel Mug 'quoted' ☕,Home > Kitchen,12,blue,40\n"
    )
    existing = [Product(id="B7", title="Old Mug", description="", category="Home", brand="", price=10.0),
                Product(id="Z9", title="Kept", description="", category="Home", brand="", price=5.0)]  # fmt: skip
    result = import_catalog(
        export,
        {"id": "SKU", "title": "Name", "category": "Dept", "price": "Price", "stock": "Qty", "attr:color": "Colour"},
        existing,
    )
    assert result.imported == 2
    assert [row for row, _ in result.rejected] == [3, 4, 5]
    by_id = {p.id: p for p in result.products}
    assert set(by_id) == {"A1", "B7", "Z9"}
    assert by_id["B7"].title == "Enamel Mug 'quoted' ☕" and by_id["B7"].attributes == {"color": "blue"}
    assert by_id["A1"].stock == 3 and by_id["A1"].price == 24.5


def test_jsonl_export_and_bad_mapping(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    export.write_text(
        json.dumps({"id": "C1", "title": "Cork Board", "category": "Office", "price": 15}) + "\nnot json\n"
    )
    result = import_catalog(export, {})
    assert result.imported == 1 and result.rejected[0][0] == 2
    with pytest.raises(ValueError, match="unknown catalog fields"):
        import_catalog(export, {"colour": "c"})
