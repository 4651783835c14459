# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Test databases built once per set of modules, on top of each other.

Tryton activates every set of modules a test asks for from an empty
database, and caches the result.  Our modules extend each other, so a set is
built here from the cached database of the largest module it extends, by
activating only what it adds: omni_members on omni_retail, omni_o2o on
omni_members, a feature module on omni_o2o.  On PostgreSQL the cache is kept
as template databases (a copy instead of a restore), named after the source
so that a change of code never reuses them.

Only when scripts/run_tests.py sets DB_CACHE (its SQLite and PostgreSQL
passes); the browser pass builds its demo itself.
"""
import configparser
import functools
import os
from pathlib import Path

ADDONS = Path(__file__).resolve().parent / 'addons'
# A template database's name: ours, for this source, and the set's digest
TEMPLATE_PREFIX = os.environ.get('OMNI_TEMPLATE_PREFIX', '')


@functools.cache
def own_depends(module):
    "The modules of this repository that module needs, itself included"
    config = configparser.ConfigParser()
    if not config.read(ADDONS / module / 'tryton.cfg'):
        return frozenset()
    depends = config.get('tryton', 'depends', fallback='').split()
    closure = {module}
    for name in depends:
        closure |= own_depends(name)
    return frozenset(closure)


def base_of(modules):
    "The largest module of ours that the set strictly extends, or None"
    closure = frozenset().union(*map(own_depends, modules))
    smaller = [m for m in closure if own_depends(m) < closure]
    return max(smaller, key=lambda m: (len(own_depends(m)), m), default=None)


def install_layered_cache():
    from trytond.tests import test_tryton
    from trytond.tests import tools

    restore = test_tryton.restore_db_cache

    def restore_db_cache(name):
        if restore(name):
            return True
        # A language or a setup function in the name: built as Tryton does
        if '--' in name:
            return False
        modules = name.split('-')
        base = base_of(modules)
        if base is None:
            return False
        test_tryton.drop_db()
        # Restores the base, building it first (on its own base) if needed
        test_tryton.activate_module([base])
        # Activates what the set adds to the base, and caches the set
        test_tryton.activate_module(modules)
        test_tryton.backup_db_cache(name)
        return True

    test_tryton.restore_db_cache = restore_db_cache
    tools.restore_db_cache = restore_db_cache

    if TEMPLATE_PREFIX:
        cache_file = test_tryton._db_cache_file

        def template_name(path, name):
            digest = cache_file(path, name).rsplit('-', 1)[-1]
            return f'{test_tryton.DB_CACHE}/{TEMPLATE_PREFIX}_{digest}'
        test_tryton._db_cache_file = template_name


if os.environ.get('DB_CACHE'):
    install_layered_cache()
