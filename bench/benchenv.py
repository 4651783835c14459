# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What the benchmarks share: their PostgreSQL set-up and progress output."""
import os
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URI = 'postgresql://postgres@127.0.0.1:5432/'

sys.path.insert(0, str(ROOT / 'scripts'))
from demo import MODULES, source_hash  # noqa: E402


def configure_environment(db_name):
    """Point trytond's test tooling at PostgreSQL and at a cache of activated
    databases kept per digest of the modules' source; must run before
    trytond is imported"""
    uri = os.environ.setdefault('TRYTOND_DATABASE__URI', PG_URI)
    if not uri.startswith('postgresql'):
        sys.exit(f"PostgreSQL is needed, not {uri}")
    os.environ['DB_NAME'] = db_name
    root = ROOT / 'var' / 'db-cache-bench'
    cache = root / source_hash()[:16]
    if root.exists():
        for folder in root.iterdir():
            if folder != cache:
                shutil.rmtree(folder, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    os.environ['DB_CACHE'] = str(cache)


def log(message=''):
    print(message, flush=True)


@contextmanager
def step(label):
    "Print a long step's label and, at its end, its duration"
    log(f"{label}...")
    start = time.monotonic()
    timer = {}
    yield timer
    timer['seconds'] = time.monotonic() - start
    log(f"  {label}: {timer['seconds']:.1f} s")


def run_as_server():
    """Measure calls as a server runs them: trytond's test tooling, which
    the benchmarks use to set up their database, also switches on the test
    mode, in which every write validates the domains of computed fields
    too; a server skips them"""
    from trytond.pool import Pool
    Pool.test = False
