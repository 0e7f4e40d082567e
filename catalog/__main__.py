"""`python -m catalog build|import`: keep the catalog and its index up to date.

`build` writes the demo catalog if the shop has none, then brings the index up to date;
`import FILE --map field=column` merges a shop's export into the catalog, then does the same.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from catalog.demo_catalog import generate_demo_catalog
from catalog.importer import import_catalog
from catalog.index import build_index, sync_index
from catalog.products import CatalogFileError, load_products, save_products
from settings import load_settings


def main(argv: list[str] | None = None) -> int:
    """Entry point of the catalog command."""
    parser = argparse.ArgumentParser(prog="python -m catalog")
    parser.add_argument("command", choices=["build", "import"])
    parser.add_argument("file", nargs="?", type=Path, help="import: a .csv or .jsonl export (optionally .gz)")
    parser.add_argument("--map", action="append", default=[], help="import: field=column, e.g. title=Name")
    parser.add_argument("--replace", action="store_true", help="import: replace the catalog instead of merging")
    parser.add_argument("--force", action="store_true", help="rebuild the index even if it is current")
    args = parser.parse_args(argv)
    settings = load_settings()
    catalog_file = settings.catalog_file
    if args.command == "import":
        code = _import(args, catalog_file)
        if code != 0:
            return code
    if not catalog_file.is_file():
        products = generate_demo_catalog()
        save_products(catalog_file, products)
        print(f"wrote the demo catalog: {len(products)} products -> {catalog_file}")
    try:
        if args.force:
            manifest = build_index(settings.catalog_index_dir, catalog_file)
            print(f"rebuilt the product index: {manifest['products']} products in {manifest['build_seconds']} s")
            return 0
        report = sync_index(settings.catalog_index_dir, catalog_file)
    except (CatalogFileError, ValueError) as error:
        print(f"cannot build the product index: {error}", file=sys.stderr)
        return 2
    if report.action == "current":
        print(f"product index is current ({report.products} products, {settings.catalog_index_dir})")
    elif report.action == "incremental":
        print(f"updated the product index: {report.added} added, {report.updated} updated, {report.deleted} deleted "
              f"in {report.seconds:.1f} s")  # fmt: skip
    else:
        print(f"built the product index: {report.products} products in {report.seconds:.1f} s")
    return 0


def _import(args: argparse.Namespace, catalog_file: Path) -> int:
    if args.file is None or not args.file.is_file():
        print(f"import needs an existing file, got {args.file}", file=sys.stderr)
        return 2
    mapping = {}
    for pair in args.map:
        name, sep, column = pair.partition("=")
        if not sep or not name or not column:
            print(f"--map expects field=column, got {pair!r}", file=sys.stderr)
            return 2
        mapping[name.strip()] = column.strip()
    existing = [] if args.replace or not catalog_file.is_file() else load_products(catalog_file)
    try:
        result = import_catalog(args.file, mapping, existing)
    except (ValueError, CatalogFileError) as error:
        print(f"nothing was imported: {error}", file=sys.stderr)
        return 2
    for row, reason in result.rejected[:50]:
        print(f"  rejected row {row}: {reason}")
    if not result.products:
        print("nothing was imported: no valid products", file=sys.stderr)
        return 2
    save_products(catalog_file, result.products)
    print(
        f"imported {result.imported} products, rejected {len(result.rejected)}; the catalog has {len(result.products)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
