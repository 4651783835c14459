# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark the cashier page's calls against stock Tryton's till.

    python bench/till.py [--sales 50] [--no-member] [--profile FILE] [--keep]

On PostgreSQL, a cashier of store S01 rings up --sales sales of three goods,
paid in cash (ours for a member, who earns points, unless --no-member), and
are printed the median and p95 of:

(1) a scan: omni.till add(sale, code) — the line priced by the server and
    the whole sale described back to the page — against stock Tryton adding
    the same line to its sale.point.sale through its ORM (write with the
    line's on_change values) and reading the sale's totals back;

(2) the paid sale: omni.till pay(sale, cash, amount due) — payment, sale
    done, goods out of the stock, receipt data — against stock Tryton's
    payment (sale.point.payment create) and process of its sale.

Each call runs in its own committed transaction as the cashier, with the
access rights checked and restarted on the locks it asks for, as the RPC
dispatcher does.  With each figure come the
median SQL statements of the call (restarts included), the restarts of a
paid sale and the queries of the access rules (ir_rule) per sale.  --profile
writes the cProfile statistics of our sales to FILE and prints their top.  PostgreSQL is reached at
TRYTOND_DATABASE__URI (default postgresql://postgres@127.0.0.1:5432/).  The
database bench_till is dropped at the end (unless --keep).
"""
import argparse
import cProfile
import pstats
import statistics
import time

DB_NAME = 'bench_till'

from benchenv import (  # noqa: E402
    MODULES, configure_environment, log, run_as_server, step)

configure_environment(DB_NAME)

from proteus import Model  # noqa: E402
from proteus import config as proteus_config  # noqa: E402
from trytond.backend.postgresql.database import LoggingCursor  # noqa: E402
from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import activate_module, drop_db  # noqa: E402

from omni_retail.tests import (  # noqa: E402
    create_till_chain, receive, run_committed, set_company_country)

SALES = 50
CODES = ['TEA', 'CAKE', 'MILK']
MEMBER_PHONE = '13800138000'


class Counter:
    "The SQL statements executed, and those on the access rules"
    statements = rules = 0

    @classmethod
    def install(cls):
        execute = LoggingCursor.execute

        def counting(self, query, *args, **kwargs):
            cls.statements += 1
            if 'ir_rule' in str(query):
                cls.rules += 1
            return execute(self, query, *args, **kwargs)
        LoggingCursor.execute = counting

    @classmethod
    def snapshot(cls):
        return cls.statements, cls.rules


class Call:
    "A timed call: milliseconds, SQL statements, rule queries, restarts"
    __slots__ = ('ms', 'statements', 'rules', 'restarts')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sales', type=int, default=SALES,
        help="sales rung up each way (default: %(default)s)")
    parser.add_argument('--no-member', action='store_true',
        help="ring up our sales for no member")
    parser.add_argument('--profile', metavar='FILE',
        help="write the cProfile statistics of our sales to FILE")
    parser.add_argument('--keep', action='store_true',
        help=f"keep the database {DB_NAME} at the end")
    return parser.parse_args(argv)


def set_up(sales):
    "Return the cashier's id, their context and the cash method's id"
    with step("Activate the product's modules (cached after the first run)"):
        drop_db()
        activate_module(MODULES)
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
    context = {'company': company.id}
    run_committed(lambda: Pool().get('omni.member').register(
            MEMBER_PHONE, "Member", 'S01'), context)
    return cashier.id, context, cash.id


def timed(call, user, context):
    "Return (call's result, Call) run in a committed transaction"
    statements, rules = Counter.snapshot()
    start = time.perf_counter()
    result, restarts = run_committed(call, context, user=user)
    measure = Call()
    measure.ms = (time.perf_counter() - start) * 1000
    measure.statements = Counter.statements - statements
    measure.rules = Counter.rules - rules
    measure.restarts = restarts
    return result, measure


def ring_up_ours(user, context, cash, member=True):
    scans, payments = [], []
    sale = None
    if member:
        # As the cashier finds the member first; not timed, as stock
        # Tryton's new sale is not
        sale, _ = timed(lambda: Pool().get('omni.till').set_member(
                Pool().get('omni.till').new()['id'], MEMBER_PHONE),
            user, context)
    for code in CODES:
        sale, call = timed(lambda: Pool().get('omni.till').add(
                sale['id'] if sale else None, code, 1), user, context)
        scans.append(call)
    done, call = timed(lambda: Pool().get('omni.till').pay(
            sale['id'], cash, sale['to_pay']), user, context)
    assert done['state'] == 'done', done
    payments.append(call)
    return scans, payments


def ring_up_stock(user, context, cash):
    # As the RPC dispatcher calls generic methods: with the access rights
    # checked; omni.till checks them at its door
    context = dict(context, _check_access=True)
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
        _, call = timed(scan, user, context)
        scans.append(call)

    def pay():
        pool = Pool()
        Payment = pool.get('sale.point.payment')
        Sale = pool.get('sale.point.sale')
        sale = Sale(sale_id)
        Payment(sale=sale, method=cash, amount=sale.amount_to_pay).save()
        Sale.process([Sale(sale_id)])
        assert Sale(sale_id).state == 'done'
    _, call = timed(pay, user, context)
    payments.append(call)
    return scans, payments


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def figures(label, ours, stock):
    def median(calls, name):
        return statistics.median(getattr(c, name) for c in calls)
    ms, stock_ms = median(ours, 'ms'), median(stock, 'ms')
    log(f"{label}: median {ms:.0f} ms, "
        f"p95 {percentile([c.ms for c in ours], 0.95):.0f} ms, "
        f"{median(ours, 'statements'):.0f} SQL statements "
        f"vs stock Tryton median {stock_ms:.0f} ms, "
        f"p95 {percentile([c.ms for c in stock], 0.95):.0f} ms, "
        f"{median(stock, 'statements'):.0f} SQL statements "
        f"({stock_ms / ms:.2f}x)")


def per_sale(label, scans, payments):
    "Print the restarts of a paid sale and the rule queries of a sale"
    sales = len(payments)
    restarts = sum(c.restarts for c in payments) / sales
    rules = sum(c.rules for c in scans + payments) / sales
    log(f"  {label}: {restarts:.1f} restarts per paid sale, "
        f"{rules:.1f} rule queries per sale (3 scans and payment)")


def main(argv=None):
    args = parse_args(argv)
    start = time.monotonic()
    results = {'ours': ([], []), 'stock': ([], [])}
    member = not args.no_member
    profile = cProfile.Profile() if args.profile else None

    def ours(user, context, cash):
        if profile:
            profile.enable()
        try:
            return ring_up_ours(user, context, cash, member=member)
        finally:
            if profile:
                profile.disable()
    try:
        user, context, cash = set_up(args.sales)
        run_as_server()
        Counter.install()
        # Warm the caches both ways first, as a till open all day has them
        ring_up_ours(user, context, cash, member=member)
        ring_up_stock(user, context, cash)
        with step(f"Ring up {args.sales} sales of 3 goods, each way"):
            for _ in range(args.sales):
                for name, ring_up in [
                        ('ours', ours), ('stock', ring_up_stock)]:
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
    figures(f"(2) paid sale{' for a member' if member else ''}",
        payments, stock_payments)
    per_sale("ours", scans, payments)
    per_sale("stock Tryton", stock_scans, stock_payments)
    if profile:
        profile.dump_stats(args.profile)
        log()
        pstats.Stats(args.profile).sort_stats('cumulative').print_stats(40)
    log(f"Whole bench: {time.monotonic() - start:.0f} s")


if __name__ == '__main__':
    main()
