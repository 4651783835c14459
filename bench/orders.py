# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark order intake (omni.order.place) against the code before it was
rewritten, in the same run.

    python bench/orders.py [--orders 30] [--buyers 8] [--baseline REV]

On PostgreSQL, the mall places --orders pickup orders of three goods for
ten members in turn (their first orders make them members), one after the
other, each call in its own committed transaction run as the RPC
dispatcher runs it (restarted on the locks it asks for, retried
5 times on a concurrent update, an error after that); then --buyers buyers
place orders at once for the same two hot products, three rounds.  Printed,
for this tree and for the tree of git revision --baseline (default: the
last commit before the rewrite), in the same run:

- the median and p95 of a call, its SQL statements and restarts, and the
  median by a new member and by a returning one;
- the queued work per order (the sale workflow trytond-worker runs after
  the call: shipments, invoices, points, the store's alert), and its SQL;
- the contended rounds: orders accepted, refused for stock, and failed
  with an error the client would see (HTTP 503 behind the dispatcher);
- afterwards: the stock levels against Tryton's computed stock.

The baseline runs in a subprocess on its own source (git archive into
var/bench-baseline), its own database.  PostgreSQL is reached at
TRYTOND_DATABASE__URI (default postgresql://postgres@127.0.0.1:5432/).
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = '56cedaf'
ORDERS = 30
BUYERS = 8
ROUNDS = 3
CODES = ['TEA', 'CAKE', 'MILK']
# The first orders make new members, the others are theirs again
MEMBERS = 10
HOT = ['TEA', 'CAKE']


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--orders', type=int, default=ORDERS)
    parser.add_argument('--buyers', type=int, default=BUYERS)
    parser.add_argument('--baseline', default=BASELINE,
        help="git revision of the code to compare with (default: "
        "%(default)s)")
    parser.add_argument('--measure', metavar='LABEL',
        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def measure(label, orders, buyers):
    "Measure the tree on sys.path; return the figures as a dict"
    from benchenv import (
        MODULES, configure_environment, log, run_as_server, step)
    db_name = f'bench_orders_{label}'
    configure_environment(db_name)
    if os.environ.get('BENCH_BASELINE'):
        # Another source: another cache of activated databases
        os.environ['DB_CACHE'] = str(ROOT / 'var' / 'bench-baseline'
            / os.environ['BENCH_BASELINE'] / 'db-cache')
        os.makedirs(os.environ['DB_CACHE'], exist_ok=True)
    from trytond.backend.postgresql.database import LoggingCursor
    from trytond.pool import Pool
    from trytond.tests.test_tryton import activate_module, drop_db
    from trytond.transaction import Transaction
    from trytond.worker import run_task
    from proteus import config as proteus_config

    from omni_retail.exceptions import StockShortageError
    from omni_retail.tests import (
        create_mall, create_till_chain, receive, set_company_country)

    counter = {'statements': 0}
    execute = LoggingCursor.execute

    def counting(self, query, *args, **kwargs):
        counter['statements'] += 1
        return execute(self, query, *args, **kwargs)
    LoggingCursor.execute = counting

    # The baseline's omni_o2o held every feature of the product
    modules = ['omni_o2o'] if os.environ.get('BENCH_BASELINE') else MODULES
    with step(f"[{label}] activate {', '.join(modules)} "
            "(cached after the first run)"):
        drop_db()
        activate_module(modules)
    with step(f"[{label}] create the store S01, the mall and the goods"):
        proteus_config.set_trytond(database=db_name)
        _, (store,), products = create_till_chain(['S01'], CODES)
        company = set_company_country()
        store.pickup = True
        store.save()
        create_mall()
        for product in products:
            receive(product, store, 10 * orders)
    context = {'company': company.id, '_skip_warnings': True}
    run_as_server()

    # The dispatcher's way, from this tree whichever tree is measured
    spec = importlib.util.spec_from_file_location('omni_bench_tools',
        ROOT / 'addons' / 'omni_retail' / 'tests' / 'tools.py')
    tools = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tools)

    def dispatched(work):
        return tools.run_dispatched(work, context)

    def place(reference, codes, phone):
        return Pool().get('omni.order').place({
                'channel': 'MALL', 'reference': reference,
                'member_phone': phone, 'fulfilment': 'pickup',
                'store': 'S01',
                'lines': [{'product': c, 'quantity': 1} for c in codes]})

    calls, tasks = [], []
    log(f"[{label}] {orders} orders one after the other...")
    for i in range(orders):
        before = counter['statements']
        start = time.perf_counter()
        _, restarts, task_ids = dispatched(
            lambda: place(f'SEQ-{i}', CODES, f'1390000{i % MEMBERS:04d}'))
        calls.append((
                (time.perf_counter() - start) * 1000,
                counter['statements'] - before, restarts))
        before = counter['statements']
        start = time.perf_counter()
        for task_id in task_ids:
            run_task(db_name, task_id)
        tasks.append((
                (time.perf_counter() - start) * 1000,
                counter['statements'] - before))

    log(f"[{label}] {ROUNDS} rounds of {buyers} buyers at once "
        f"on {', '.join(HOT)}...")
    outcomes = {'accepted': 0, 'refused': 0, 'error': 0}
    errors = {}
    contended = []
    lock = threading.Lock()
    for round_ in range(ROUNDS):
        barrier = threading.Barrier(buyers)

        def buyer(i):
            barrier.wait()
            start = time.perf_counter()
            try:
                _, _, task_ids = dispatched(lambda: place(
                        f'HOT-{round_}-{i}', HOT, f'1370000{i:04d}'))
                outcome = 'accepted'
            except StockShortageError:
                outcome, task_ids = 'refused', []
            except Exception as e:
                outcome, task_ids = 'error', []
                with lock:
                    name = type(e).__name__
                    errors[name] = errors.get(name, 0) + 1
            ms = (time.perf_counter() - start) * 1000
            for task_id in task_ids:
                run_task(db_name, task_id)
            with lock:
                outcomes[outcome] += 1
                contended.append(ms)
        threads = [threading.Thread(target=buyer, args=(i,))
            for i in range(buyers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    with Transaction().start(db_name, 0, context=context):
        drifts = Pool().get('omni.stock.level').reconcile()
    drop_db()
    return {
        'label': label,
        'calls': calls,
        'tasks': tasks,
        'outcomes': outcomes,
        'errors': errors,
        'contended': contended,
        'drifts': len(drifts),
        }


def baseline_tree(revision):
    "Return the addons folder of revision, extracted under var/"
    target = ROOT / 'var' / 'bench-baseline' / revision
    if not (target / 'addons').exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ['git', 'archive', revision, 'addons'], cwd=ROOT,
            check=True, capture_output=True).stdout
        subprocess.run(['tar', '-x', '-C', str(target)], input=archive,
            check=True)
    return target / 'addons'


def run_measure(label, args, revision=None):
    """Measure in a subprocess, on the source of revision (default: this
    tree); return its figures"""
    env = dict(os.environ)
    if revision:
        env['PYTHONPATH'] = os.pathsep.join(
            [str(baseline_tree(revision)), env.get('PYTHONPATH', '')])
        env['BENCH_BASELINE'] = revision
    command = [sys.executable, __file__, '--measure', label,
        '--orders', str(args.orders), '--buyers', str(args.buyers)]
    output = subprocess.run(command, env=env, check=True,
        stdout=subprocess.PIPE, text=True).stdout
    for line in output.splitlines():
        if line.startswith('FIGURES '):
            return json.loads(line[len('FIGURES '):])
        print(line, flush=True)
    raise RuntimeError(f"no figures from {label}")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * len(values))))]


def report(ours, before):
    def row(name, values, unit, fmt='{:.0f}'):
        a, b = values(ours), values(before)
        ratio = f'{b / a:.1f}×' if a else '-'
        print(f"  {name:<34} {fmt.format(a):>10} {fmt.format(b):>10}"
            f"  {unit:<5} {ratio:>8}")

    def median(key, index):
        return lambda f: statistics.median(x[index] for x in f[key])

    def p95(key, index):
        return lambda f: percentile([x[index] for x in f[key]], 95)

    print()
    print(f"  {'omni.order.place, 3-line pickup':<34} {'ours':>10} "
        f"{'before':>10}  {'':<5} {'before/ours':>8}")
    row("call median", median('calls', 0), 'ms')
    row("  by a new member", lambda f: statistics.median(
            c[0] for c in f['calls'][:MEMBERS]), 'ms')
    row("  by a returning member", lambda f: statistics.median(
            c[0] for c in f['calls'][MEMBERS:]), 'ms')
    row("call p95", p95('calls', 0), 'ms')
    row("call SQL statements (median)", median('calls', 1), 'stmts')
    row("call restarts (median)", median('calls', 2), '', '{:.1f}')
    row("queued work median", median('tasks', 0), 'ms')
    row("queued work SQL statements", median('tasks', 1), 'stmts')
    row("call + queued work median",
        lambda f: statistics.median(c[0] + t[0]
            for c, t in zip(f['calls'], f['tasks'])), 'ms')
    row("contended call median",
        lambda f: statistics.median(f['contended']), 'ms')
    row("contended call p95",
        lambda f: percentile(f['contended'], 95), 'ms')
    for figures in [ours, before]:
        o = figures['outcomes']
        print(f"  {figures['label']}: contended orders {o['accepted']} "
            f"accepted, {o['refused']} refused for stock, {o['error']} "
            f"errors {figures['errors'] or ''}; stock level drifts after: "
            f"{figures['drifts']}")
    print()
    print("Targets: call median ≤ 150 ms, ≤ 300 SQL statements, "
        "no contended errors, no drift.")


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT / 'bench'))
    if args.measure:
        figures = measure(args.measure, args.orders, args.buyers)
        print('FIGURES ' + json.dumps(figures), flush=True)
        return
    before = run_measure('before', args, args.baseline)
    ours = run_measure('ours', args)
    report(ours, before)


if __name__ == '__main__':
    main()
