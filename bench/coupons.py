# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark coupon code generation and checks against stock Tryton.

    python bench/coupons.py [--codes 100000] [--stock-codes 10000]
        [--checks 1000] [--keep]

On PostgreSQL, a campaign is given codes and are printed:

(1) the codes per second of the campaign's Generate Codes on --codes codes
    (one transaction, progress lines), against stock Tryton creating
    sale.promotion.coupon.number records through its ORM on --stock-codes
    codes, 100 a call (from about 1,000 a call, its validation overflows Python's
    recursion limit);

(2) the median and p95 of omni.coupon check(code, store) on --checks random
    codes among them, each in its own read-only transaction, against stock
    Tryton's own validity read of a code: searching it among the active
    numbers (sale_promotion_coupon counts each number's uses to tell).

PostgreSQL is reached at TRYTOND_DATABASE__URI (default
postgresql://postgres@127.0.0.1:5432/).  The database bench_coupons is dropped
at the end (unless --keep); the activated database is cached under
var/db-cache-bench/<digest of the modules' source>.
"""
import argparse
import logging
import random
import statistics
import time
from decimal import Decimal

DB_NAME = 'bench_coupons'

from benchenv import (  # noqa: E402
    MODULES, configure_environment, log, step)

configure_environment(DB_NAME)

from proteus import Model  # noqa: E402
from proteus import config as proteus_config  # noqa: E402
from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import activate_module, drop_db  # noqa: E402
from trytond.transaction import Transaction  # noqa: E402

from omni_coupon.promotion import new_code  # noqa: E402
from omni_retail.tests import (  # noqa: E402
    create_till_chain, run_committed, set_company_country)

CODES = 100_000
STOCK_CODES = 10_000
CHECKS = 1_000
STOCK_BATCH = 100


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--codes', type=int, default=CODES,
        help="codes generated (default: %(default)s)")
    parser.add_argument('--stock-codes', type=int, default=STOCK_CODES,
        help="codes created by stock Tryton (default: %(default)s)")
    parser.add_argument('--checks', type=int, default=CHECKS,
        help="codes checked, by each way (default: %(default)s)")
    parser.add_argument('--keep', action='store_true',
        help=f"keep the database {DB_NAME} at the end")
    return parser.parse_args(argv)


def set_up():
    "Return the company id and the campaign id"
    with step("Activate the product's modules (cached after the first run)"):
        drop_db()
        activate_module(MODULES)
    with step("Create the company, store S01 and the campaign"):
        proteus_config.set_trytond(database=DB_NAME)
        create_till_chain(['S01'], [])
        company = set_company_country()
        Promotion = Model.get('sale.promotion')
        campaign = Promotion(name="Bench", omni_code='BENCH',
            omni_discount_kind='percent', omni_discount=Decimal(10))
        campaign.save()
    return company.id, campaign.id


def generate(company, campaign, count):
    "Return the seconds Generate Codes takes for count codes"
    logging.getLogger('omni_coupon.promotion').setLevel(logging.INFO)
    logging.basicConfig(format='  %(message)s')

    def work():
        Pool().get('sale.promotion')(campaign).create_codes(count)
    return timed_commit(work, company)


def stock_create(company, campaign, count):
    "Return the seconds stock Tryton's ORM takes to create count numbers"
    codes = [new_code() for _ in range(count)]

    def work():
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        coupon = pool.get('sale.promotion')(campaign).omni_coupon
        # Larger calls overflow Python's recursion limit in its validation
        for i in range(0, len(codes), STOCK_BATCH):
            Number.create([{'number': c, 'coupon': coupon.id,
                        'company': company}
                    for c in codes[i:i + STOCK_BATCH]])
    return timed_commit(work, company)


def timed_commit(work, company):
    """Return the seconds of work in a committed transaction, restarted on
    the locks it asks for as the RPC dispatcher does"""
    start = time.monotonic()
    run_committed(work, {'company': company})
    return time.monotonic() - start


def sample_codes(campaign, count):
    with Transaction().start(DB_NAME, 1, readonly=True):
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT n.number FROM sale_promotion_coupon_number n '
            'JOIN sale_promotion_coupon c ON c.id = n.coupon '
            'WHERE c.promotion = %s', (campaign,))
        codes = [c for c, in cursor]
    return random.sample(codes, min(count, len(codes)))


def timed(codes, company, check):
    "Return the milliseconds of check(code) on each code"
    times = []
    for code in codes:
        with Transaction().start(DB_NAME, 1, readonly=True,
                context={'company': company, '_check_access': True}):
            start = time.perf_counter()
            check(code)
            times.append((time.perf_counter() - start) * 1000)
    return times


def omni_check(code):
    result = Pool().get('omni.coupon').check(code, 'S01')
    assert result['valid'], result


def stock_check(code):
    Number = Pool().get('sale.promotion.coupon.number')
    assert Number.search([('number', '=', code)], limit=1)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main(argv=None):
    args = parse_args(argv)
    start = time.monotonic()
    try:
        company, campaign = set_up()
        with step(f"Generate {args.codes:,} codes"):
            ours = generate(company, campaign, args.codes)
        with step(f"Stock Tryton: create {args.stock_codes:,} numbers"):
            stock = stock_create(company, campaign, args.stock_codes)
        codes = sample_codes(campaign, args.checks)
        with step(f"Check {len(codes):,} codes, both ways"):
            timed(codes[:20], company, omni_check)
            checks = timed(codes, company, omni_check)
            stock_checks = timed(codes, company, stock_check)
    finally:
        if not args.keep:
            drop_db()
    ours_rate, stock_rate = args.codes / ours, args.stock_codes / stock
    log()
    log(f"(1) Generate Codes: {args.codes:,} codes in {ours:.1f} s "
        f"({ours_rate:,.0f}/s) vs stock ORM {stock_rate:,.0f}/s "
        f"({ours_rate / stock_rate:.0f}x)")
    median, stock_median = (statistics.median(checks),
        statistics.median(stock_checks))
    log(f"(2) check: median {median:.2f} ms, p95 "
        f"{percentile(checks, 0.95):.2f} ms vs stock active search median "
        f"{stock_median:.2f} ms, p95 {percentile(stock_checks, 0.95):.2f} ms "
        f"({stock_median / median:.1f}x)")
    log(f"Whole bench: {time.monotonic() - start:.0f} s")


if __name__ == '__main__':
    main()
