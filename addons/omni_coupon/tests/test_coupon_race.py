# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""One single-use code, fifty redemptions at once: online orders and till
sales, each on its own connection (PostgreSQL only: SQLite writes one at a
time)."""
from collections import Counter
from decimal import Decimal

from proteus import Model, Wizard
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from omni_coupon.exceptions import CouponError
from omni_retail.tests import (
    RaceTestCase, at_once, create_mall, create_till_chain, receive,
    run_committed, set_company_country)

ONLINE = 25
TILLS = 25


class CouponRaceTestCase(RaceTestCase):
    "Twenty-five orders and twenty-five till sales race for one code"
    modules = 'omni_coupon'

    @classmethod
    def setUpChain(cls):
        Number = Model.get('sale.promotion.coupon.number')
        POSSale = Model.get('sale.point.sale')
        Promotion = Model.get('sale.promotion')
        _, (store,), (product,) = create_till_chain(['S01'], ['TEA'])
        company = set_company_country()
        store.pickup = True
        store.save()
        create_mall()
        receive(product, store, ONLINE + TILLS)
        campaign = Promotion(name="Race", omni_code='RACE',
            omni_discount_kind='percent', omni_discount=Decimal(10),
            omni_per_member=0)
        campaign.save()
        generate = Wizard('omni.coupon.generate', [campaign])
        generate.form.count = 1
        generate.execute('generate')
        number, = Number.find([('coupon.promotion', '=', campaign.id)])
        cls.code, cls.number = number.number, number.id
        cls.till_sales = []
        for _ in range(TILLS):
            sale = POSSale(point=store.sale_point)
            line = sale.lines.new()
            line.product = product
            line.quantity = 1
            sale.save()
            cls.till_sales.append(sale.id)
        cls.context = {'company': company.id, '_skip_warnings': True}

    def online(self, i):
        return Pool().get('omni.order').place({
                'channel': 'MALL', 'reference': f'WX-{i}',
                'member_phone': f'1390000{i:04d}', 'fulfilment': 'pickup',
                'store': 'S01', 'lines': [{'product': 'TEA', 'quantity': 1}],
                'coupons': [self.code]})

    def till(self, i):
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        POSSale = pool.get('sale.point.sale')
        POSSale(self.till_sales[i]).redeem(Number(self.number))
        return 'redeemed'

    def test_single_use(self):
        "Exactly one of fifty redemptions of a single-use code succeeds"
        callers = [(self.online, i) for i in range(ONLINE)] + [
            (self.till, i) for i in range(TILLS)]

        def caller(k):
            work, i = callers[k]
            try:
                return run_committed(lambda: work(i), self.context)[0]
            except CouponError:
                return 'refused'

        results = at_once(caller, len(callers))
        outcomes = Counter('refused' if r == 'refused' else 'accepted'
            for r in results)
        self.assertEqual(outcomes,
            {'accepted': 1, 'refused': len(callers) - 1}, msg=results)
        with Transaction().start(DB_NAME, 1):
            Redemption = Pool().get('omni.coupon.redemption')
            self.assertEqual(Redemption.search(
                    [('number', '=', self.number)], count=True), 1)
