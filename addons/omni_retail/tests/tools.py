# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import importlib
import io
import os
import random
import threading
import time
import unittest
from contextlib import contextmanager
from decimal import Decimal

import polib

from proteus import Model
from proteus.config import get_config
from trytond import backend
from trytond.modules.account.tests.tools import create_chart, get_accounts
from trytond.modules.company.tests.tools import create_company, get_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, drop_db, load_doc_tests, with_transaction)
from trytond.tests.tools import activate_modules
from trytond.transaction import Transaction, TransactionError


class TranslationTestMixin:
    "Every user-facing string of the module has a translation"
    translation_languages = ['zh_CN']

    @with_transaction()
    def test_translations_complete(self):
        "Every label, message, menu and view string is translated"
        pool = Pool()
        Translation = pool.get('ir.translation')
        TranslationSet = pool.get('ir.translation.set', type='wizard')

        session_id, _, _ = TranslationSet.create()
        TranslationSet(session_id).set_view()
        exported = Translation.translation_export('en', self.module)
        sources = polib.pofile(exported.decode()) if exported else []
        directory = os.path.dirname(
            importlib.import_module(self.module).__file__)
        for lang in self.translation_languages:
            with self.subTest(lang=lang):
                path = os.path.join(directory, 'locale', f'{lang}.po')
                translated = {
                    (e.msgctxt, e.msgid) for e in polib.pofile(path)
                    if e.msgstr and not e.fuzzy and not e.obsolete}
                missing = [e for e in sources
                    if (e.msgctxt, e.msgid) not in translated]
                if missing:
                    self.fail(f"Untranslated in {path}:\n\n" + '\n'.join(
                            str(e) for e in missing))


def scenarios(test_file):
    "Return the scenario files beside test_file"
    directory = os.path.dirname(test_file)
    return sorted(f for f in os.listdir(directory) if f.endswith('.rst'))


def run_scenario(test_name, test_file, scenario):
    "Run one scenario doctest with Tryton's set-up; fail with its report"
    loader = unittest.TestLoader()
    loader.testNamePatterns = [scenario]
    suite = load_doc_tests(
        test_name, test_file, loader, unittest.TestSuite(), None)
    stream = io.StringIO()
    result = unittest.TextTestRunner(stream=stream).run(suite)
    if not result.testsRun or not result.wasSuccessful():
        raise AssertionError(stream.getvalue())


def create_store(code, config=None):
    """Create the store channel code with its warehouse and till, using the
    proteus config"""
    Channel = Model.get('omni.channel', config=config)
    Journal = Model.get('account.journal', config=config)
    Location = Model.get('stock.location', config=config)
    POS = Model.get('sale.point', config=config)
    SequenceStrict = Model.get('ir.sequence.strict', config=config)
    SequenceType = Model.get('ir.sequence.type', config=config)

    customer, = Location.find([('code', '=', 'CUS')])
    lost_found, = Location.find([('type', '=', 'lost_found')], limit=1)
    locations = {
        field: Location(name=f"{code} {field}", type='storage')
        for field in ['input_location', 'output_location', 'storage_location']}
    Location.save(list(locations.values()))
    warehouse = Location(name=code, code=code, type='warehouse',
        lost_found_location=lost_found, **locations)
    warehouse.save()
    journal, = Journal.find([('type', '=', 'revenue')], limit=1)
    sequence_type, = SequenceType.find([('name', '=', "POS")], limit=1)
    till = POS(name=f"{code} till", journal=journal)
    till.sequence = SequenceStrict(name=code, sequence_type=sequence_type,
        prefix=f'{code}-')
    till.sequence.save()
    till.storage_location = warehouse.storage_location
    till.customer_location = customer
    till.save()
    store = Channel(code=code, name=code, kind='store', warehouse=warehouse,
        sale_point=till)
    store.save()
    return store


def create_mall(config=None):
    """Create the online mall MALL, a web shop over the central warehouse,
    using the proteus config; return its channel"""
    Channel = Model.get('omni.channel', config=config)
    Location = Model.get('stock.location', config=config)
    Shop = Model.get('web.shop', config=config)
    central, = Location.find([('code', '=', 'WH')])
    shop = Shop(name="Mall")
    shop.save()
    mall = Channel(code='MALL', name="Mall", kind='online',
        warehouse=central, web_shop=shop)
    mall.save()
    return mall


def create_goods(code, accounts, gross_price=Decimal('5'), config=None):
    "Create salable goods with an accounting category"
    Category = Model.get('product.category', config=config)
    Template = Model.get('product.template', config=config)
    Uom = Model.get('product.uom', config=config)

    category, = Category.find([('name', '=', "Goods")]) or [
        Category(name="Goods", accounting=True,
            account_revenue=accounts['revenue'])]
    category.save()
    unit, = Uom.find([('name', '=', 'Unit')])
    template = Template(name=code, code=code, type='goods',
        default_uom=unit, salable=True, account_category=category)
    template.gross_price = gross_price
    template.save()
    product, = template.products
    return product


@contextmanager
def warnings_confirmed(config=None):
    "Confirm every warning raised within, as a user clicking yes"
    config = config or get_config()
    previous, config.skip_warning = config.skip_warning, True
    try:
        yield
    finally:
        config.skip_warning = previous


def receive(product, store, quantity, lot=None, config=None):
    """Receive quantity of product from the supplier into the store (or a
    warehouse) without a purchase: a warning the user confirms"""
    Location = Model.get('stock.location', config=config)
    Move = Model.get('stock.move', config=config)
    warehouse = getattr(store, 'warehouse', None) or store
    supplier, = Location.find([('code', '=', 'SUP')])
    move = Move(product=product, quantity=quantity, unit=product.default_uom,
        from_location=supplier, to_location=warehouse.storage_location,
        unit_price=product.cost_price or Decimal('1'),
        currency=get_company(config=config).currency, lot=lot)
    move.save()
    with warnings_confirmed(config):
        move.click('do')
    return move


@unittest.skipIf(backend.name != 'postgresql',
    "races need PostgreSQL: SQLite writes one at a time")
class RaceTestCase(unittest.TestCase):
    """Callers racing on their own connections to a database of modules,
    built once for the class by setUpChain"""
    modules = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        cls.config = activate_modules(cls.modules)
        cls.addClassCleanup(drop_db)
        cls.config.skip_warning = True
        cls.setUpChain()

    @classmethod
    def setUpChain(cls):
        "Create what the callers race for"


def at_once(call, count):
    """Return [call(i) for i in range(count)], the calls made at the same
    moment, each on its own thread"""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def run_committed(work, context=None, user=1, attempts=500):
    """Run work in its own committed transaction, as the RPC dispatcher
    does: restart with the locks it asks for, retry when a concurrent
    transaction won; return (work's result, number of restarts)"""
    extras = {}
    for attempt in range(attempts):
        try:
            result, restarts, _ = run_dispatched(
                work, context, user, retry=0, extras=extras)
            return result, attempt + restarts
        except backend.DatabaseOperationalError:
            time.sleep(random.uniform(0, 0.02 * min(attempt, 10)))
    raise TimeoutError(f"gave up after {attempts} attempts")


def run_dispatched(work, context=None, user=1, retry=5, extras=None):
    """Run work in its own committed transaction exactly as the RPC
    dispatcher does: restart with the locks it asks for, retry retry times
    when a concurrent transaction won, then let the error reach the caller
    (an HTTP 503 behind the dispatcher), as does a failure to take the
    locks at the restart. Return (work's result, restarts and retries, the
    ids of the tasks it queued, which the dispatcher would then run)"""
    extras = {} if extras is None else extras
    restarts = retries = 0
    while True:
        if retries:
            time.sleep(0.02 * retries)
        with Transaction().start(
                DB_NAME, user, context=context, **extras) as transaction:
            try:
                result = work()
            except TransactionError as e:
                transaction.rollback()
                transaction.tasks.clear()
                e.fix(extras)
                restarts += 1
                continue
            except backend.DatabaseOperationalError:
                if retries < retry:
                    transaction.rollback()
                    transaction.tasks.clear()
                    retries += 1
                    continue
                raise
            transaction.commit()
            tasks = list(transaction.tasks)
            transaction.tasks.clear()
        return result, restarts + retries, tasks


def set_company_country(code='CN', name="China", config=None):
    """Give the company's address the country of code, so that phones are
    read as that country's numbers; return the company"""
    Country = Model.get('country.country', config=config)
    country, = Country.find([('code', '=', code)]) or [
        Country(name=name, code=code)]
    country.save()
    company = get_company(config=config)
    address, = company.party.addresses
    address.country = country
    address.save()
    return company


def create_till_chain(store_codes, product_codes, config=None):
    """Create a company with its chart, a cash payment method, the stores
    and the goods of the codes, using the proteus config; return them"""
    Method = Model.get('sale.point.payment.method', config=config)
    create_company(config=config)
    create_chart(config=config)
    accounts = get_accounts(config=config)
    cash = Method(name="Cash", account=accounts['cash'], cash=True)
    cash.save()
    stores = [create_store(code, config=config) for code in store_codes]
    products = [create_goods(code, accounts, config=config)
        for code in product_codes]
    return cash, stores, products
