# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark the sales analytics against the same figures through the ORM.

    python bench/analytics.py [--lines 1000000] [--runs 20] [--orm-days 3]
        [--keep]

On PostgreSQL, --lines till sale lines (3 a sale, 3 stores, 90 days up to
today) are inserted by SQL and are printed:

(1) omni.analytics sales(first day, last day, ['store', 'day']) before any
    day is summarized, all read from the sales: the median of 3 runs;

(2) the time the scheduled task takes to summarize the closed days (all but
    today and yesterday);

(3) the same call once summarized: median and 95th percentile over --runs
    runs, each in its own read-only transaction (the target is 0.5 s at
    1,000,000 lines), with a check that the figures equal those of (1);

(4) on the last --orm-days days (summarized and not), the same call against
    stock Tryton's way to the same figures: reading the lines through the
    ORM (sale.point.sale.line search and read of quantity, price, sale date
    and point) and summing them in Python — with a check that both agree,
    and the ratio.

PostgreSQL is reached at TRYTOND_DATABASE__URI (default
postgresql://postgres@127.0.0.1:5432/).  The database bench_analytics is
dropped at the end (unless --keep); the activated database is cached under
var/db-cache-bench/<digest of the modules' source>.
"""
import argparse
import datetime as dt
import statistics
import time
from collections import defaultdict
from decimal import Decimal

DB_NAME = 'bench_analytics'

from benchenv import (  # noqa: E402
    MODULES, configure_environment, log, step)

configure_environment(DB_NAME)

from proteus import config as proteus_config  # noqa: E402
from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import activate_module, drop_db  # noqa: E402
from trytond.transaction import Transaction  # noqa: E402

from omni_retail.tests import (  # noqa: E402
    create_till_chain, set_company_country)

LINES = 1_000_000
RUNS = 20
LIVE_RUNS = 3
ORM_DAYS = 3
DAYS = 90
LINES_PER_SALE = 3
STORES = ['S01', 'S02', 'S03']
PRODUCTS = [f'P{i:03d}' for i in range(30)]

SALES_INSERT = """
INSERT INTO sale_point_sale (
        company, point, number, date, state, create_uid, create_date)
    SELECT %(company)s, (%(points)s::int[])[1 + g %% %(stores)s],
        'B' || g, CURRENT_DATE - (g %% %(days)s), 'done',
        0, CURRENT_TIMESTAMP
    FROM generate_series(1, %(sales)s) AS g
"""
LINES_INSERT = """
INSERT INTO sale_point_sale_line (
        sale, product, quantity, unit_list_price, unit_gross_price,
        create_uid, create_date)
    SELECT s.id, (%(products)s::int[])[1 + (s.id * 7 + k) %% %(count)s],
        1 + (s.id + k) %% 3, 5 + k, 5 + k, 0, CURRENT_TIMESTAMP
    FROM sale_point_sale s, generate_series(1, %(per_sale)s) AS k
    WHERE s.number LIKE 'B%%'
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--lines', type=int, default=LINES,
        help="till sale lines (default: %(default)s)")
    parser.add_argument('--runs', type=int, default=RUNS,
        help="timed calls (default: %(default)s)")
    parser.add_argument('--orm-days', type=int, default=ORM_DAYS,
        help="days compared with the ORM (default: %(default)s)")
    parser.add_argument('--keep', action='store_true',
        help=f"keep the database {DB_NAME} at the end")
    return parser.parse_args(argv)


def set_up(lines):
    "Return the company id"
    with step("Activate the product's modules (cached after the first run)"):
        drop_db()
        activate_module(MODULES)
    with step("Create the company, 3 stores and 30 products"):
        proteus_config.set_trytond(database=DB_NAME)
        _, stores, products = create_till_chain(STORES, PRODUCTS)
        company = set_company_country().id
        points = [s.sale_point.id for s in stores]
        products = [p.id for p in products]
    with step(f"Insert {lines:,} till sale lines over {DAYS} days"):
        with Transaction().start(DB_NAME, 0) as transaction:
            cursor = transaction.connection.cursor()
            sales = lines // LINES_PER_SALE
            cursor.execute(SALES_INSERT, {
                    'company': company, 'stores': len(points),
                    'points': points,
                    'days': DAYS, 'sales': sales})
            cursor.execute(LINES_INSERT, {
                    'products': products,
                    'count': len(products), 'per_sale': LINES_PER_SALE})
            cursor.execute('ANALYZE')
            transaction.commit()
    return company


def summarize(company):
    with Transaction().start(DB_NAME, 0, context={'company': company}
            ) as transaction:
        Pool().get('omni.analytics.day').summarize()
        transaction.commit()


def analytics(company, date_from, date_to):
    with Transaction().start(DB_NAME, 1, readonly=True,
            context={'company': company}):
        Analytics = Pool().get('omni.analytics')
        start = time.perf_counter()
        rows = Analytics.sales(date_from, date_to, ['store', 'day'])
        return rows, time.perf_counter() - start


def orm(company, date_from, date_to):
    "Return the same figures through the ORM, and the seconds it took"
    with Transaction().start(DB_NAME, 1, readonly=True,
            context={'company': company}):
        pool = Pool()
        Channel = pool.get('omni.channel')
        Line = pool.get('sale.point.sale.line')
        start = time.perf_counter()
        stores = {c.sale_point.id: c.code
            for c in Channel.search([('kind', '=', 'store')])}
        lines = Line.search_read([
                ('sale.date', '>=', date_from),
                ('sale.date', '<=', date_to),
                ('sale.state', 'in', ['done', 'posted']),
                ], fields_names=[
                'quantity', 'unit_list_price', 'sale', 'sale.date',
                'sale.point'])
        totals = defaultdict(lambda: [0, Decimal(0), set()])
        for line in lines:
            sale = line['sale.']
            key = (stores[sale['point']], sale['date'].isoformat())
            total = totals[key]
            total[0] += line['quantity']
            total[1] += Decimal(str(line['quantity'])) * line[
                'unit_list_price']
            total[2].add(line['sale'])
        return totals, time.perf_counter() - start


def percentile(values, percent):
    "Return the nearest-rank percentile of the values"
    values = sorted(values)
    return values[max(0, -(-len(values) * percent // 100) - 1)]


def main(argv=None):
    args = parse_args(argv)
    start = time.monotonic()
    try:
        company = set_up(args.lines)
        today = dt.date.today()
        first = today - dt.timedelta(days=DAYS - 1)
        with step(f"analytics.sales by store and day from the sales, "
                f"{LIVE_RUNS} runs"):
            live_rows, _ = analytics(company, first, today)
            live_times = [analytics(company, first, today)[1]
                for _ in range(LIVE_RUNS)]
        with step("Summarize the closed days") as summary:
            summarize(company)
        with step(f"analytics.sales by store and day, {args.runs} runs"):
            rows, _ = analytics(company, first, today)
            times = [analytics(company, first, today)[1]
                for _ in range(args.runs)]
        recent = today - dt.timedelta(days=args.orm_days - 1)
        with step(f"The last {args.orm_days} days, both ways"):
            recent_rows, sql_seconds = analytics(company, recent, today)
            totals, orm_seconds = orm(company, recent, today)
        same_orm = {(r['store'], r['day']): (
                    r['quantity'], r['revenue'], r['orders'])
                for r in recent_rows} == {k: (
                    q, str(v.quantize(Decimal('0.01'))), len(o))
                for k, (q, v, o) in totals.items()}
    finally:
        if not args.keep:
            drop_db()
    log()
    log(f"(1) sales by store x day over {args.lines:,} lines, from the "
        f"sales: median {statistics.median(live_times):.3f} s")
    log(f"(2) summarizing the closed days: {summary['seconds']:.1f} s")
    log(f"(3) sales by store x day over {args.lines:,} lines, summarized: "
        f"median {statistics.median(times):.3f} s, p95 "
        f"{percentile(times, 95):.3f} s (min {min(times):.3f}, max "
        f"{max(times):.3f}; target 0.5 s); same figures as (1): "
        f"{rows == live_rows}")
    log(f"(4) last {args.orm_days} days: analytics {sql_seconds:.3f} s vs "
        f"ORM {orm_seconds:.1f} s ({orm_seconds / sql_seconds:.0f}x); "
        f"same figures: {same_orm}")
    log(f"Whole bench: {time.monotonic() - start:.0f} s")


if __name__ == '__main__':
    main()
