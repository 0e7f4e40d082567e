"""`python -m catalog build`: write the demo catalog if the shop has none, then bring the index up to date."""

from __future__ import annotations

import argparse
import sys

from catalog.demo_catalog import generate_demo_catalog
from catalog.index import build_index, sync_index
from catalog.products import CatalogFileError, save_products
from settings import load_settings


def main(argv: list[str] | None = None) -> int:
    """Entry point of the catalog command."""
    parser = argparse.ArgumentParser(prog="python -m catalog")
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--force", action="store_true", help="rebuild the index even if it is current")
    args = parser.parse_args(argv)
    settings = load_settings()
    catalog_file = settings.catalog_file
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


if __name__ == "__main__":
    sys.exit(main())
