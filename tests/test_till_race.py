# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Cashier-page sales paid at the same moment for a store's last units, each
on its own connection (PostgreSQL only: SQLite writes one at a time)."""
from collections import Counter

from proteus import Model
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from omni_retail.exceptions import StockShortageError
from omni_retail.tests import (
    RaceTestCase, at_once, create_till_chain, receive, run_committed,
    set_company_country)

from . import PRODUCT_MODULES

UNITS = 3
SALES = 8


class TillRaceTestCase(RaceTestCase):
    "Eight till sales of one tea each, paid at once, for three teas"
    modules = PRODUCT_MODULES

    @classmethod
    def setUpChain(cls):
        Group = Model.get('res.group')
        User = Model.get('res.user')
        cash, (s01,), (tea,) = create_till_chain(['S01'], ['TEA'])
        company = set_company_country()
        receive(tea, s01, UNITS)
        cashier = User(login='cashier', name="Cashier", omni_store=s01)
        cashier.groups.extend(Group.find([
                    ('name', 'in', ["Omni Retail Store Staff", "POS"])]))
        cashier.save()
        cls.user, cls.cash, cls.warehouse = cashier.id, cash.id, s01.warehouse.id
        cls.context = {'company': company.id}
        # Each scan finds the teas there: nothing is taken before payment
        cls.sales = [run_committed(
                lambda: Pool().get('omni.till').add(None, 'TEA', 1),
                cls.context, user=cls.user)[0] for _ in range(SALES)]

    def test_never_sold_twice(self):
        "Exactly the teas on hand are sold, the other payments refused"
        def pay(i):
            sale = self.sales[i]

            def work():
                return Pool().get('omni.till').pay(
                    sale['id'], self.cash, sale['to_pay'])
            try:
                return run_committed(work, self.context, user=self.user)[0][
                    'state']
            except StockShortageError:
                return 'refused'
        outcomes = Counter(at_once(pay, SALES))
        self.assertEqual(outcomes, {'done': UNITS, 'refused': SALES - UNITS})
        with Transaction().start(DB_NAME, 1):
            Level = Pool().get('omni.stock.level')
            level, = Level.search([('warehouse', '=', self.warehouse)])
            self.assertEqual((level.on_hand, level.reserved), (0, 0))
