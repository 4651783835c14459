# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Run every test: on SQLite and PostgreSQL side by side, and in a browser.

    python scripts/run_tests.py [--backend sqlite|postgresql|browser ...]
        [-- pytest arguments]

PostgreSQL is reached at TRYTOND_DATABASE__URI (default
postgresql://postgres@127.0.0.1:5432/).  Without it the PostgreSQL pass is
skipped with a clear line, unless CI is set: then its absence fails.  The
browser pass needs Debian's chromium and is likewise mandatory in CI.

Activated databases are cached per source (the digest of the modules' code
and data): on SQLite under var/db-cache/<digest>, on PostgreSQL as template
databases omnitest_<digest>_*.  A change of code or data starts from a
clean activation and an unchanged tree reuses it; conftest.py builds each
set of modules on the cached set it extends.
"""
import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

from demo import ROOT, source_hash

PG_URI = 'postgresql://postgres@127.0.0.1:5432/'
CHROMIUM = '/usr/bin/chromium'
PASSES = ['sqlite', 'postgresql', 'browser']
TEST_PATHS = ['addons', 'tests']
BROWSER_TESTS = 'tests/browser'


def db_cache():
    "Return the cache folder of this source tree, dropping stale ones"
    root = ROOT / 'var' / 'db-cache'
    current = root / source_hash()[:16]
    if root.exists():
        for folder in root.iterdir():
            if folder != current:
                shutil.rmtree(folder, ignore_errors=True)
    current.mkdir(parents=True, exist_ok=True)
    return current


def postgresql_reachable(uri):
    import psycopg
    try:
        with psycopg.connect(uri.rstrip('/') + '/postgres', connect_timeout=3):
            return True
    except psycopg.Error:
        return False


class Pass:
    "One pytest run, its output prefixed with its name as it comes"

    def __init__(self, name, paths, env, extra):
        self.name = name
        self.report = ROOT / 'var' / f'pytest-{name}.xml'
        command = [sys.executable, '-m', 'pytest', *paths,
            '-p', 'no:cacheprovider', f'--junitxml={self.report}', *extra]
        print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
        self.start = time.monotonic()
        self.process = subprocess.Popen(command, cwd=ROOT,
            env=dict(env, PYTHONUNBUFFERED='1'),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.echo = threading.Thread(target=self.print_output)
        self.echo.start()

    def print_output(self):
        for line in self.process.stdout:
            print(f"{self.name:>10} | {line}", end='', flush=True)

    def counts(self):
        "Wait for the end of the run and count its tests by outcome"
        code = self.process.wait()
        self.echo.join()
        print(f"=== {self.name}: exit {code} in "
            f"{time.monotonic() - self.start:.0f} s", flush=True)
        if not self.report.exists():
            return {'passed': 0, 'failed': 1, 'skipped': 0}
        counts = read_counts(self.report)
        if code not in {0, 5}:
            counts['failed'] = max(counts['failed'], 1)
        return counts


def read_counts(report):
    "Count tests by outcome: subtests are part of their test, not tests"
    counts = {'passed': 0, 'failed': 0, 'skipped': 0}
    for case in ET.parse(report).getroot().iter('testcase'):
        if case.find('failure') is not None or case.find('error') is not None:
            counts['failed'] += 1
        elif case.find('skipped') is not None:
            counts['skipped'] += 1
        else:
            counts['passed'] += 1
    return counts


def sqlite_env(cache):
    env = dict(os.environ, DB_CACHE=str(cache / 'sqlite'))
    env.pop('TRYTOND_DATABASE__URI', None)
    env.pop('DB_NAME', None)
    return env


def postgresql_env(uri):
    "Cache activated databases as templates named after this source"
    return dict(os.environ, DB_CACHE='postgresql://',
        OMNI_TEMPLATE_PREFIX=template_prefix(),
        TRYTOND_DATABASE__URI=uri, DB_NAME=f'test_omni_{os.getpid()}')


def template_prefix():
    return f'omnitest_{source_hash()[:12]}'


def drop_stale_templates(uri):
    "Drop the template databases of other sources than this one"
    import psycopg
    from psycopg import sql
    with psycopg.connect(uri.rstrip('/') + '/postgres',
            autocommit=True) as connection:
        names = [name for name, in connection.execute(
                "SELECT datname FROM pg_database "
                "WHERE datname LIKE 'omnitest\\_%%' AND datname NOT LIKE %s",
                (template_prefix() + '\\_%',))]
        for name in names:
            connection.execute(sql.SQL('DROP DATABASE {}').format(
                    sql.Identifier(name)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--backend', action='append', choices=PASSES,
        help="run only these passes (default: all)")
    parser.add_argument('pytest_args', nargs='*')
    args = parser.parse_args(argv)
    passes = args.backend or PASSES
    ci = bool(os.environ.get('CI'))
    os.environ.setdefault('TRYTOND_DATABASE__PATH', str(ROOT / 'var'))
    cache = db_cache()
    unit_paths = TEST_PATHS + [f'--ignore={BROWSER_TESTS}']

    # The passes run side by side, two at a time: one waits on the
    # database server while the other computes
    runs, results = {}, {}
    if 'sqlite' in passes:
        runs['sqlite'] = Pass(
            'sqlite', unit_paths, sqlite_env(cache), args.pytest_args)
    if 'postgresql' in passes:
        uri = os.environ.get('TRYTOND_DATABASE__URI', PG_URI)
        if not uri.startswith('postgresql'):
            uri = PG_URI
        if postgresql_reachable(uri):
            drop_stale_templates(uri)
            runs['postgresql'] = Pass('postgresql', unit_paths,
                postgresql_env(uri), args.pytest_args)
        elif ci:
            print(f"\n=== postgresql: FAILED, no server at {uri} "
                "(mandatory in CI)")
            results['postgresql'] = {'passed': 0, 'failed': 1, 'skipped': 0}
        else:
            print(f"\n=== postgresql: SKIPPED, no server at {uri} "
                "(set TRYTOND_DATABASE__URI to run it)")
    # The browser pass takes the core the SQLite pass leaves
    if 'sqlite' in runs:
        results['sqlite'] = runs.pop('sqlite').counts()
    if 'browser' in passes:
        if os.path.exists(CHROMIUM) or ci:
            runs['browser'] = Pass('browser', [BROWSER_TESTS],
                dict(os.environ), args.pytest_args)
        else:
            print(f"\n=== browser: SKIPPED, {CHROMIUM} is not installed "
                "(apt-get install chromium)")
    for name, run in runs.items():
        results[name] = run.counts()

    print("\n=== summary")
    for name, counts in results.items():
        print(f"  {name:<10} {counts['passed']} passed, "
            f"{counts['failed']} failed, {counts['skipped']} skipped")
    total = {k: sum(c[k] for c in results.values())
        for k in ['passed', 'failed', 'skipped']}
    print(f"total: {total['passed']} passed, {total['failed']} failed, "
        f"{total['skipped']} skipped")
    return 1 if total['failed'] or not total['passed'] else 0


if __name__ == '__main__':
    sys.exit(main())
