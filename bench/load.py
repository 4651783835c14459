# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Chain load test over HTTP against production mode.

    python bench/load.py [--seconds 40] [--workers 1,2,4] [--stores 3]
                         [--no-paced] [--keep] [--reuse]

Sets up the PostgreSQL database bench_load (the product's modules activated
from the benchmarks' template cache): K stores with their tills and
cashiers, goods stocked everywhere, members with points and stored value,
the MALL channel with its integrator key and the MEITUAN platform with its
webhook secret.

Then, for each worker count, it starts production mode on 127.0.0.1 only
(scripts/prod.py when it exists, else gunicorn running
trytond.application:app with that many workers, trytond-cron and
trytond-worker with the queue on), and threads of this process, each with
its own HTTP connection, load it for --seconds:

- each store's till rings up sales through the cashier page's own JSON-RPC
  calls, logged in once with a session: new, 3 scans, member, pay (cash);
- the mall places pickup orders through the keyed route (Bearer key),
  --hot-share of them on a few hot products at S01;
- the platform posts signed order webhooks (served by S01);
- an integrator looks members up (omni.member.lookup, keyed route).

After the load it waits (bounded) for the queue to drain, checks the
database (stock levels equal Tryton's computed stock, nothing available
below zero, ledgers sum, each accepted order reserved once, every queued
task done) and prints a table of every run side by side, with the targets.
A last run with 2 workers is paced at 70 % of the 2-worker maximum: each
thread at 70 % of the units (till sales, orders, lookups) it finished then.

Each run measures --seconds after one warm-up unit per thread; calls
started in that window give the latencies, units finished in it the rates;
errors count from the warm-up to the last call.  Production mode's output
goes to var/bench-load/<run>.log.  Set-up takes about a minute once the
activated database is cached (var/db-cache-bench, per digest of the
modules' source; the first activation after a change of addons/ takes
several minutes), each run about a minute and a half.  --keep leaves the
database, --reuse loads it again without the set-up (the data of earlier
runs stays, and so do their queue tasks).
"""
import argparse
import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

DB_NAME = 'bench_load'

from benchenv import (  # noqa: E402
    MODULES, ROOT, configure_environment, log, step)

configure_environment(DB_NAME)

import demo_data  # noqa: E402
import psycopg  # noqa: E402
from proteus import Model  # noqa: E402
from proteus import config as proteus_config  # noqa: E402
from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import activate_module, drop_db  # noqa: E402
from trytond.transaction import Transaction  # noqa: E402

from omni_platform.platform import signed_headers  # noqa: E402

HOST = '127.0.0.1'
CASHIER_PASSWORD = 'omni-cashier'
API_KEY = demo_data.DEMO_API_KEY
PLATFORM = 'MEITUAN'
PLATFORM_SECRET = demo_data.PLATFORM_SECRETS[PLATFORM]
HOT = 3  # hot products the mall's share of orders rushes at, all at S01
LOGS = ROOT / 'var' / 'bench-load'
TARGETS = {
    'intake': 10,  # orders/s of mixed intake with 2 workers
    'scaling': 1.7,  # 2 workers against 1
    'errors': 0,
    'pay_p99': 500,  # ms, till pay at 70 % of the maximum rate
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=40,
        help="seconds of load per run (default: %(default)s)")
    parser.add_argument('--workers', default='1,2,4',
        help="worker counts to run, comma separated (default: %(default)s)")
    parser.add_argument('--stores', type=int, default=3,
        help="stores, each with its till and cashier (default: %(default)s)")
    parser.add_argument('--products', type=int, default=40,
        help="products in the catalog (default: %(default)s)")
    parser.add_argument('--members', type=int, default=200,
        help="members (default: %(default)s)")
    parser.add_argument('--mall-threads', type=int, default=2,
        help="threads placing mall orders (default: %(default)s)")
    parser.add_argument('--platform-threads', type=int, default=1,
        help="threads posting platform webhooks (default: %(default)s)")
    parser.add_argument('--lookup-threads', type=int, default=1,
        help="threads looking members up (default: %(default)s)")
    parser.add_argument('--hot-share', type=float, default=0.3,
        help="share of mall orders on the hot products (default: "
        "%(default)s)")
    parser.add_argument('--drain', type=float, default=120,
        help="seconds to wait at most for the queue to drain after a run "
        "(default: %(default)s)")
    parser.add_argument('--no-paced', action='store_true',
        help="skip the run paced at 70 %% of the 2-worker maximum")
    parser.add_argument('--reuse', action='store_true',
        help=f"reuse the database {DB_NAME} set up by a --keep run")
    parser.add_argument('--keep', action='store_true',
        help=f"keep the database {DB_NAME} at the end")
    args = parser.parse_args(argv)
    args.workers = [int(w) for w in args.workers.split(',') if w]
    return args


# -- set-up -----------------------------------------------------------------

def store_codes(count):
    return [f'S{i:02d}' for i in range(1, count + 1)]


def set_up(args):
    """Create the chain in DB_NAME; return what the clients need:
    {'stores', 'products', 'hot', 'phones'}"""
    with step("Activate the product's modules (cached after the first run)"):
        drop_db()
        activate_module(MODULES)
    proteus_config.set_trytond(database=DB_NAME)
    config = proteus_config.get_config()
    rng = random.Random(2026)
    quiet = open(os.devnull, 'w')
    # demo_data's builders, with K stores of our own
    demo_data.STORES = [
        demo_data.StoreSpec(code, f"Store {code}", f"{i} Load Road",
            f'{31.2 + i / 100:.6f}', f'{121.45 + i / 100:.6f}', True,
            f"Cashier {code}")
        for i, code in enumerate(store_codes(args.stores), 1)]
    with step(f"Create the company, {args.stores} stores, the mall and "
            f"{PLATFORM}, {args.products} goods stocked"):
        company = demo_data._create_company(config)
        accounts, tax = demo_data._create_accounting(company)
        warehouses, stores = demo_data._create_stores(company, accounts)
        mall, _ = demo_data._create_online_channels(
            company, warehouses, stores)
        catalog = demo_data._create_catalog(
            company, accounts, tax, args.products, rng, quiet)
        stock_up(catalog, warehouses.values())
    with step(f"Create {args.members} members with points and stored value, "
            "the cashiers and the mall's key"):
        phones = demo_data._create_customers(args.members, 0, rng, quiet)
        enrol(phones, [s.code for s in stores] + ['MALL'])
        demo_data._set_up_member_ledgers(company, accounts, tax, quiet)
        create_cashiers(company, stores)
        demo_data._create_integrator(company, mall)
    codes = [p.code for p in catalog]
    return {'stores': [s.code for s in stores], 'products': codes[HOT:],
        'hot': codes[:HOT], 'phones': phones}


def stock_up(products, warehouses, quantity=1_000_000):
    "Receive a large quantity of every product in every warehouse"
    with demo_data.server_transaction() as pool:
        Location = pool.get('stock.location')
        Move = pool.get('stock.move')
        Product = pool.get('product.product')
        Company = pool.get('company.company')
        supplier, = Location.search([('code', '=', 'SUP')])
        currency = Company.search([], limit=1)[0].currency.id
        moves = Move.create([{
                    'product': p.id, 'quantity': quantity,
                    'unit': p.default_uom.id, 'from_location': supplier.id,
                    'to_location': Location(w.id).storage_location.id,
                    'unit_price': p.cost_price,
                    'currency': currency,
                    } for w in warehouses
                for p in Product.browse([p.id for p in products])])
        with Transaction().set_context(_skip_warnings=True):
            Move.do(moves)


def enrol(phones, channels):
    with demo_data.server_transaction() as pool:
        Member = pool.get('omni.member')
        for i, phone in enumerate(phones):
            Member.register(phone, None, channels[i % len(channels)])


def create_cashiers(company, stores):
    "A cashier login per store: cashier1, cashier2…"
    Company = Model.get('company.company')
    Group = Model.get('res.group')
    User = Model.get('res.user')
    groups = demo_data._group_ids(
        'omni_retail.group_omni_store', 'sale_point.group_sale_point')
    users = []
    for i, store in enumerate(stores, 1):
        user = User(login=f'cashier{i}', name=f"Cashier {store.code}",
            password=CASHIER_PASSWORD, omni_store=store)
        user.groups.extend(Group(g) for g in groups)
        user.companies.append(Company(company.id))
        user.company = company
        users.append(user)
    User.save(users)
    admin, = User.find([('login', '=', 'admin')])
    admin.companies.append(Company(company.id))
    admin.company = company
    admin.save()


# -- production mode ----------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Production:
    """Production mode on 127.0.0.1: scripts/prod.py when it exists, else
    gunicorn + trytond-cron + trytond-worker started here in the same way"""

    def __init__(self, workers, label):
        self.workers, self.port = workers, free_port()
        self.processes = []
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f'{label}.log'
        self.how = None

    def environment(self):
        env = dict(os.environ,
            DATABASE=DB_NAME,
            TRYTOND_DATABASE_NAMES=DB_NAME,
            TRYTOND_DATABASE__URI=os.environ['TRYTOND_DATABASE__URI'],
            TRYTOND_WEB__LISTEN=f'{HOST}:{self.port}',
            TRYTOND_CONFIG=str(ROOT / 'trytond.conf'),
            TRYTOND_QUEUE__WORKER='True',
            TRYTOND_CACHE__CLEAN_TIMEOUT='0',
            WORKERS=str(self.workers))
        for name in ['DB_NAME', 'DB_CACHE']:
            env.pop(name, None)
        return env

    def start(self):
        env = self.environment()
        out = open(self.log_path, 'w')
        bin_ = Path(sys.executable).parent
        config = str(ROOT / 'trytond.conf')
        prod = ROOT / 'scripts' / 'prod.py'
        if prod.exists():
            self.how = 'scripts/prod.py'
            commands = [[sys.executable, str(prod)]]
        else:
            self.how = 'gunicorn + trytond-cron + trytond-worker'
            commands = [
                [str(bin_ / 'gunicorn'), '--workers', str(self.workers),
                    '--bind', f'{HOST}:{self.port}', '--timeout', '120',
                    '--graceful-timeout', '5',
                    'trytond.application:app'],
                [str(bin_ / 'trytond-cron'), '-c', config, '-d', DB_NAME],
                [str(bin_ / 'trytond-worker'), '-c', config, '-d', DB_NAME],
                ]
        for command in commands:
            self.processes.append(subprocess.Popen(command, cwd=ROOT,
                    env=env, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True))
        self.wait_ready()

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    self.stop()
                    sys.exit(f"production mode exited ({process.args[0]}), "
                        f"see {self.log_path}")
            try:
                client = Http(self.port)
                status, _ = client.post(f'/{DB_NAME}/rpc/', json.dumps({
                            'id': 0, 'method': 'common.server.version',
                            'params': []}).encode(), {})
                client.close()
                # Served: the anonymous call is refused by the database
                if status in {200, 401, 403}:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        sys.exit(f"production mode not answering, see {self.log_path}")

    def stop(self):
        "End the processes started here, by their own process group"
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        self.processes = []


# -- clients -----------------------------------------------------------------

class Http:
    "One keep-alive HTTP connection to the server"

    def __init__(self, port):
        self.port = port
        self.connection = http.client.HTTPConnection(HOST, port, timeout=120)

    def post(self, path, body, headers):
        headers = dict(headers, **{'Content-Type': 'application/json'})
        for attempt in range(2):
            try:
                self.connection.request('POST', path, body, headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError, http.client.CannotSendRequest):
                # A worker restarted or closed the idle connection
                self.connection.close()
                if attempt:
                    raise
        raise AssertionError

    def close(self):
        self.connection.close()


class CallError(Exception):
    def __init__(self, status, kind):
        super().__init__(f'{status} {kind}')
        self.status, self.kind = status, kind


def error_class(text):
    """The class of an error text: its first words, numbers blanked; the
    title and message of an HTML error page"""
    text = str(text)
    if text.lstrip().lower().startswith('<!doctype html'):
        text = ' '.join(re.findall(r'<(?:title|p)>(.*?)</', text, re.S))
    text = re.sub(r'\d+(\.\d+)?', '#', text).strip()
    return text.splitlines()[0][:100] if text else '?'


class Rpc(Http):
    "The cashier page's JSON-RPC: one login, then the session header"

    def __init__(self, port):
        super().__init__(port)
        self.headers = {}
        self.ids = 0

    def login(self, login, password):
        user_id, key = self.call('common.db.login',
            [login, {'password': password}, 'en'])[:2]
        token = base64.b64encode(f'{login}:{user_id}:{key}'.encode()).decode()
        self.headers = {'Authorization': f'Session {token}'}

    def call(self, method, params):
        self.ids += 1
        status, body = self.post(f'/{DB_NAME}/rpc/', json.dumps({
                    'id': self.ids, 'method': method, 'params': params,
                    }).encode(), self.headers)
        if status != 200:
            raise CallError(status, error_class(body[:1000].decode(
                        errors='replace')))
        data = json.loads(body)
        if data.get('error'):
            error = data['error']
            if isinstance(error, list) and error:
                name = error[0]
                detail = error[1] if len(error) > 1 else ''
                if isinstance(detail, list) and detail:
                    detail = detail[0]
                raise CallError(status, error_class(f'{name}: {detail}'))
            raise CallError(status, error_class(error))
        return data['result']


class Keyed(Http):
    "The integrators' keyed route, Bearer key"

    def call(self, model, method, arguments):
        status, body = self.post(f'/{DB_NAME}/omni/api/{model}/{method}',
            json.dumps(arguments).encode(),
            {'Authorization': f'Bearer {API_KEY}'})
        return answer(status, body)


def answer(status, body):
    try:
        data = json.loads(body)
    except ValueError:
        data = {'error': body[:1000].decode(errors='replace')}
    if status != 200:
        error = data.get('error') if isinstance(data, dict) else data
        raise CallError(status, error_class(error))
    return data


class Recorder:
    """Latencies and errors by kind, shared by the threads of a run: calls
    started in the measured window count, units done within it count"""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.errors = Counter()
        self.done = Counter()  # units done in the window: till sales…
        self.start = self.end = None  # the measured window (monotonic)

    def measuring(self, at):
        return self.start is not None and self.start <= at and (
            self.end is None or at < self.end)

    def count(self, unit):
        if self.measuring(time.monotonic()):
            with self.lock:
                self.done[unit] += 1

    def timed(self, kind, call, *args):
        start = time.perf_counter()
        started = time.monotonic()
        try:
            result = call(*args)
        except CallError as error:
            self.error(kind, error.status, error.kind)
            raise
        except OSError as error:
            self.error(kind, 'net', type(error).__name__ + ' ' + str(error))
            raise CallError('net', str(error)) from error
        if self.measuring(started):
            self.latencies[kind].append((time.perf_counter() - start) * 1000)
        return result

    def error(self, kind, status, text):
        # Every error counts, in the warm-up and the tail too
        with self.lock:
            self.errors[(kind, status, error_class(text))] += 1


class Load:
    "The threads of one run, each with its own connection"

    def __init__(self, port, chain, args, label, rates=None):
        self.port, self.chain, self.args = port, chain, args
        self.label = label.replace(' ', '').replace('%', '')
        self.recorder = Recorder()
        self.accepted = []  # (channel, reference, number), warm-up too
        self.rates = rates or {}  # thread name: units per second (paced)
        self.cpu = None  # a function measuring the server's CPU
        self.cpu_marks = []
        self.units = Counter()  # thread name: units done
        self.stop = threading.Event()

    def run(self, seconds):
        threads = []
        for i, store in enumerate(self.chain['stores'], 1):
            threads.append((f'till{i}', self.till, (i, store)))
        for i in range(self.args.mall_threads):
            threads.append((f'mall{i}', self.mall, (i,)))
        for i in range(self.args.platform_threads):
            threads.append((f'platform{i}', self.platform, (i,)))
        for i in range(self.args.lookup_threads):
            threads.append((f'lookup{i}', self.lookup, (i,)))
        for name, _, _ in threads:
            self.units[name] = 0
        ready = threading.Barrier(len(threads) + 1)
        workers = [threading.Thread(target=self.loop,
                args=(name, ready, func, extra), daemon=True)
            for name, func, extra in threads]
        for worker in workers:
            worker.start()
        ready.wait()
        if self.cpu:
            self.cpu_marks.append(self.cpu())
        self.recorder.start = time.monotonic()
        self.stop.wait(seconds)
        self.recorder.end = time.monotonic()
        if self.cpu:
            self.cpu_marks.append(self.cpu())
        self.stop.set()
        for worker in workers:
            worker.join(timeout=130)
        return self.recorder.end - self.recorder.start

    def loop(self, name, ready, func, extra):
        rng = random.Random(name)
        try:
            unit = func(rng, *extra)  # logs in, returns one unit of work
            unit(-1)  # warm-up: the worker's caches, not measured
        except Exception as error:
            log(f"  {name} could not start: {error}")
            ready.abort()
            raise
        ready.wait()
        rate = self.rates.get(name)
        next_at = time.monotonic()
        count = 0
        while not self.stop.is_set():
            if rate:
                next_at += 1 / rate
                delay = next_at - time.monotonic()
                if delay > 0 and self.stop.wait(delay):
                    break
            try:
                unit(count)
                if self.recorder.measuring(time.monotonic()):
                    self.units[name] += 1
            except CallError:
                time.sleep(0.05)
            count += 1

    def till(self, rng, index, store):
        recorder, chain = self.recorder, self.chain
        rpc = Rpc(self.port)
        rpc.login(f'cashier{index}', CASHIER_PASSWORD)
        context = rpc.call('model.res.user.get_preferences', [True, {}])
        start = rpc.call('model.omni.till.start', [context])
        cash = next(m['id'] for m in start['methods'] if m['kind'] == 'cash')
        if start['sale']:
            rpc.call('model.omni.till.cancel', [start['sale']['id'], context])

        def unit(count):
            sale = recorder.timed('till.new', rpc.call,
                'model.omni.till.new', [context])
            try:
                for code in rng.sample(chain['products'], 3):
                    sale = recorder.timed('till.scan', rpc.call,
                        'model.omni.till.add', [sale['id'], code, 1, context])
                sale = recorder.timed('till.member', rpc.call,
                    'model.omni.till.set_member',
                    [sale['id'], rng.choice(chain['phones']), context])
                done = recorder.timed('till.pay', rpc.call,
                    'model.omni.till.pay',
                    [sale['id'], cash, sale['to_pay'], context])
            except CallError:
                try:
                    rpc.call('model.omni.till.cancel', [sale['id'], context])
                except CallError:
                    pass
                raise
            if done['state'] == 'done':
                recorder.count('till sale')
        return unit

    def mall(self, rng, index):
        recorder, chain = self.recorder, self.chain
        keyed = Keyed(self.port)

        def unit(count):
            reference = f'LOAD-{self.label}-{index}-{count}'
            if rng.random() < self.args.hot_share:
                store = chain['stores'][0]
                lines = [{'product': rng.choice(chain['hot']),
                        'quantity': 1}]
            else:
                store = rng.choice(chain['stores'])
                lines = [{'product': code, 'quantity': rng.randint(1, 2)}
                    for code in rng.sample(chain['products'], 2)]
            order = recorder.timed('mall.order', keyed.call,
                'omni.order', 'place', [{
                        'channel': 'MALL', 'reference': reference,
                        'member_phone': rng.choice(chain['phones']),
                        'fulfilment': 'pickup', 'store': store,
                        'lines': lines}])
            recorder.count('mall order')
            self.accepted.append(('MALL', reference, order['number']))
        return unit

    def platform(self, rng, index):
        recorder, chain = self.recorder, self.chain
        client = Http(self.port)
        path = f'/{DB_NAME}/omni/platform/{PLATFORM}/order'

        def post(body):
            return answer(*client.post(path, body, signed_headers(PLATFORM_SECRET, body)))

        def unit(count):
            reference = f'MT-{self.label}-{index}-{count}'
            body = json.dumps({'order_id': reference,
                    'customer': {'phone': rng.choice(chain['phones']),
                        'name': "王芳"},
                    'address': {'street': "漕溪北路 88 号", 'city': "上海"},
                    'lines': [{'sku': code, 'quantity': 1}
                        for code in rng.sample(chain['products'], 2)],
                    }).encode()
            order = recorder.timed('platform.order', post, body)
            recorder.count('platform order')
            self.accepted.append((PLATFORM, reference, order['number']))
        return unit

    def lookup(self, rng, index):
        recorder, chain = self.recorder, self.chain
        keyed = Keyed(self.port)

        def unit(count):
            member = recorder.timed('member.lookup', keyed.call,
                'omni.member', 'lookup', [rng.choice(chain['phones'])])
            if not member:
                raise CallError(200, 'member not found')
            recorder.count('member lookup')
        return unit


# -- CPU of the server ---------------------------------------------------------

TICKS = os.sysconf('SC_CLK_TCK')


def processes():
    "Return {pid: (parent pid, CPU seconds)} of every process"
    result = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        result[int(entry)] = (int(fields[1]),
            (int(fields[11]) + int(fields[12])) / TICKS)
    return result


def server_cpu(roots):
    """Return (CPU seconds of the production processes started from
    roots and their descendants, {pid: CPU seconds} of the PostgreSQL
    backends of the database)"""
    table = processes()
    children = defaultdict(list)
    for pid, (parent, _) in table.items():
        children[parent].append(pid)
    todo, seen = list(roots), set()
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo.extend(children[pid])
    try:
        with connect() as connection:
            backends = [pid for pid, in connection.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s",
                    (DB_NAME,))]
    except psycopg.Error:
        backends = []
    return (sum(table[p][1] for p in seen if p in table),
        {p: table[p][1] for p in backends if p in table})


def cpu_used(before, after):
    "Return (server CPU s, PostgreSQL CPU s) between two server_cpu()"
    return (after[0] - before[0],
        sum(cpu - before[1].get(pid, 0) for pid, cpu in after[1].items()))


# -- the queue ---------------------------------------------------------------

def connect():
    uri = os.environ['TRYTOND_DATABASE__URI'].rstrip('/') + '/' + DB_NAME
    return psycopg.connect(uri, autocommit=True)


def queue_state(connection):
    """Return (waiting tasks, oldest waiting age in s, tasks not done,
    tasks retried, all tasks).  A task the worker failed on a busy database
    stays taken and unfinished and is pushed again as a new row: it is
    retried, and done once a later row of the same data finished."""
    row = connection.execute(
        "SELECT count(*) FILTER (WHERE dequeued_at IS NULL "
        "AND (scheduled_at IS NULL OR scheduled_at <= LOCALTIMESTAMP)), "
        "min(enqueued_at) FILTER (WHERE dequeued_at IS NULL "
        "AND (scheduled_at IS NULL OR scheduled_at <= LOCALTIMESTAMP)), "
        "count(*) FILTER (WHERE finished_at IS NULL AND NOT retried), "
        "count(*) FILTER (WHERE finished_at IS NULL AND retried), count(*) "
        "FROM (SELECT q.*, EXISTS (SELECT 1 FROM ir_queue r "
        "WHERE r.id > q.id AND r.data = q.data "
        "AND r.finished_at IS NOT NULL) AS retried FROM ir_queue q) AS q"
        ).fetchone()
    waiting, oldest, undone, retried, total = row
    # trytond stamps enqueued_at with the server's local now()
    age = (dt.datetime.now() - oldest).total_seconds() if oldest else 0
    return waiting, max(age, 0), undone, retried, total


class QueueSampler(threading.Thread):
    "Sample the queue's lag every second during a run"

    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []
        self.stop = threading.Event()

    def run(self):
        with connect() as connection:
            while not self.stop.wait(1):
                self.samples.append(queue_state(connection)[:2])


def drain(seconds):
    """Wait for the queue to have no waiting task, at most seconds; return
    (seconds waited, state)"""
    start = time.monotonic()
    with connect() as connection:
        while True:
            state = queue_state(connection)
            waiting, _, undone, _, _ = state
            if not waiting and not undone:
                return time.monotonic() - start, state
            if time.monotonic() - start > seconds:
                return time.monotonic() - start, state
            time.sleep(0.5)


# -- checks ------------------------------------------------------------------

def checks(accepted):
    "Return [(name, passed, detail)] of the database after a drained run"
    results = []
    with Transaction().start(DB_NAME, 0, readonly=True):
        pool = Pool()
        Level = pool.get('omni.stock.level')
        Party = pool.get('party.party')
        Points = pool.get('omni.member.points')
        StoredValue = pool.get('omni.member.stored_value')
        Sale = pool.get('sale.sale')

        drifts = Level.reconcile()
        results.append(("stock levels equal Tryton's stock", not drifts,
                f"{len(drifts)} drifted" + (f": {drifts[:3]}" if drifts
                    else "")))

        negative = Level.search([('available', '<', 0)])
        results.append(("nothing available below zero", not negative,
                f"{len(negative)} levels below zero"))

        members = Party.search([('member_number', '!=', None)])
        bad = []
        for Ledger, field, name in [
                (Points, 'points', 'member_points'),
                (StoredValue, 'amount', 'member_balance')]:
            sums = defaultdict(lambda: 0)
            earned = Counter()
            for line in Ledger.search_read([], fields_names=[
                        'member', field, 'kind', 'origin']):
                sums[line['member']] += line[field]
                if line['kind'] == 'earn' and line['origin']:
                    earned[line['origin']] += 1
            for member in Party.browse(members):
                balance = getattr(member, name) or 0
                if balance != sums[member.id] or balance < 0:
                    bad.append((member.id, name, balance, sums[member.id]))
            bad.extend(('earned twice', o) for o, n in earned.items()
                if n > 1)
        results.append(("ledgers sum, none below zero, points earned once",
                not bad, f"{len(members)} members, {len(bad)} wrong"
                + (f": {bad[:3]}" if bad else "")))

        problems = []
        references = defaultdict(set)
        for channel, reference, number in accepted:
            references[channel].add(reference)
        for channel, refs in references.items():
            sales = Sale.search([
                    ('omni_channel.code', '=', channel),
                    ('omni_reference', 'in', list(refs)),
                    ])
            counts = Counter(s.omni_reference for s in sales)
            problems.extend(('missing', channel, r) for r in refs
                if not counts[r])
            problems.extend(('twice', channel, r) for r, n in counts.items()
                if n > 1)
            for sale in sales:
                for line in sale.lines:
                    if not line.product or line.product.type != 'goods':
                        continue
                    reserved = sum(m.quantity for m in line.moves
                        if m.state in {'assigned', 'done'}
                        and m.from_location.warehouse)
                    if abs(reserved - line.quantity) > 1e-6:
                        problems.append(('reserved', sale.number,
                                line.product.code, line.quantity, reserved))
        results.append(("each accepted order one sale, reserved once",
                not problems, f"{len(accepted)} orders, {len(problems)} "
                "wrong" + (f": {problems[:3]}" if problems else "")))

    with connect() as connection:
        waiting, _, undone, retried, total = queue_state(connection)
    results.append(("every queued task done", not undone,
            f"{total} tasks, {undone} not done, {retried} retried after a "
            "busy database"))
    return results


# -- runs --------------------------------------------------------------------

def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def one_run(label, workers, chain, args, rates=None):
    log(f"\n== {label}: {workers} worker{'s' if workers > 1 else ''}"
        + (" (paced)" if rates else "") + f", {args.seconds:g} s of load")
    production = Production(workers, label.replace(' ', '-'))
    with step("Start production mode"):
        production.start()
    log(f"  {production.how} on {HOST}:{production.port}, "
        f"log {production.log_path.relative_to(ROOT)}")
    load = Load(production.port, chain, args, label, rates)
    roots = [p.pid for p in production.processes]
    load.cpu = lambda: server_cpu(roots)
    sampler = QueueSampler()
    sampler.start()
    try:
        with step("Load"):
            elapsed = load.run(args.seconds)
        sampler.stop.set()
        with step("Drain the queue"):
            drained, final = drain(args.drain)
    finally:
        production.stop()
        sampler.stop.set()
    with step("Check the database"):
        results = checks(load.accepted)
    for name, passed, detail in results:
        log(f"  {'PASS' if passed else 'FAIL'} {name} ({detail})")
    recorder = load.recorder
    for (kind, status, text), count in sorted(recorder.errors.items(),
            key=lambda e: -e[1]):
        log(f"  error {kind} {status} ×{count}: {text}")
    return {
        'label': label, 'workers': workers, 'elapsed': elapsed,
        'recorder': recorder, 'units': dict(load.units),
        'queue': sampler.samples, 'drained': drained, 'final': final, 'checks': results,
        'how': production.how,
        'cpu': cpu_used(*load.cpu_marks) if len(load.cpu_marks) == 2
        else (0, 0),
        }


KINDS = ['till.new', 'till.scan', 'till.member', 'till.pay', 'mall.order',
    'platform.order', 'member.lookup']
INTAKE = ['till sale', 'mall order', 'platform order']


def rate(run, *units):
    return sum(run['recorder'].done[u] for u in units) / run['elapsed']


def table(runs):
    header = ['', *[r['label'] for r in runs]]
    rows = []

    def row(label, values):
        rows.append([label, *values])

    row("intake/s (sales+orders)", [f"{rate(r, *INTAKE):.2f}" for r in runs])
    row("  till sales/s", [f"{rate(r, 'till sale'):.2f}" for r in runs])
    row("  mall orders/s", [f"{rate(r, 'mall order'):.2f}" for r in runs])
    row("  platform orders/s", [f"{rate(r, 'platform order'):.2f}"
            for r in runs])
    row("member lookups/s", [f"{rate(r, 'member lookup'):.2f}"
            for r in runs])
    row("HTTP calls/s", [
            f"{sum(len(v) for v in r['recorder'].latencies.values()) / r['elapsed']:.1f}"
            for r in runs])
    for kind in KINDS:
        values = []
        for r in runs:
            lat = r['recorder'].latencies.get(kind, [])
            values.append('/'.join(
                    f"{percentile(lat, p):.0f}" if lat else '-'
                    for p in (0.5, 0.95, 0.99)))
        row(f"{kind} p50/95/99 ms", values)
    row("server cores used: web+queue/PG", [
            f"{r['cpu'][0] / r['elapsed']:.2f}/{r['cpu'][1] / r['elapsed']:.2f}"
            for r in runs])
    row("server CPU ms per HTTP call", [
            f"{1000 * sum(r['cpu']) / max(1, sum(len(v) for v in r['recorder'].latencies.values())):.0f}"
            for r in runs])
    row("errors", [str(sum(r['recorder'].errors.values())) for r in runs])
    row("queue waiting max", [
            str(max((s[0] for s in r['queue']), default=0)) for r in runs])
    row("queue oldest max s", [
            f"{max((s[1] for s in r['queue']), default=0):.1f}"
            for r in runs])
    row("queue drain s", [f"{r['drained']:.1f}" for r in runs])
    row("queue tasks / retried", [f"{r['final'][4]}/{r['final'][3]}"
            for r in runs])
    row("checks", [
            'PASS' if all(c[1] for c in r['checks']) else 'FAIL'
            for r in runs])
    widths = [max(len(str(x[i])) for x in [header] + rows)
        for i in range(len(header))]
    for line in [header] + rows:
        log('  '.join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(line, widths))))


def targets(runs):
    by_workers = {r['workers']: r for r in runs if not r.get('paced')}
    paced = [r for r in runs if r.get('paced')]
    lines = []
    if 2 in by_workers:
        value = rate(by_workers[2], *INTAKE)
        lines.append((f"≥ {TARGETS['intake']} orders/s of mixed intake with "
                "2 workers", value >= TARGETS['intake'], f"{value:.2f}"))
    if 1 in by_workers and 2 in by_workers:
        one = rate(by_workers[1], *INTAKE)
        ratio = rate(by_workers[2], *INTAKE) / one if one else 0
        lines.append((f"2 workers ≥ {TARGETS['scaling']}× one worker",
                ratio >= TARGETS['scaling'], f"{ratio:.2f}×"))
    errors = sum(sum(r['recorder'].errors.values()) for r in runs)
    lines.append(("0 client-visible errors", errors == TARGETS['errors'],
            str(errors)))
    for r in paced:
        p99 = percentile(r['recorder'].latencies.get('till.pay', []), 0.99)
        lines.append((f"till pay p99 ≤ {TARGETS['pay_p99']} ms at 70 % of "
                "the maximum rate (2 workers)",
                p99 is not None and p99 <= TARGETS['pay_p99'],
                f"{p99:.0f} ms" if p99 is not None else "no payment"))
    log("\nTargets (2 cores):")
    for name, passed, value in lines:
        log(f"  {'PASS' if passed else 'FAIL'} {name}: {value}")


def main(argv=None):
    args = parse_args(argv)
    start = time.monotonic()
    runs = []
    try:
        if args.reuse:
            proteus_config.set_trytond(database=DB_NAME)
            chain = load_chain(args)
        else:
            chain = set_up(args)
        log(f"Set-up done in {time.monotonic() - start:.0f} s")
        for workers in args.workers:
            runs.append(one_run(f"{workers}w", workers, chain, args))
        maximum = next((r for r in runs if r['workers'] == 2), None)
        if maximum and not args.no_paced:
            # A thread that finished nothing in the window is paced at
            # half a unit in it
            rates = {name: 0.7 * max(units, 0.5) / maximum['elapsed']
                for name, units in maximum['units'].items()}
            run = one_run("2w @70%", 2, chain, args, rates)
            run['paced'] = True
            runs.append(run)
    finally:
        if not args.keep:
            drop_db()
    log(f"\nCode {git_version()}; {args.stores} tills, "
        f"{args.mall_threads} mall, {args.platform_threads} platform, "
        f"{args.lookup_threads} lookup threads; {args.seconds:g} s per run; "
        f"{runs[0]['how'] if runs else ''}")
    table(runs)
    targets(runs)
    log(f"Whole bench: {time.monotonic() - start:.0f} s")


def load_chain(args):
    "Return the chain of a kept database"
    with Transaction().start(DB_NAME, 0, readonly=True):
        pool = Pool()
        Channel = pool.get('omni.channel')
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        stores = [c.code for c in Channel.search(
                [('kind', '=', 'store')], order=[('code', 'ASC')])]
        codes = [p.code for p in Product.search([
                    ('type', '=', 'goods')], order=[('code', 'ASC')])]
        phones = [p.phone_key for p in Party.search([
                    ('member_number', '!=', None)])]
    args.stores = len(stores)
    return {'stores': stores, 'products': codes[HOT:], 'hot': codes[:HOT],
        'phones': phones}


def git_version():
    "The commit served, and whether the modules differ from it"
    try:
        commit = subprocess.run(['git', 'log', '-1', '--format=%h %s'],
            cwd=ROOT, capture_output=True, text=True).stdout.strip()[:60]
        changed = subprocess.run(['git', 'status', '--porcelain', 'addons'],
            cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return '?'
    return commit + (' + uncommitted changes in addons/' if changed else '')


if __name__ == '__main__':
    main()
