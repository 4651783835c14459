# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark the cashier page's calls against stock Tryton's till.

    python bench/till.py [--sales 50] [--keep]

On PostgreSQL, a cashier of store S01 rings up --sales sales of three goods,
paid in cash, and are printed the median and p95 of:

(1) a scan: omni.till add(sale, code) — the line priced by the server and
    the whole sale described back to the page — against stock Tryton adding
    the same line to its sale.point.sale through its ORM (write with the
    line's on_change values) and reading the sale's totals back;

(2) the paid sale: omni.till pay(sale, cash, amount due) — payment, sale
    done, goods out of the stock, receipt data — against stock Tryton's
    payment (sale.point.payment create) and process of its sale.

Each call runs in its own committed transaction as the cashier, restarted on
the locks it asks for as the RPC dispatcher does.  PostgreSQL is reached at
TRYTOND_DATABASE__URI (default postgresql://postgres@127.0.0.1:5432/).  The
database bench_till is dropped at the end (unless --keep).
"""
import argparse
import statistics
import time

DB_NAME = 'bench_till'

from benchenv import configure_environment, log, step  # noqa: E402

configure_environment(DB_NAME)

from proteus import Model  # noqa: E402
from proteus import config as proteus_config  # noqa: E402
from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import activate_module, drop_db  # noqa: E402

from omni_retail.tests import (  # noqa: E402
    create_till_chain, receive, run_committed, set_company_country)

SALES = 50
CODES = ['TEA', 'CAKE', 'MILK']


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sales', type=int, default=SALES,
        help="sales rung up each way (default: %(default)s)")
    parser.add_argument('--keep', action='store_true',
        help=f"keep the database {DB_NAME} at the end")
    return parser.parse_args(argv)


def set_up(sales):
    "Return the cashier's id, their context and the cash method's id"
    with step("Activate omni_o2o (cached after the first run)"):
        drop_db()
        activate_module(['omni_o2o'])
    with step("Create the company, store S01, its goods and cashier"):
        proteus_config.set_trytond(database=DB_NAME)
        cash, (s01,), products = create_till_chain(['S01'], CODES)
        company = set_company_country()
        for product in products:
            receive(product, s01, 10 * sales)
        Group = Model.get('res.group')
        User = Model.get('res.user')
        cashier = User(login='cashier', name="Cashier", omni_store=s01)
        cashier.groups.extend(Group.find([
                    ('name', 'in', ["Omni Retail Store Staff", "POS"])]))
        cashier.save()
    return cashier.id, {'company': company.id}, cash.id


def timed(call, user, context):
    "Return (call's result, milliseconds) in a committed transaction"
    start = time.perf_counter()
    result, _ = run_committed(call, context, user=user)
    return result, (time.perf_counter() - start) * 1000


def ring_up_ours(user, context, cash):
    scans, payments = [], []
    sale = None
    for code in CODES:
        sale, ms = timed(lambda: Pool().get('omni.till').add(
                sale['id'] if sale else None, code, 1), user, context)
        scans.append(ms)
    done, ms = timed(lambda: Pool().get('omni.till').pay(
            sale['id'], cash, sale['to_pay']), user, context)
    assert done['state'] == 'done', done
    payments.append(ms)
    return scans, payments


def ring_up_stock(user, context, cash):
    scans, payments = [], []

    def new_sale():
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Store = pool.get('omni.channel')
        store, = Store.search([('code', '=', 'S01')])
        sale = Sale(point=store.sale_point)
        sale.save()
        return sale.id
    sale_id, _ = timed(new_sale, user, context)
    for code in CODES:
        def scan(code=code):
            pool = Pool()
            Line = pool.get('sale.point.sale.line')
            Product = pool.get('product.product')
            Sale = pool.get('sale.point.sale')
            sale = Sale(sale_id)
            product, = Product.search([('code', '=', code)])
            line = Line(sale=sale, product=product, quantity=1)
            line.on_change_product()
            line.save()
            sale = Sale(sale_id)
            return sale.total, sale.amount_to_pay
        _, ms = timed(scan, user, context)
        scans.append(ms)

    def pay():
        pool = Pool()
        Payment = pool.get('sale.point.payment')
        Sale = pool.get('sale.point.sale')
        sale = Sale(sale_id)
        Payment(sale=sale, method=cash, amount=sale.amount_to_pay).save()
        Sale.process([Sale(sale_id)])
        assert Sale(sale_id).state == 'done'
    _, ms = timed(pay, user, context)
    payments.append(ms)
    return scans, payments


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def figures(label, ours, stock):
    median, stock_median = statistics.median(ours), statistics.median(stock)
    log(f"{label}: median {median:.0f} ms, p95 {percentile(ours, 0.95):.0f} "
        f"ms vs stock Tryton median {stock_median:.0f} ms, p95 "
        f"{percentile(stock, 0.95):.0f} ms ({stock_median / median:.2f}x)")


def main(argv=None):
    args = parse_args(argv)
    start = time.monotonic()
    results = {'ours': ([], []), 'stock': ([], [])}
    try:
        user, context, cash = set_up(args.sales)
        # Warm the caches both ways first, as a till open all day has them
        ring_up_ours(user, context, cash)
        ring_up_stock(user, context, cash)
        with step(f"Ring up {args.sales} sales of 3 goods, each way"):
            for _ in range(args.sales):
                for name, ring_up in [
                        ('ours', ring_up_ours), ('stock', ring_up_stock)]:
                    scans, payments = ring_up(user, context, cash)
                    results[name][0].extend(scans)
                    results[name][1].extend(payments)
    finally:
        if not args.keep:
            drop_db()
    log()
    (scans, payments), (stock_scans, stock_payments) = (
        results['ours'], results['stock'])
    figures("(1) scan", scans, stock_scans)
    figures("(2) paid sale", payments, stock_payments)
    log(f"Whole bench: {time.monotonic() - start:.0f} s")


if __name__ == '__main__':
    main()
