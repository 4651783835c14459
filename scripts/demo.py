# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Create or update the demo database and load the demo chain into it.

    python scripts/demo.py [--database omni_demo] [--reset] [--small]

The database is a SQLite file under TRYTOND_DATABASE__PATH (var/) or, when
TRYTOND_DATABASE__URI is postgresql://…, a PostgreSQL database created on
that server.  A new database is created and the omni modules activated with
Chinese loaded; an existing one is updated when the modules' source changed
since its last update, and keeps its data.  The update activates the modules
of MODULES the database lacks (a feature split out of omni_o2o into a module
of its own since the database was made).
"""
import argparse
import hashlib
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The product's leaf modules: with their dependencies, every omni module
MODULES = ['omni_analytics', 'omni_o2o']
LANGUAGES = ['zh_CN']


def source_hash():
    "Digest of the modules' code and data: a change calls for an update"
    digest = hashlib.sha256()
    for path in sorted((ROOT / 'addons').rglob('*')):
        if path.suffix in {'.py', '.xml', '.cfg', '.po', '.html'} and (
                '__pycache__' not in path.parts):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def database_exists(name):
    from trytond import backend
    database = backend.Database().connect()
    return name in database.list()


@contextmanager
def server_connection():
    "An autocommit connection to the database server, outside any database"
    from trytond import backend
    database = backend.Database()
    database.connect()
    connection = database.get_connection(autocommit=True)
    try:
        yield database, connection
    finally:
        database.put_connection(connection)
        database.close()


def backend_name():
    from trytond import backend
    return backend.name


def server_has_database(connection, name):
    "Whether the PostgreSQL server holds name, a Tryton database or not"
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT 1 FROM pg_database WHERE datname = %s', (name,))
        return bool(cursor.fetchone())


def check_server():
    "Exit with a clear message when the PostgreSQL server does not answer"
    if backend_name() != 'postgresql':
        return
    from trytond import backend, config
    try:
        with server_connection():
            pass
    except backend.DatabaseOperationalError as error:
        uri = config.get('database', 'uri').split('@')[-1]
        sys.exit(f"PostgreSQL at {uri} does not answer: {error}")


def activated_modules(name):
    "Return the names of the modules the database has activated"
    from sql import Table
    from trytond.transaction import Transaction
    module = Table('ir_module')
    with Transaction().start(name, 0, readonly=True) as transaction:
        cursor = transaction.connection.cursor()
        cursor.execute(*module.select(module.name,
                where=module.state == 'activated'))
        return {n for n, in cursor}


def xml_ids(module):
    "Return the ids of the records the XML files of our module declare"
    import configparser
    import xml.etree.ElementTree as ET
    folder = ROOT / 'addons' / module
    cfg = configparser.ConfigParser()
    cfg.read(folder / 'tryton.cfg')
    ids = set()
    for name in cfg.get('tryton', 'xml', fallback='').split():
        for element in ET.parse(folder / name).iter():
            if element.tag in {'record', 'menuitem'} and (
                    '.' not in element.get('id', '.')):
                ids.add(element.get('id'))
    return ids


def old_modules(name, modules):
    "Return our modules the database has activated, other than modules"
    ours = {p.parent.name for p in (ROOT / 'addons').glob('*/tryton.cfg')}
    return (activated_modules(name) & ours) - set(modules)


def adopt_records(name, modules, olds):
    """Give the modules about to be activated the records of their XML that
    an activated module of ours still owns (a feature split out of it):
    activating them then updates these records in place, with their ids
    (API keys' grants, unique API methods, menus, views)"""
    from sql import Table
    from trytond.transaction import Transaction

    data, view = Table('ir_model_data'), Table('ir_ui_view')
    with Transaction().start(name, 0) as transaction:
        cursor = transaction.connection.cursor()
        for new in modules:
            for old in olds:
                moved = sorted(xml_ids(new) - xml_ids(old))
                if not moved:
                    continue
                cursor.execute(*data.update([data.module], [new],
                        where=(data.module == old) & data.fs_id.in_(moved)))
                # A view reads its file from the module it was made by
                cursor.execute(*view.update([view.module], [new],
                        where=view.id.in_(data.select(data.db_id,
                                where=(data.module == new)
                                & (data.model == 'ir.ui.view')))))
        transaction.commit()


def drop_taken_translations(name, modules, olds):
    """Drop the translations the old modules keep of strings the modules
    now carry: only theirs are loaded from now on"""
    from sql import Table
    from trytond.tools import grouped_slice
    from trytond.transaction import Transaction

    old, new = Table('ir_translation'), Table('ir_translation')
    with Transaction().start(name, 0) as transaction:
        cursor = transaction.connection.cursor()
        cursor.execute(*old.join(new, condition=(new.name == old.name)
                & (new.type == old.type) & (new.lang == old.lang)
                & (new.res_id == old.res_id) & (new.src == old.src)
                ).select(old.id, where=old.module.in_(sorted(olds))
                & new.module.in_(sorted(modules))))
        ids = sorted({i for i, in cursor})
        for sub_ids in grouped_slice(ids):
            cursor.execute(*old.delete(where=old.id.in_(list(sub_ids))))
        transaction.commit()


def create_database(name):
    with server_connection() as (database, connection):
        if (backend_name() == 'postgresql'
                and server_has_database(connection, name)):
            # Left empty by a creation that did not finish: trytond-admin
            # initialises it
            return
        database.create(connection, name)


def drop_database(name):
    with server_connection() as (database, connection):
        database.drop(connection, name)


def trytond_admin(config_file, name, *arguments):
    from demo_data import PASSWORDS
    password_file = ROOT / 'var' / '.admin-password'
    password_file.write_text(PASSWORDS['admin'] + '\n')
    env = dict(os.environ, TRYTONPASSFILE=str(password_file))
    command = [str(Path(sys.executable).parent / 'trytond-admin'),
        '-c', str(config_file), '-d', name, *arguments]
    try:
        subprocess.run(command, env=env, check=True)
    finally:
        password_file.unlink()


def prepare_database(config_file, name, reset):
    "Create, activate or update the database; return what was done"
    # One stamp per backend: a SQLite and a PostgreSQL demo may share a name
    suffix = '' if backend_name() == 'sqlite' else f'.{backend_name()}'
    stamp = ROOT / 'var' / f'{name}{suffix}.source-hash'
    current = source_hash()
    if reset and database_exists(name):
        print(f"Dropping database {name}")
        drop_database(name)
        stamp.unlink(missing_ok=True)
    if not database_exists(name):
        print(f"Creating {backend_name()} database {name} and activating "
            f"{', '.join(MODULES)} (about a minute)")
        create_database(name)
        trytond_admin(config_file, name, '--all',
            '--email', 'admin@example.com',
            '-u', *MODULES, '--activate-dependencies', '-l', *LANGUAGES)
        action = 'created'
    elif not stamp.exists() or stamp.read_text() != current:
        # A module split out of one the database has is not activated yet:
        # it adopts its records, then the update activates it
        missing = [m for m in MODULES if m not in activated_modules(name)]
        if missing:
            print(f"Updating database {name}: the modules changed, "
                f"activating {', '.join(missing)}")
            olds = old_modules(name, missing)
            adopt_records(name, missing, olds)
            trytond_admin(config_file, name, '--all',
                '-u', *missing, '--activate-dependencies')
            drop_taken_translations(name, missing, olds)
        else:
            print(f"Updating database {name}: the modules changed")
            trytond_admin(config_file, name, '--all')
        from reconcile import reconcile
        reconcile(name, repair=True)
        action = 'updated'
    else:
        action = 'reused'
    stamp.write_text(current)
    return action


def load_demo(config_file, name, small=False):
    from proteus import config as pconfig

    import demo_data
    pconfig.set_trytond(database=name, config_file=str(config_file))
    state = demo_data.loading_state()
    if state == 'loaded':
        print("Demo data already loaded: keeping it "
            "(make demo-reset starts over)")
        return
    elif state == 'partial':
        sys.exit(f"Database {name} holds a demo load that did not finish: "
            "run make demo-reset")
    print("Loading the demo chain")
    start = time.monotonic()
    summary = demo_data.load(**(demo_data.SMALL if small else {}))
    print(f"Loaded in {time.monotonic() - start:.0f} s: "
        f"{len(summary['stores'])} stores, {summary['products']} products, "
        f"{summary['customers']} customers")


def print_logins(name, url):
    from demo_data import DEMO_API_KEY, PASSWORDS
    print()
    print(f"omni-retail demo  —  web client: {url}")
    print(f"  database: {name}")
    print("  logins (user / password):")
    print(f"    admin    / {PASSWORDS['admin']}     (administrator)")
    print(f"    manager  / {PASSWORDS['manager']}   (area manager)")
    for i, store in enumerate(['S01 徐家汇店', 'S02 陆家嘴店', 'S03 静安寺店'], 1):
        print(f"    cashier{i} / {PASSWORDS['cashier']}   (cashier, {store})")
    print("  integrator API key of the MALL channel (examples/):")
    print(f"    {DEMO_API_KEY}")
    print(f"    python examples/integrator_client.py --database {name} "
        f"--key {DEMO_API_KEY}")
    print()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--database', '-d', default='omni_demo')
    parser.add_argument('--config', '-c', default=str(ROOT / 'trytond.conf'))
    parser.add_argument('--reset', action='store_true',
        help="drop the database and start over")
    parser.add_argument('--small', action='store_true',
        help="load a smaller chain (fewer products, customers and days), "
        "for quick checks")
    parser.add_argument('--url', default='http://%s/' % (
            os.environ.get('TRYTOND_WEB__LISTEN') or '127.0.0.1:8000'
            ).split(',')[0])
    args = parser.parse_args(argv)

    os.chdir(ROOT)
    (ROOT / 'var').mkdir(exist_ok=True)
    os.environ.setdefault('TRYTOND_DATABASE__PATH', str(ROOT / 'var'))
    sys.path.insert(0, str(ROOT / 'scripts'))
    import trytond.config as tconfig
    tconfig.update_etc(args.config)

    check_server()
    prepare_database(args.config, args.database, args.reset)
    load_demo(args.config, args.database, args.small)
    print_logins(args.database, args.url)


if __name__ == '__main__':
    main()
