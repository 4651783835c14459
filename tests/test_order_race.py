# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Online orders racing for a store's last units, each on its own connection
(PostgreSQL only: SQLite writes one at a time)."""
import unittest
from collections import Counter

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.tests.tools import activate_modules
from trytond.transaction import Transaction

from omni_retail.exceptions import StockShortageError
from omni_retail.tests import (
    at_once, create_mall, create_till_chain, receive, run_committed,
    set_company_country)

UNITS = 5
BUYERS = 20
RETRIES = 8


@unittest.skipIf(backend.name != 'postgresql', "races need PostgreSQL")
class OrderRaceTestCase(unittest.TestCase):
    "Twenty mall orders for five units in a store"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        config = activate_modules('omni_o2o')
        cls.addClassCleanup(drop_db)
        config.skip_warning = True
        _, (store,), (product, cake) = create_till_chain(
            ['S01'], ['TEA', 'CAKE'])
        company = set_company_country()
        store.pickup = True
        store.save()
        create_mall()
        receive(product, store, UNITS)
        receive(cake, store, 1)
        cls.context = {'company': company.id, '_skip_warnings': True}
        cls.warehouse = store.warehouse.id

    @staticmethod
    def payload(reference, phone, product='TEA'):
        return {'channel': 'MALL', 'reference': reference,
            'member_phone': phone, 'fulfilment': 'pickup', 'store': 'S01',
            'lines': [{'product': product, 'quantity': 1}]}

    def race(self, payloads):
        "Place the payloads at once, each on its own connection"
        def buyer(i):
            def work():
                return Pool().get('omni.order').place(payloads[i])
            try:
                return run_committed(work, self.context)[0]
            except StockShortageError:
                return 'refused'
        return at_once(buyer, len(payloads))

    def level(self, product='TEA'):
        with Transaction().start(DB_NAME, 1):
            Level = Pool().get('omni.stock.level')
            level, = Level.search([
                    ('warehouse', '=', self.warehouse),
                    ('product.code', '=', product),
                    ])
            return level.on_hand, level.reserved

    def test_no_oversell(self):
        "Exactly the units in stock are reserved, the rest refused whole"
        results = self.race([
                self.payload(f'WX-{i}', f'1390000{i:04d}')
                for i in range(BUYERS)])
        outcomes = Counter(
            r if r == 'refused' else r['state'] for r in results)
        self.assertEqual(outcomes,
            {'reserved': UNITS, 'refused': BUYERS - UNITS}, msg=results)
        self.assertEqual(self.level(), (UNITS, UNITS))

    def test_retries_same_order(self):
        "The same order sent at once on many connections is placed once"
        results = self.race([
                self.payload('WX-SAME', '137 0000 1234', 'CAKE')
                for _ in range(RETRIES)])
        numbers = {r['number'] for r in results if r != 'refused'}
        self.assertEqual(len(numbers), 1, msg=results)
        self.assertEqual(self.level('CAKE'), (1, 1))
        with Transaction().start(DB_NAME, 1):
            Party = Pool().get('party.party')
            self.assertEqual(Party.search_count(
                    [('phone_key', '=', '+8613700001234')]), 1)
