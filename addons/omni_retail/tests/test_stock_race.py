# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""No oversell: tills, the online mall and a delivery platform race for the
last units of one store, each on its own connection (PostgreSQL only: SQLite
has no row locks to race for)."""
from collections import Counter
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from omni_retail.exceptions import StockShortageError
from omni_retail.tests import (
    RaceTestCase, at_once, create_till_chain, receive, run_committed)

UNITS = 10
BUYERS = 60


class StockRaceTestCase(RaceTestCase):
    "Sixty buyers on three channels, ten units in the store"
    modules = 'omni_retail'

    @classmethod
    def setUpChain(cls):
        cash, (store,), (product,) = create_till_chain(['S01'], ['TEA'])
        receive(product, store, UNITS)
        cls.company = store.company.id
        cls.store = store.id
        cls.product = product.id
        cls.cash = cash.id

    def order(self):
        "An online or platform order of one unit: reserved at the store"
        pool = Pool()
        Channel = pool.get('omni.channel')
        Location = pool.get('stock.location')
        Move = pool.get('stock.move')
        Product = pool.get('product.product')
        store = Channel(self.store)
        product = Product(self.product)
        customer, = Location.search([('code', '=', 'CUS')])
        move, = Move.create([{
                    'product': product.id,
                    'unit': product.default_uom.id,
                    'quantity': 1,
                    'from_location': store.warehouse.storage_location.id,
                    'to_location': customer.id,
                    'unit_price': Decimal('5'),
                    'currency': store.company.currency.id,
                    }])
        Move.reserve([move])

    def till_sale(self):
        "A till sale of one unit, paid cash: the goods leave at once"
        pool = Pool()
        Channel = pool.get('omni.channel')
        Sale = pool.get('sale.point.sale')
        Line = pool.get('sale.point.sale.line')
        Payment = pool.get('sale.point.payment')
        store = Channel(self.store)
        sale = Sale(point=store.sale_point, company=self.company)
        line = Line(sale=sale, product=self.product, quantity=1)
        line.on_change_product()
        sale.lines = [line]
        sale.save()
        Payment.create([{
                    'sale': sale.id, 'method': self.cash,
                    'amount': sale.amount_to_pay}])
        Sale.process([sale])
        if sale.state != 'done':
            raise AssertionError(f"sale left {sale.state}")

    def test_no_oversell(self):
        "Exactly the units in stock are sold, whichever channel asks"
        channels = [self.order, self.order, self.till_sale]
        context = {'company': self.company, '_skip_warnings': True}

        def buyer(i):
            try:
                _, restarts = run_committed(channels[i % 3], context)
                return (i % 3, 'accepted', restarts)
            except StockShortageError:
                return (i % 3, 'refused', None)

        results = at_once(buyer, BUYERS)

        outcomes = Counter(outcome for _, outcome, _ in results)
        self.assertEqual(outcomes, {'accepted': UNITS,
                'refused': BUYERS - UNITS}, msg=results)
        with Transaction().start(DB_NAME, 1):
            pool = Pool()
            Level = pool.get('omni.stock.level')
            Channel = pool.get('omni.channel')
            warehouse = Channel(self.store).warehouse
            level, = Level.search([('warehouse', '=', warehouse.id)])
            sold = sum(1 for kind, outcome, _ in results
                if outcome == 'accepted' and kind == 2)
            self.assertEqual(
                (level.on_hand, level.reserved, level.available),
                (UNITS - sold, UNITS - sold, 0))
            self.assertEqual(Level.reconcile(), [])
