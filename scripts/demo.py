# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Create or update the demo database and load the demo chain into it.

    python scripts/demo.py [--database omni_demo] [--reset] [--small]

The database is a SQLite file under TRYTOND_DATABASE__PATH (var/) or, when
TRYTOND_DATABASE__URI is postgresql://…, a PostgreSQL database created on
that server.  A new database is created and the omni modules activated with
Chinese loaded; an existing one is updated when the modules' source changed
since its last update, and keeps its data.
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
# The product's leaf modules (tests/__init__.py PRODUCT_MODULES)
MODULES = [
    'omni_after_sales', 'omni_analytics', 'omni_coupon', 'omni_platform',
    'omni_return']
LANGUAGES = ['zh_CN']
# Modules split out of another: {module: the module it was split from}.
# A database built before the split takes the moved records over to the new
# module, which keeps their ids (an API key's grants, complaint types)
SPLIT_FROM = {
    'omni_after_sales': 'omni_o2o',
    'omni_analytics': 'omni_o2o',
    'omni_coupon': 'omni_o2o',
    'omni_platform': 'omni_o2o',
    'omni_return': 'omni_o2o',
    }


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


def xml_ids(module):
    "Return the ids of the records of module's XML files"
    from xml.etree import ElementTree

    from trytond.modules import get_module_info
    info = get_module_info(module)
    return {element.get('id')
        for filename in info.get('xml', [])
        for element in ElementTree.parse(
            os.path.join(info['directory'], filename)).iter()
        if element.tag in {'record', 'menuitem'} and element.get('id')}


def moved_models(module):
    """Return the models module defines and the (model, field) it adds to
    other models"""
    import importlib

    from trytond.model import Model, fields
    from trytond.modules import get_module_register
    models, model_fields = set(), set()
    for classes, _ in get_module_register(module):
        for path in classes:
            file, name = path.rsplit('.', 1)
            cls = getattr(importlib.import_module(f'{module}.{file}'), name)
            if issubclass(cls, Model):
                models.add(cls.__name__)
            else:
                model_fields.update((cls.__name__, f)
                    for f, v in vars(cls).items()
                    if isinstance(v, fields.Field))
    return models, model_fields


def activated_modules(name):
    from sql import Table

    from trytond.transaction import Transaction
    module = Table('ir_module')
    with Transaction().start(name, 0, readonly=True) as transaction, \
            transaction.connection.cursor() as cursor:
        cursor.execute(*module.select(module.name,
                where=module.state == 'activated'))
        return {n for n, in cursor}


def missing_modules(name):
    "Return the modules of MODULES not activated on database name"
    activated = activated_modules(name)
    return [m for m in MODULES if m not in activated]


def take_over_split_records(name):
    """Give the records, models and fields that moved to a module split out
    of another since the database was built to their new module, before it
    is activated: it then updates them in place"""
    from sql import Table

    from trytond.transaction import Transaction
    activated = activated_modules(name)
    moves = [(new, old, sorted(xml_ids(new) - xml_ids(old)),
            *moved_models(new))
        for new, old in SPLIT_FROM.items()
        if new not in activated and old in activated]
    if not moves:
        return []
    data, view = Table('ir_model_data'), Table('ir_ui_view')
    model, field = Table('ir_model'), Table('ir_model_field')
    translation = Table('ir_translation')
    with Transaction().start(name, 0) as transaction, \
            transaction.connection.cursor() as cursor:
        for new, old, moved, models, model_fields in moves:
            print(f"Database {name} predates the split of {new} out of "
                f"{old}: moving its records to {new}")
            cursor.execute(*data.update([data.module], [new],
                    where=(data.module == old) & data.fs_id.in_(moved)))
            # The records' translatable texts (messages)
            cursor.execute(*data.select(data.model, data.db_id,
                    where=(data.module == new)))
            for model_name, db_id in cursor.fetchall():
                cursor.execute(*translation.update([translation.module],
                        [new], where=(translation.module == old)
                        & (translation.res_id == db_id)
                        & translation.name.like(f'{model_name},%')))
            # A view reads its arch from the folder of its module
            cursor.execute(*view.update([view.module], [new],
                    where=view.id.in_(data.select(data.db_id,
                            where=(data.module == new)
                            & (data.model == 'ir.ui.view')))))
            for name_ in models:
                cursor.execute(*model.update([model.module], [new],
                        where=(model.module == old) & (model.name == name_)))
            for name_, field_name in model_fields | {
                    (m, None) for m in models}:
                where = (field.module == old) & (field.model == name_)
                if field_name:
                    where &= field.name == field_name
                cursor.execute(*field.update([field.module], [new],
                        where=where))
                # The labels' sources; the update reloads the translations
                cursor.execute(*translation.update([translation.module],
                        [new], where=(translation.module == old)
                        & (translation.lang == 'en')
                        & translation.name.like(
                            f'{name_},{field_name or "%"}')))
        transaction.commit()
    return [(new, old) for new, old, *_ in moves]


def drop_taken_translations(name, moves):
    """Drop the translations the old module of each move (new, old) still
    has of the texts the new module now loads (the other languages' labels,
    views, wizard buttons): only the new module's are kept up to date"""
    from sql import Table

    from trytond.transaction import Transaction
    old, new = Table('ir_translation'), Table('ir_translation')
    with Transaction().start(name, 0) as transaction, \
            transaction.connection.cursor() as cursor:
        for new_module, old_module in moves:
            cursor.execute(*old.join(new, condition=(new.name == old.name)
                    & (new.type == old.type) & (new.lang == old.lang)
                    & (new.res_id == old.res_id) & (new.src == old.src)
                    ).select(old.id, where=(old.module == old_module)
                    & (new.module == new_module)))
            ids = [i for i, in cursor.fetchall()]
            for i in range(0, len(ids), 500):
                cursor.execute(*old.delete(
                        where=old.id.in_(ids[i:i + 500])))
        transaction.commit()


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
    elif (not stamp.exists() or stamp.read_text() != current
            or missing_modules(name)):
        print(f"Updating database {name}: the modules changed")
        moves = take_over_split_records(name)
        # Activates the modules a database built before them lacks; -u
        # before --all, which adds to it (after, -u would replace the whole
        # of --all, and the modules they depend on would not be updated)
        trytond_admin(config_file, name, '-u', *MODULES, '--all',
            '--activate-dependencies')
        drop_taken_translations(name, moves)
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
