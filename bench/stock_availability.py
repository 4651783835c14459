# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark the stock levels against stock Tryton's computed quantities.

    python bench/stock_availability.py [--sizes 10000,100000,1000000]
        [--quick] [--reservations 400] [--keep]

A PostgreSQL database of 20 stores and 1,000 products is grown to each size
of done stock moves, and the medians are printed of:

(a) one product in every store,
(b) every product of one store,

read from the levels (the omni.stock availability API, and a bare
omni.stock.level search) and computed by stock Tryton
(product.product products_by_location), with their ratio, and of

(c) reservations per second by stock.move reserve (omni.stock.level reserve
    before it moved), each in its own committed transaction, with 1 and 8
    threads, and the retries they needed.

PostgreSQL is reached at TRYTOND_DATABASE__URI (default
postgresql://postgres@127.0.0.1:5432/).  The database omni_bench is dropped at
the end (unless --keep); the activated database is cached under
var/db-cache-bench/<digest of the modules' source>.
"""
import argparse
import os
import random
import statistics
import threading
import time
from collections import Counter
from decimal import Decimal

DB_NAME = 'omni_bench'

from benchenv import configure_environment, log, step  # noqa: E402

configure_environment(DB_NAME)

from proteus import config as proteus_config  # noqa: E402

from omni_retail.exceptions import StockShortageError  # noqa: E402
from trytond import backend  # noqa: E402
from trytond.modules.company.tests.tools import (  # noqa: E402
    create_company, get_company)
from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import (  # noqa: E402
    activate_module, drop_db)
from trytond.transaction import Transaction, TransactionError  # noqa: E402

MODULES = ['omni_retail']
SIZES = [10_000, 100_000, 1_000_000]
QUICK_SIZES = [10_000, 100_000]
STORES = 20
PRODUCTS = 1_000
THREADS = [1, 8]
SAMPLES_ONE_PRODUCT = 30
SAMPLES_ONE_STORE = 9
RESERVATIONS = 400
RETRIES = 10
INSERT_BATCH = 100_000
# Share of the generated moves that are sales to customers, the rest being
# deliveries from the supplier
OUTGOING = 0.7


class Bench:
    "The ids of the chain the benchmark runs on"
    company = currency = unit = supplier = customer = None
    warehouses = storages = store_codes = ()
    products = product_codes = ()

    @property
    def context(self):
        # The reserved moves go to customers without a sale as origin
        return {'company': self.company, '_skip_warnings': True}





def parse_sizes(text):
    return sorted({int(s.replace('_', '')) for s in text.split(',') if s})


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=parse_sizes,
        help="numbers of done moves to measure at "
        "(default: 10000,100000,1000000)")
    parser.add_argument('--quick', action='store_true',
        help=f"only {','.join(map(str, QUICK_SIZES))} moves")
    parser.add_argument('--reservations', type=int, default=RESERVATIONS,
        help="reservations per thread count and size (default: %(default)s)")
    parser.add_argument('--keep', action='store_true',
        help=f"keep the database {DB_NAME} at the end")
    args = parser.parse_args(argv)
    if not args.sizes:
        args.sizes = QUICK_SIZES if args.quick else SIZES
    return args


# Set-up

def create_database(bench):
    with step("Activate omni_retail (cached after the first run)"):
        drop_db()
        activate_module(MODULES)
    with step("Create company"):
        proteus_config.set_trytond(database=DB_NAME)
        create_company()
        company = get_company()
        bench.company = company.id
        bench.currency = company.currency.id
    with Transaction().start(DB_NAME, 0, context=bench.context):
        with step(f"Create {STORES} store warehouses, tills and channels"):
            create_stores(bench)
        with step(f"Create {PRODUCTS:,} products"):
            create_products(bench)


def create_stores(bench):
    pool = Pool()
    Location = pool.get('stock.location')
    ModelData = pool.get('ir.model.data')

    bench.unit = ModelData.get_id('product', 'uom_unit')
    supplier, = Location.search([('code', '=', 'SUP')])
    customer, = Location.search([('code', '=', 'CUS')])
    bench.supplier, bench.customer = supplier.id, customer.id
    codes = [f'B{i:02d}' for i in range(1, STORES + 1)]
    zones = Location.create([{
                'name': f"{code} {zone}",
                'type': 'storage',
                } for code in codes for zone in ['Input', 'Output', 'Storage']])
    warehouses = Location.create([{
                'name': f"Bench store {code}",
                'code': code,
                'type': 'warehouse',
                'input_location': zones[3 * i].id,
                'output_location': zones[3 * i + 1].id,
                'storage_location': zones[3 * i + 2].id,
                } for i, code in enumerate(codes)])
    bench.warehouses = [w.id for w in warehouses]
    bench.storages = [w.storage_location.id for w in warehouses]
    bench.store_codes = codes
    create_channels(bench, warehouses)


def create_channels(bench, warehouses):
    "Each store warehouse is sold by a store channel with its own till"
    pool = Pool()
    Channel = pool.get('omni.channel')
    Journal = pool.get('account.journal')
    ModelData = pool.get('ir.model.data')
    POS = pool.get('sale.point')
    SequenceStrict = pool.get('ir.sequence.strict')

    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    sequence_type = ModelData.get_id('sale_point', 'sequence_type_sale')
    sequences = SequenceStrict.create([{
                'name': f"{w.code} till",
                'sequence_type': sequence_type,
                'company': bench.company,
                } for w in warehouses])
    tills = POS.create([{
                'name': f"{w.code} till",
                'company': bench.company,
                'sequence': s.id,
                'journal': journal.id,
                'storage_location': w.storage_location.id,
                'customer_location': bench.customer,
                } for w, s in zip(warehouses, sequences)])
    Channel.create([{
                'code': w.code,
                'name': w.name,
                'kind': 'store',
                'company': bench.company,
                'warehouse': w.id,
                'sale_point': t.id,
                } for w, t in zip(warehouses, tills)])


def create_products(bench, batch=250):
    pool = Pool()
    Product = pool.get('product.product')
    Template = pool.get('product.template')

    for start in range(0, PRODUCTS, batch):
        Template.create([{
                    'name': f"Bench product {i:04d}",
                    'code': f'BP{i:04d}',
                    'type': 'goods',
                    'default_uom': bench.unit,
                    'list_price': Decimal('10'),
                    'products': [('create', [{}])],
                    } for i in range(start, min(start + batch, PRODUCTS))])
        log(f"  products: {min(start + batch, PRODUCTS):,}/{PRODUCTS:,}")
    products = Product.search(
        [('code', 'like', 'BP%')], order=[('id', 'ASC')])
    bench.products = [p.id for p in products]
    bench.product_codes = [p.code for p in products]


# Done moves, inserted by SQL

MOVES_INSERT = """
INSERT INTO stock_move (
        product, unit, quantity, internal_quantity,
        from_location, to_location, planned_date, effective_date, state,
        company, currency, unit_price, cost_price, create_uid, create_date)
    SELECT
        (%(products)s::int[])[s.p], %(unit)s, s.quantity, s.quantity,
        CASE WHEN s.outgoing
            THEN (%(storages)s::int[])[s.w] ELSE %(supplier)s END,
        CASE WHEN s.outgoing
            THEN %(customer)s ELSE (%(storages)s::int[])[s.w] END,
        s.day, s.day, 'done',
        %(company)s, %(currency)s, 1, 1, 0, CURRENT_TIMESTAMP
    FROM (
        SELECT
            1 + floor(random() * %(product_count)s)::int AS p,
            1 + floor(random() * %(store_count)s)::int AS w,
            g.r < %(outgoing)s AS outgoing,
            CASE WHEN g.r < %(outgoing)s
                THEN 1 + floor(random() * 4)
                ELSE 10 + floor(random() * 31) END AS quantity,
            CURRENT_DATE - (1 + floor(random() * 365))::int AS day
        FROM (SELECT random() AS r
            FROM generate_series(1, %(count)s)) AS g) AS s
"""

# The levels the stock.move extension would have kept for these moves
LEVELS_UPSERT = """
INSERT INTO omni_stock_level AS l (
        product, warehouse, on_hand, reserved, safety,
        create_uid, create_date)
    SELECT d.product, d.warehouse, sum(d.quantity), 0, 0,
        0, CURRENT_TIMESTAMP
    FROM (
        SELECT m.product, w.warehouse, m.internal_quantity AS quantity
        FROM stock_move AS m
        JOIN unnest(%(zones)s::int[], %(warehouses)s::int[])
            AS w (location, warehouse) ON m.to_location = w.location
        WHERE m.id > %(after)s AND m.state = 'done'
        UNION ALL
        SELECT m.product, w.warehouse, -m.internal_quantity
        FROM stock_move AS m
        JOIN unnest(%(zones)s::int[], %(warehouses)s::int[])
            AS w (location, warehouse) ON m.from_location = w.location
        WHERE m.id > %(after)s AND m.state = 'done') AS d
    GROUP BY d.product, d.warehouse
    ON CONFLICT (product, warehouse) DO UPDATE
        SET on_hand = l.on_hand + EXCLUDED.on_hand,
            write_uid = 0, write_date = CURRENT_TIMESTAMP
"""


def count_moves(cursor):
    cursor.execute("SELECT count(*), coalesce(max(id), 0) FROM stock_move")
    return cursor.fetchone()


def grow_moves(bench, size):
    "Insert done moves up to size, and add them to the levels"
    with Transaction().start(DB_NAME, 0) as transaction:
        cursor = transaction.connection.cursor()
        current, last_id = count_moves(cursor)
        missing = size - current
        if missing <= 0:
            return {}
        timings = {}
        with step(f"Insert {missing:,} done moves by SQL") as timer:
            insert_moves(bench, cursor, missing, seed=current)
        timings['insert'] = timer['seconds']
        with step("Add them to the levels by SQL") as timer:
            upsert_levels(bench, cursor, last_id)
            cursor.execute("ANALYZE stock_move")
            cursor.execute("ANALYZE omni_stock_level")
        timings['levels'] = timer['seconds']
    return timings


def insert_moves(bench, cursor, count, seed):
    cursor.execute("SELECT setseed(%s)", (1 / (2 + seed % 1_000_003),))
    done = 0
    while done < count:
        batch = min(INSERT_BATCH, count - done)
        cursor.execute(MOVES_INSERT, {
                'products': list(bench.products),
                'storages': list(bench.storages),
                'product_count': len(bench.products),
                'store_count': len(bench.storages),
                'unit': bench.unit,
                'supplier': bench.supplier,
                'customer': bench.customer,
                'company': bench.company,
                'currency': bench.currency,
                'outgoing': OUTGOING,
                'count': batch,
                })
        done += batch
        log(f"  moves: {done:,}/{count:,}")


def upsert_levels(bench, cursor, after):
    pool = Pool()
    Location = pool.get('stock.location')
    zones = [z for z in Location.search(
            [('parent', 'child_of', bench.warehouses)]) if z.warehouse]
    cursor.execute(LEVELS_UPSERT, {
            'zones': [z.id for z in zones],
            'warehouses': [z.warehouse.id for z in zones],
            'after': after,
            })


def drift_check(bench):
    """Return the drifts Level.reconcile finds between the levels and stock
    Tryton's quantities, and its time"""
    with Transaction().start(
            DB_NAME, 1, readonly=True, context=bench.context):
        Level = Pool().get('omni.stock.level')
        start = time.monotonic()
        drifts = Level.reconcile()
        return drifts, time.monotonic() - start


# Lookups

def time_samples(bench, label, call, arguments):
    "Return the durations of call(*argument), each in its own transaction"
    durations = []
    for i, argument in enumerate(arguments, 1):
        with Transaction().start(
                DB_NAME, 1, readonly=True, context=bench.context):
            start = time.monotonic()
            call(*argument)
            durations.append(time.monotonic() - start)
        if i % 10 == 0 or i == len(arguments):
            log(f"  {label}: {i}/{len(arguments)}")
    return durations


def api_availability(codes, store_codes):
    Stock = Pool().get('omni.stock')
    return Stock.availability(codes, store_codes)


def level_search(domain):
    Level = Pool().get('omni.stock.level')
    return [l.available for l in Level.search(domain)]


def products_by_location(warehouses, products):
    pool = Pool()
    Date = pool.get('ir.date')
    Product = pool.get('product.product')
    grouping_filter = (products,) if products is not None else None
    with Transaction().set_context(stock_date_end=Date.today()):
        return Product.products_by_location(warehouses, with_childs=True,
            grouping_filter=grouping_filter)


def measure_one_product(bench, rng, samples=SAMPLES_ONE_PRODUCT):
    "(a) one product in every store"
    picks = [rng.randrange(len(bench.products)) for _ in range(samples + 1)]
    warehouses = list(bench.warehouses)
    cases = {
        'api': (api_availability,
            [([bench.product_codes[i]], None) for i in picks]),
        'search': (level_search,
            [([('product', '=', bench.products[i]),
                        ('warehouse', 'in', warehouses)],)
                for i in picks]),
        'tryton': (products_by_location,
            [(warehouses, [bench.products[i]]) for i in picks]),
        }
    return measure_cases(bench, "(a)", cases)


def measure_one_store(bench, rng, samples=SAMPLES_ONE_STORE):
    "(b) every product of one store"
    picks = [rng.randrange(len(bench.warehouses)) for _ in range(samples + 1)]
    codes = list(bench.product_codes)
    cases = {
        'api': (api_availability,
            [(codes, [bench.store_codes[i]]) for i in picks]),
        'search': (level_search,
            [([('warehouse', '=', bench.warehouses[i])],) for i in picks]),
        'tryton': (products_by_location,
            [([bench.warehouses[i]], None) for i in picks]),
        }
    return measure_cases(bench, "(b)", cases)


def measure_cases(bench, name, cases):
    "Return the median of each case, the first sample being a warm-up"
    medians = {}
    for key, (call, arguments) in cases.items():
        durations = time_samples(bench, f"{name} {key}", call, arguments)
        medians[key] = statistics.median(durations[1:])
    return medians


# Reservations

def create_outgoing_moves(bench, rng, count):
    """Create count draft moves of 1 unit from a store to a customer, for
    (product, warehouse) picked at random among those with stock"""
    with Transaction().start(
            DB_NAME, 0, context=bench.context) as transaction:
        pool = Pool()
        Date = pool.get('ir.date')
        Level = pool.get('omni.stock.level')
        Move = pool.get('stock.move')
        table = Level.__table__()
        cursor = transaction.connection.cursor()
        cursor.execute(*table.select(table.product, table.warehouse,
                where=Level._available_column(table) >= 5,
                order_by=[table.id]))
        pairs = cursor.fetchall()
        storage_of = dict(zip(bench.warehouses, bench.storages))
        today = Date.today()
        moves = Move.create([{
                    'product': product,
                    'unit': bench.unit,
                    'quantity': 1,
                    'from_location': storage_of[warehouse],
                    'to_location': bench.customer,
                    'planned_date': today,
                    'company': bench.company,
                    'currency': bench.currency,
                    'unit_price': Decimal('10'),
                    } for product, warehouse in (
                    rng.choice(pairs) for _ in range(count))])
        return [m.id for m in moves]


def reserve_moves(moves):
    "Reserve the moves through the public method of this version"
    pool = Pool()
    Level = pool.get('omni.stock.level')
    Move = pool.get('stock.move')
    if hasattr(Move, 'reserve'):
        Move.reserve(moves)
    else:
        Level.reserve(moves)


def reserve(bench, move_id, counts):
    "Reserve one move in its own transaction; return the outcome"
    extras, attempt = {}, 0
    while True:
        try:
            with Transaction().start(
                    DB_NAME, 1, context=bench.context,
                    **extras) as transaction:
                Move = Pool().get('stock.move')
                try:
                    reserve_moves([Move(move_id)])
                except TransactionError as exception:
                    # Restart with the levels locked at the start
                    transaction.rollback()
                    exception.fix(extras)
                    counts['lock restart'] += 1
                    continue
            return 'ok'
        except StockShortageError:
            return 'short'
        except backend.DatabaseOperationalError as exception:
            counts[type(exception).__name__] += 1
            if attempt >= RETRIES:
                return 'gave up'
            attempt += 1
            time.sleep(0.02 * attempt)


def measure_reservations(bench, rng, threads, count):
    "(c) reserve count moves with threads, each its own share"
    label = f"(c) reservations, {threads} thread{'s' * (threads > 1)}"
    with step(f"{label}: create {count} draft moves"):
        move_ids = create_outgoing_moves(bench, rng, count)
    shares = [move_ids[i::threads] for i in range(threads)]
    outcomes, latencies, counts = Counter(), [], Counter()
    failures = []
    guard = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def work(share):
        mine, durations, tally = Counter(), [], Counter()
        barrier.wait()
        for move_id in share:
            start = time.monotonic()
            try:
                mine[reserve(bench, move_id, tally)] += 1
            except Exception as exception:
                mine['failed'] += 1
                failures.append(repr(exception))
            durations.append(time.monotonic() - start)
            with guard:
                outcomes['done'] += 1
        with guard:
            outcomes.update(mine)
            latencies.extend(durations)
            counts.update(tally)

    workers = [threading.Thread(target=work, args=(s,)) for s in shares]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.monotonic()
    while any(w.is_alive() for w in workers):
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                break
        log(f"  {label}: {outcomes['done']}/{count}")
    wall = time.monotonic() - start
    del outcomes['done']
    if failures:
        log(f"  {len(failures)} failed, first: {failures[0]}")
    latencies.sort()
    return {
        'threads': threads,
        'count': count,
        'ok': outcomes['ok'],
        'short': outcomes['short'],
        'gave up': outcomes['gave up'] + outcomes['failed'],
        'wall': wall,
        'rate': outcomes['ok'] / wall if wall else 0,
        'median': statistics.median(latencies),
        'p95': latencies[int(0.95 * (len(latencies) - 1))],
        'lock restarts': counts.pop('lock restart', 0),
        'errors': dict(counts),
        }


# Report

def print_report(results, total):
    log()
    log("=" * 78)
    log(f"Stock availability: {STORES} stores x {PRODUCTS:,} products; "
        f"medians in ms of {SAMPLES_ONE_PRODUCT} (a) and "
        f"{SAMPLES_ONE_STORE} (b) samples")
    log("ratio = products_by_location / levels API (how many times the "
        "levels are faster)")
    log()
    header = (f"{'moves':>10}  {'case':<26}{'levels API':>11}"
        f"{'level search':>13}{'products_by_loc':>16}{'ratio':>8}")
    log(header)
    log('-' * len(header))
    cases = [
        ('one_product', f"(a) 1 product, {STORES} stores"),
        ('one_store', f"(b) {PRODUCTS:,} products, 1 store"),
        ]
    for size, result in results:
        for key, label in cases:
            medians = result[key]
            log(f"{size:>10,}  {label:<26}{medians['api'] * 1000:>11.1f}"
                f"{medians['search'] * 1000:>13.1f}"
                f"{medians['tryton'] * 1000:>16.1f}"
                f"{medians['tryton'] / medians['api']:>7.1f}x")
    log()
    log("(c) stock.move reserve of 1 unit per transaction, committed "
        "(latency includes retries)")
    header = (f"{'moves':>10}{'threads':>8}{'ok':>6}{'short':>6}"
        f"{'wall s':>8}{'res/s':>8}{'median ms':>10}{'p95 ms':>8}"
        f"{'lock restarts':>14}  {'DB errors retried / gave up'}")
    log(header)
    log('-' * len(header))
    for size, result in results:
        for r in result['reservations']:
            errors = ', '.join(
                f"{k} {v}" for k, v in sorted(r['errors'].items())) or '0'
            log(f"{size:>10,}{r['threads']:>8}{r['ok']:>6}{r['short']:>6}"
                f"{r['wall']:>8.1f}{r['rate']:>8.1f}"
                f"{r['median'] * 1000:>10.1f}{r['p95'] * 1000:>8.1f}"
                f"{r['lock restarts']:>14}  {errors} / {r['gave up']}")
    log()
    log("Set-up and drift check (Level.reconcile: levels against stock "
        "Tryton's quantities, before / after the reservations)")
    header = (f"{'moves':>10}{'SQL insert s':>14}{'SQL levels s':>14}"
        f"{'Level.reconcile s':>19}{'drifts':>9}")
    log(header)
    log('-' * len(header))
    for size, result in results:
        timings = result['growth']
        log(f"{size:>10,}{timings.get('insert', 0):>14.1f}"
            f"{timings.get('levels', 0):>14.1f}"
            f"{result['computed']:>19.1f}"
            f"{result['drifts'][0]:>4} / {result['drifts'][1]:<3}")
    log()
    log(f"Total run time: {total:.0f} s")


def log_drifts(drifts):
    if drifts:
        log(f"  {len(drifts)} drifts ((product, warehouse), level (on hand, "
            f"reserved), moves): {drifts[:5]}")


def run(args):
    bench = Bench()
    rng = random.Random(42)
    create_database(bench)
    results = []
    for size in args.sizes:
        log()
        log(f"=== {size:,} done moves")
        result = {'growth': grow_moves(bench, size)}
        with step("Drift check"):
            drifts, result['computed'] = drift_check(bench)
        log_drifts(drifts)
        with step(f"(a) 1 product, {STORES} stores"):
            result['one_product'] = measure_one_product(bench, rng)
        with step(f"(b) {PRODUCTS:,} products, 1 store"):
            result['one_store'] = measure_one_store(bench, rng)
        result['reservations'] = [
            measure_reservations(bench, rng, threads, args.reservations)
            for threads in THREADS]
        with step("Drift check after the reservations"):
            after, _ = drift_check(bench)
        log_drifts(after)
        result['drifts'] = (len(drifts), len(after))
        results.append((size, result))
    return results


def main(argv=None):
    args = parse_args(argv)
    log(f"Sizes: {', '.join(f'{s:,}' for s in args.sizes)} done moves; "
        f"database {DB_NAME}; cache {os.environ['DB_CACHE']}")
    start = time.monotonic()
    try:
        results = run(args)
    finally:
        if not args.keep:
            drop_db()
    print_report(results, time.monotonic() - start)


if __name__ == '__main__':
    main()
