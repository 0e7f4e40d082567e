"""`make bench-store`: the look-ups of one conversation turn on a big shop, on SQLite and PostgreSQL.

For each database it generates the demo shop at scale (default 100,000 customers, ~1,000,000
orders), then times, on one connection, the three look-ups a turn makes: the customer by channel
identity, their recent orders with shipment status, and their open tickets. A `SELECT 1` round
trip on the same connection is the baseline, so the ratios stay comparable on a busy machine.
It also times the UCI Online Retail import. Figures go to reports/store.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from devstack.local_services import ensure_postgres
from settings import PROJECT_ROOT, load_settings
from store.customers import customer_for_identity
from store.database import ShopDatabase
from store.demo import DemoSize, generate_demo_shop
from store.importers.online_retail import import_online_retail
from store.orders import recent_orders
from store.tickets import open_tickets

ONLINE_RETAIL = PROJECT_ROOT.parent / "shared" / "data" / "online_retail" / "online_retail_2010-12_to_2011-08.csv.gz"
ANCHOR = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _percentiles(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)

    def pick(quantile: float) -> float:
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] / 1e6

    return {
        "p50_ms": round(pick(0.50), 3),
        "p95_ms": round(pick(0.95), 3),
        "mean_ms": round(statistics.fmean(ordered) / 1e6, 3),
    }


def _fresh_postgres(name: str) -> str:
    host, port = ensure_postgres()
    admin = create_engine(f"postgresql+psycopg://postgres@{host}:{port}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"postgresql://postgres@{host}:{port}/{name}"


def _fresh_sqlite(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _time_lookups(db: ShopDatabase, customers: int, samples: int, seed: int = 11) -> dict[str, Any]:
    rng = random.Random(seed)
    ids = [rng.randint(1, customers) for _ in range(samples)]
    timings: dict[str, list[int]] = {
        "select_1_baseline": [],
        "customer_by_identity": [],
        "recent_orders": [],
        "open_tickets": [],
    }
    with db.engine.connect() as connection, Session(bind=connection) as session:  # one connection throughout
        looks: list[tuple[str, Callable[[int], object]]] = [
            ("select_1_baseline", lambda _: session.execute(text("SELECT 1")).scalar()),
            ("customer_by_identity", lambda cid: customer_for_identity(session, "web", f"web-demo-{cid}")),
            ("recent_orders", lambda cid: recent_orders(session, cid, limit=5)),
            ("open_tickets", lambda cid: open_tickets(session, cid)),
        ]
        for customer_id in ids[:50]:  # warm the caches
            for _name, look in looks:
                look(customer_id)
            session.rollback()
        for customer_id in tqdm(ids, desc=f"look-ups {db.dialect}", unit="turn"):
            for name, look in looks:
                started = time.perf_counter_ns()
                look(customer_id)
                timings[name].append(time.perf_counter_ns() - started)
            session.rollback()  # each turn reads in its own transaction
    figures = {name: _percentiles(values) for name, values in timings.items()}
    base = figures["select_1_baseline"]["p50_ms"] or 1e-6
    for values in figures.values():
        values["p50_vs_select_1"] = round(values["p50_ms"] / base, 1)
    return figures


def run(customers: int, orders_per_customer: float, samples: int, out: Path) -> dict[str, Any]:
    """Run the whole benchmark and write its JSON report."""
    bench_dir = load_settings().data_dir / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "benchmark": "store",
        "machine": {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "data": {"demo_customers": customers, "demo_orders_per_customer_mean": orders_per_customer,
                 "lookup_samples": samples, "online_retail_file": ONLINE_RETAIL.name},
        "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "databases": {},
    }  # fmt: skip
    for dialect in ("sqlite", "postgresql"):
        url = _fresh_sqlite(bench_dir / "bench-shop.db") if dialect == "sqlite" else _fresh_postgres("shop_bench")
        db = ShopDatabase(url)
        db.upgrade()
        started = time.perf_counter()
        with db.transaction() as session, tqdm(total=customers, desc=f"demo {dialect}", unit="customer") as bar:
            counts = generate_demo_shop(
                session, DemoSize(customers, orders_per_customer), anchor=ANCHOR, batch_customers=5000,
                progress=lambda done: bar.update(done - bar.n),
            )  # fmt: skip
        generation = time.perf_counter() - started
        if dialect == "postgresql":
            with db.engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
        entry: dict[str, Any] = {"generation_seconds": round(generation, 1), "rows": counts.rows}
        entry["lookups"] = _time_lookups(db, customers, samples)
        db.dispose()
        if ONLINE_RETAIL.is_file():
            url = (
                _fresh_sqlite(bench_dir / "bench-retail.db")
                if dialect == "sqlite"
                else _fresh_postgres("shop_bench_retail")
            )
            retail = ShopDatabase(url)
            retail.upgrade()
            started = time.perf_counter()
            with retail.transaction() as session:
                report = import_online_retail(session, ONLINE_RETAIL)
            entry["online_retail_import"] = {
                "seconds": round(time.perf_counter() - started, 1), "rows_read": report.rows_read,
                "written": report.written, "rejected_by_reason": report.rejection_counts(),
            }  # fmt: skip
            retail.dispose()
        result["databases"][dialect] = entry
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def print_table(result: dict[str, Any]) -> None:
    """The figures as a readable table."""
    print(f"\nstore benchmark on {result['machine']['host']} ({result['machine']['cpus']} CPUs)")
    for dialect, entry in result["databases"].items():
        rows = entry["rows"]
        print(f"\n{dialect}: {rows.get('customers', 0):,} customers, {rows.get('orders', 0):,} orders, "
              f"generated in {entry['generation_seconds']} s")  # fmt: skip
        print(f"  {'look-up':<22}{'p50 ms':>10}{'p95 ms':>10}{'p50 / SELECT 1':>16}")
        for name, figures in entry["lookups"].items():
            print(f"  {name:<22}{figures['p50_ms']:>10}{figures['p95_ms']:>10}{figures['p50_vs_select_1']:>16}")
        if "online_retail_import" in entry:
            imported = entry["online_retail_import"]
            print(f"  Online Retail import: {imported['rows_read']:,} rows in {imported['seconds']} s")


def main() -> None:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders-per-customer", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    out = load_settings().reports_dir / "store.json"
    result = run(args.customers, args.orders_per_customer, args.samples, out)
    print_table(result)
    print(f"\nfigures written to {out}")


if __name__ == "__main__":
    main()
