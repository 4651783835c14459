# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Stores racing to take back the last units of an order, each cashier on
its own connection (PostgreSQL only: SQLite writes one at a time)."""
from collections import Counter
from decimal import Decimal

from proteus import Model
from trytond.modules.account.tests.tools import get_accounts
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from omni_retail.tests import (
    RaceTestCase, at_once, create_mall, create_till_chain, receive,
    run_committed, set_company_country)
from omni_return.exceptions import ReturnError

SOLD = 3
CASHIERS = 10


class ReturnRaceTestCase(RaceTestCase):
    "Ten returns at once of an order of three teas"
    modules = 'omni_return'

    @classmethod
    def setUpChain(cls):
        Method = Model.get('sale.point.payment.method')
        Order = Model.get('omni.order')
        Sale = Model.get('sale.sale')
        _, (s01, s02), (tea,) = create_till_chain(['S01', 'S02'], ['TEA'])
        company = set_company_country()
        Method(name="Online", account=get_accounts()['cash'],
            omni_online=True).save()
        s01.pickup = True
        s01.save()
        create_mall()
        receive(tea, s01, SOLD)
        order = Order.place({'channel': 'MALL', 'reference': 'WX-1',
                'member_phone': '138 0013 8000', 'fulfilment': 'pickup',
                'store': 'S01',
                'lines': [{'product': 'TEA', 'quantity': SOLD}]},
            cls.config.context)
        sale, = Sale.find([('number', '=', order['number'])])
        sale.click('o2o_ready')
        Order.pickup('S01', sale.pickup_code, cls.config.context)
        cls.number = order['number']
        cls.context = {'company': company.id}
        cls.warehouse = s02.warehouse.id

    def test_never_returned_twice(self):
        "Exactly the units sold come back, whichever stores race"
        def cashier(i):
            def work():
                return Pool().get('omni.order').return_goods(
                    self.number, 'S02',
                    [{'product': 'TEA', 'quantity': 1, 'reason': 'quality'}],
                    'original')
            try:
                return run_committed(work, self.context)[0]
            except ReturnError:
                return 'refused'
        results = at_once(cashier, CASHIERS)
        outcomes = Counter(r if r == 'refused' else r['total']
            for r in results)
        self.assertEqual(outcomes,
            {'-5.00': SOLD, 'refused': CASHIERS - SOLD}, msg=results)
        with Transaction().start(DB_NAME, 1):
            Level = Pool().get('omni.stock.level')
            Payment = Pool().get('sale.point.payment')
            level, = Level.search([('warehouse', '=', self.warehouse)])
            self.assertEqual(level.on_hand, SOLD)
            self.assertEqual(
                sum(p.amount for p in Payment.search([])), Decimal('-15.00'))
