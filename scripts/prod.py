# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Run omni-retail in production mode: web workers, cron and queue worker.

    python scripts/prod.py [--database omni_demo] [--workers N]
        [--config trytond.conf] [--dev-server]

Starts, each in its own process group:
  - web: trytond's WSGI app (trytond.application:app) under gunicorn, WORKERS
    sync worker processes (default: the number of cores; one on SQLite,
    which has a single writer) listening on TRYTOND_WEB__LISTEN
    (default 127.0.0.1:8000);
  - cron: trytond-cron, the scheduled jobs;
  - worker: trytond-worker, the queue (ir.queue); on SQLite, which has no
    LISTEN for trytond-worker to wait on, a loop of this script that polls
    ir.queue with trytond's own pull and run_task.
The database is DATABASE at TRYTOND_DATABASE__URI.  The queue is handed to
the worker by TRYTOND_QUEUE__WORKER=True and, on PostgreSQL, the caches of
all processes are kept coherent at once by TRYTOND_CACHE__CLEAN_TIMEOUT=0
(LISTEN/NOTIFY), both exported to the children unless already set.  SQLite
keeps Tryton's default (ir_cache checked every 300 s): with 0 every
transaction would check it, and on SQLite a check inside a call's nested
transaction commits the call's work half-done (the till's payment without
its sale).  When a child dies the others are stopped and the
exit status is 1; SIGINT (Ctrl-C) or SIGTERM stops every child cleanly.
"""
import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 20  # seconds a child has to stop before it is killed
READY_TIMEOUT = 120


def parent_death_signal(sig):
    "Return a preexec_fn: the child gets sig if this supervisor dies"
    def preexec():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, sig)  # PR_SET_PDEATHSIG (Linux)
        except (OSError, AttributeError):
            pass
    return preexec


class Child:
    def __init__(self, name, command, env, stop_signal):
        self.name = name
        self.command = command
        self.stop_signal = stop_signal
        self.process = subprocess.Popen(command, env=env, cwd=ROOT,
            start_new_session=True,
            preexec_fn=parent_death_signal(stop_signal))

    @property
    def pid(self):
        return self.process.pid

    def poll(self):
        return self.process.poll()

    def signal(self, sig):
        "Signal the child's whole process group (its own workers too)"
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def group_alive(self):
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        return True


def poll_queue(database_name, config_file, interval=1):
    """Run the queue of a SQLite database: trytond-worker waits on LISTEN
    and ir.queue's pull fails on SQLite, so take the due tasks here, oldest
    first as pull does, and run each with trytond's run_task"""
    import datetime as dt

    from sql import Null

    import logging

    import trytond.config as config
    config.update_etc(str(config_file))
    logging.basicConfig(
        level=int(os.environ.get('TRYTOND_LOGGING_LEVEL') or logging.ERROR),
        format='%(process)s %(thread)s [%(asctime)s] '
        '%(levelname)s %(name)s %(message)s')
    from trytond import backend
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from trytond.worker import run_task

    Pool.start()
    pool = Pool(database_name)
    with Transaction().start(database_name, 0, readonly=True):
        pool.init()
    queue = pool.get('ir.queue').__table__()
    database = backend.Database(database_name).connect()
    print(f"prod: polling the queue of {database_name} every {interval} s",
        flush=True)

    def take():
        "Return the id of the oldest due task, marked as taken, or None"
        now = dt.datetime.now()
        connection = database.get_connection(autocommit=True)
        try:
            cursor = connection.cursor()
            cursor.execute(*queue.select(queue.id,
                    where=(queue.dequeued_at == Null) & (
                        (queue.scheduled_at == Null)
                        | (queue.scheduled_at <= now)),
                    order_by=[queue.scheduled_at.nulls_first,
                        queue.expected_at.nulls_first, queue.id],
                    limit=1))
            row = cursor.fetchone()
            if row:
                cursor.execute(*queue.update([queue.dequeued_at], [now],
                        where=(queue.id == row[0])
                        & (queue.dequeued_at == Null)))
                if cursor.rowcount != 1:
                    row = None
            return row[0] if row else None
        except backend.DatabaseOperationalError:
            return None  # locked by a writer: next time
        finally:
            if connection.in_transaction:
                connection.commit()
            database.put_connection(connection)

    try:
        while True:
            task_id = take()
            if task_id:
                run_task(pool, task_id)
            else:
                time.sleep(interval)
    except KeyboardInterrupt:
        pass


def backend_of(config_file):
    import trytond.config as config
    config.update_etc(str(config_file))
    uri = config.get('database', 'uri')
    return uri.split(':', 1)[0], uri


def database_exists(name):
    from trytond import backend
    database = backend.Database().connect()
    try:
        return name in database.list()
    finally:
        database.close()


def plural(n, noun):
    return f"{n} {noun}{'es' if noun.endswith('s') else 's'}" if n != 1 \
        else f"1 {noun}"


def listen_addresses():
    listen = os.environ.get('TRYTOND_WEB__LISTEN') or '127.0.0.1:8000'
    return [a.strip() for a in listen.split(',') if a.strip()]


def probe_url(address, database):
    host, port = address.rsplit(':', 1)
    if host in {'', '0.0.0.0', '*', '[::]', '::'}:
        host = '127.0.0.1'
    elif host == 'localhost':
        host = '127.0.0.1'
    return f'http://{host}:{port}/{database}/omni/health'


def wait_ready(url, children, stopping):
    "Return the health URL's first 200 answer, None if it never comes"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if stopping or any(c.poll() is not None for c in children):
            return None
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except Exception:
            time.sleep(0.5)
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--database', '-d',
        default=os.environ.get('DATABASE', 'omni_demo'))
    parser.add_argument('--config', '-c', default=str(ROOT / 'trytond.conf'))
    parser.add_argument('--workers', '-w', type=int,
        default=int(os.environ.get('WORKERS') or 0) or None,
        help="web worker processes (default: WORKERS or the cores)")
    parser.add_argument('--queue-processes', type=int,
        default=int(os.environ.get('QUEUE_PROCESSES') or 0) or None,
        help="processes of trytond-worker (default: the cores)")
    parser.add_argument('--dev-server', action='store_true',
        help="serve with trytond's development server instead of gunicorn")
    parser.add_argument('--poll-queue', action='store_true',
        help=argparse.SUPPRESS)  # the queue worker of a SQLite database
    args = parser.parse_args(argv)
    if args.poll_queue:
        return poll_queue(args.database, Path(args.config).resolve())

    os.chdir(ROOT)
    config_file = Path(args.config).resolve()
    env = dict(os.environ)
    env.setdefault('TRYTOND_DATABASE__PATH', str(ROOT / 'var'))
    env.setdefault('TRYTOND_WEB__LISTEN', '127.0.0.1:8000')
    env.setdefault('TRYTOND_QUEUE__WORKER', 'True')
    env['TRYTOND_CONFIG'] = str(config_file)
    env['TRYTOND_DATABASE_NAMES'] = args.database
    os.environ.update(env)

    backend, uri = backend_of(config_file)
    if backend == 'postgresql':
        env.setdefault('TRYTOND_CACHE__CLEAN_TIMEOUT', '0')
    if not database_exists(args.database):
        sys.exit(f"prod: no Tryton database {args.database!r} at {uri} "
            "(make demo, or trytond-admin -u omni_after_sales omni_analytics "
            "omni_coupon omni_platform omni_return --activate-dependencies)")
    cores = os.cpu_count() or 1
    if backend == 'sqlite':
        # One writer: more processes would only wait on its lock
        workers, queue_processes = 1, 1
    else:
        workers = args.workers or cores
        queue_processes = args.queue_processes or cores

    bin_ = Path(sys.executable).parent
    listen = listen_addresses()
    if args.dev_server:
        web = [str(bin_ / 'trytond'), '-c', str(config_file),
            '-d', args.database]
    else:
        web = [str(bin_ / 'gunicorn'), '--worker-class', 'sync',
            '--workers', str(workers), '--timeout', '120',
            '--graceful-timeout', str(STOP_TIMEOUT - 5),
            # Several instances on a host must not share a control socket
            '--no-control-socket',
            '--name', f'omni-web-{args.database}']
        for address in listen:
            web += ['--bind', address]
        web.append('trytond.application:app')
    commands = [
        ('web', web, signal.SIGTERM),
        ('cron', [str(bin_ / 'trytond-cron'), '-c', str(config_file),
                '-d', args.database, '-n', '1'], signal.SIGINT),
        ]
    if backend == 'sqlite':
        commands.append(('worker', [sys.executable, __file__, '--poll-queue',
                    '-c', str(config_file), '-d', args.database],
                signal.SIGINT))
    else:
        commands.append(('worker', [str(bin_ / 'trytond-worker'),
                    '-c', str(config_file), '-d', args.database,
                    '-n', str(queue_processes)], signal.SIGINT))

    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    children = []
    for name, command, stop_signal in commands:
        children.append(Child(name, command, env, stop_signal))
    where = (env['TRYTOND_DATABASE__PATH'] if backend == 'sqlite'
        else uri.split('@')[-1])
    print(f"prod: database {args.database} on {backend} ({where})",
        flush=True)
    for child, (name, command, _) in zip(children, commands):
        detail = ''
        if name == 'web':
            detail = (' (trytond development server)' if args.dev_server
                else f' (gunicorn, {plural(workers, "sync worker")})')
        elif name == 'worker':
            detail = f' ({plural(queue_processes, "process")})'
        print(f"prod: started {name:6} pid {child.pid}{detail}", flush=True)

    status = 0
    health = probe_url(listen[0], args.database)
    ready = wait_ready(health, children, stopping)
    if ready:
        for address in listen:
            print(f"prod: serving http://{address}/ — health {health} "
                f"(queue: {ready['queue']['waiting']} waiting); "
                "Ctrl-C stops", flush=True)
    elif not stopping and all(c.poll() is None for c in children):
        print(f"prod: {health} did not answer in {READY_TIMEOUT} s",
            file=sys.stderr, flush=True)

    while not stopping:
        dead = [c for c in children if c.poll() is not None]
        if dead:
            for child in dead:
                print(f"prod: {child.name} (pid {child.pid}) exited with "
                    f"status {child.poll()}: stopping the others",
                    file=sys.stderr, flush=True)
            status = 1
            break
        time.sleep(0.5)
    else:
        print(f"prod: {signal.Signals(stopping[0]).name} received: "
            "stopping", flush=True)

    stop(children)
    return status


def stop(children):
    "Stop every child, each the way it stops cleanly, then kill stragglers"
    for child in children:
        if child.poll() is None:
            child.signal(child.stop_signal)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        try:
            child.process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            print(f"prod: {child.name} (pid {child.pid}) did not stop: "
                "killing it", file=sys.stderr, flush=True)
    # Nothing of a child's process group may survive it
    while any(c.group_alive() for c in children) and (
            time.monotonic() < deadline):
        time.sleep(0.2)
    for child in children:
        if child.group_alive():
            child.signal(signal.SIGKILL)
        if child.poll() is None:
            child.process.wait()
    print("prod: stopped", flush=True)


if __name__ == '__main__':
    sys.exit(main())
