"""The operator's command line: `python -m store <command>` (or `make store ARGS="<command>"`)."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select
from tqdm import tqdm

from catalog.products import load_products
from settings import load_settings
from store.conversations import ConversationStore
from store.database import ShopDatabase
from store.demo import DemoSize, generate_demo_shop
from store.errors import StoreError
from store.importers import ImportReport
from store.importers.online_retail import import_online_retail
from store.importers.tabular import FIELDS, import_table
from store.models import Base, Customer
from store.privacy import apply_retention, erase_customer, export_customer

app = typer.Typer(help="Operate the shop's store: migrate, seed, import, export, erase, retain.", no_args_is_help=True)


def _database() -> ShopDatabase:
    return ShopDatabase(load_settings().shop_database_url)


def _conversations() -> ConversationStore:
    return ConversationStore(load_settings().tracker_database_url)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


@app.command("init-db")
def init_db() -> None:
    """Create or migrate the database to the latest schema (a no-op when it is current)."""
    db = _database()
    db.upgrade()
    typer.echo(f"database is at the latest schema ({db.dialect})")


@app.command("seed-demo")
def seed_demo(
    customers: Annotated[int, typer.Option(min=1, help="how many customers")] = 300,
    orders_per_customer: Annotated[float, typer.Option(min=0.0, help="mean orders per customer")] = 3.0,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="do nothing if the store has customers")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="delete everything in the store first")] = False,
) -> None:
    """Fill the store with the demo shop (deterministic for a seed and day)."""
    db = _database()
    db.upgrade()
    with db.transaction() as session:
        existing = session.scalar(select(func.count()).select_from(Customer)) or 0
        if existing and if_empty:
            typer.echo(f"the store has {existing} customers; demo data not added")
            return
        if existing and not replace:
            raise _fail(f"the store has {existing} customers already; use --replace to start over")
        if replace:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(table.delete())
        started = time.perf_counter()
        with tqdm(total=customers, unit="customer", desc="demo shop") as bar:
            catalog_file = load_settings().catalog_file  # the store mirrors the shop's catalog
            counts = generate_demo_shop(
                session,
                DemoSize(customers, orders_per_customer),
                seed=seed,
                catalog=load_products(catalog_file) if catalog_file.is_file() else None,
                progress=lambda done: bar.update(done - bar.n),
            )
    typer.echo(f"demo shop written in {time.perf_counter() - started:.1f} s: {json.dumps(counts.rows)}")


def _write_report(report: ImportReport) -> Path:
    reports = load_settings().reports_dir / "imports"
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / f"import-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(report.to_json(), indent=2))
    return path


@app.command("import")
def import_file(
    kind: Annotated[str, typer.Argument(help=f"{', '.join(FIELDS)} or online-retail")],
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".csv or .jsonl, optionally .gz")],
    map_: Annotated[list[str] | None, typer.Option("--map", help="field=column, repeatable")] = None,
) -> None:
    """Import a file in one transaction; rejected rows and their reasons go to a report under reports/."""
    mapping: dict[str, str] = {}
    for pair in map_ or []:
        field, sep, column = pair.partition("=")
        if not sep or not field or not column:
            raise _fail(f"--map expects field=column, got {pair!r}")
        mapping[field.strip()] = column.strip()
    db = _database()
    db.upgrade()
    try:
        with db.transaction() as session:
            if kind == "online-retail":
                report = import_online_retail(
                    session, path, progress=lambda rows: tqdm(rows, unit="row", desc="import")
                )
            else:
                report = import_table(session, kind, path, mapping)
    except (StoreError, ValueError) as error:
        raise _fail(f"nothing was imported: {error}") from None
    typer.echo(f"read {report.rows_read} rows; wrote {json.dumps(report.written)}; rejected {len(report.rejected)}")
    for reason, count in report.rejection_counts().items():
        typer.echo(f"  rejected {count:>7}: {reason}")
    typer.echo(f"report: {_write_report(report)}")


@app.command("export-customer")
def export_customer_command(
    customer_id: int,
    out: Annotated[Path | None, typer.Option(help="write the JSON here instead of printing it")] = None,
) -> None:
    """Export everything held about one customer as JSON."""
    try:
        with _database().transaction() as session:
            data = export_customer(session, customer_id, _conversations())
    except StoreError as error:
        raise _fail(str(error)) from None
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out:
        out.write_text(text)
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text)


@app.command("erase-customer")
def erase_customer_command(
    customer_id: int, yes: Annotated[bool, typer.Option("--yes", help="confirm the erasure")] = False
) -> None:
    """Erase a customer's personal data everywhere; their orders stay, anonymised."""
    if not yes:
        raise _fail("erasure cannot be undone: add --yes to confirm")
    try:
        with _database().transaction() as session:
            report = erase_customer(session, customer_id, _conversations())
    except StoreError as error:
        raise _fail(str(error)) from None
    typer.echo(f"erased customer {customer_id}: {json.dumps(report.__dict__)}")


@app.command("retention")
def retention(
    days: Annotated[int, typer.Option(min=1, help="keep conversations and interactions this many days")] = 365,
) -> None:
    """Delete conversations and interactions older than the retention period."""
    with _database().transaction() as session:
        report = apply_retention(session, dt.timedelta(days=days), _conversations())
    typer.echo(
        f"removed {report.interactions} interactions and {report.conversation_events} conversation events "
        f"older than {report.cutoff:%Y-%m-%d}"
    )


@app.command("stats")
def stats() -> None:
    """Rows per table."""
    db = _database()
    db.upgrade()
    with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            count = session.scalar(select(func.count()).select_from(table))
            typer.echo(f"{table.name:<20} {count:>10}")
