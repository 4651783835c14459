# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The demo chain that `make demo` loads, on a small scale, on each backend."""
import datetime as dt
import io
import sys
import unittest
from collections import Counter
from decimal import Decimal
from pathlib import Path

from proteus import Model, Wizard
from trytond.model.exceptions import AccessError
from trytond.tests.test_tryton import drop_db
from trytond.tests.tools import activate_modules, set_user

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'scripts'))

import demo  # noqa: E402
import demo_data  # noqa: E402

from . import PRODUCT_MODULES  # noqa: E402

PRODUCTS, CUSTOMERS, DUPLICATES, DAYS = 30, 48, 6, 5


class DemoDataTestCase(unittest.TestCase):
    "A newcomer's demo chain is complete and consistent"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        cls.config = activate_modules(PRODUCT_MODULES)
        cls.addClassCleanup(drop_db)
        cls.log = io.StringIO()
        cls.summary = demo_data.load(products=PRODUCTS, customers=CUSTOMERS,
            duplicates=DUPLICATES, days=DAYS, out=cls.log)

    def setUp(self):
        set_user(1, self.config)

    def test_demo_activates_the_product(self):
        "make demo activates the modules these tests activate"
        self.assertEqual(demo.MODULES, PRODUCT_MODULES)

    def test_progress_is_shown(self):
        "Loading tells which step it is at and how far it came"
        output = self.log.getvalue()
        self.assertIn("[1/16] company, currency and country", output)
        self.assertIn(f"[11/16] sales of the last {DAYS} days", output)
        self.assertIn("[16/16] returns at the stores", output)
        self.assertIn(f"customers: {CUSTOMERS}/{CUSTOMERS}", output)
        self.assertEqual(demo_data.loading_state(), 'loaded')

    def test_company_in_china(self):
        "The chain keeps its books in yuan, in China"
        Company = Model.get('company.company')
        company, = Company.find([])
        self.assertEqual(company.currency.code, 'CNY')
        self.assertEqual(company.party.addresses[0].country.code, 'CN')

    def test_channels(self):
        "Three stores with their till and warehouse, a mall, a platform"
        Channel = Model.get('omni.channel')
        channels = {c.code: c for c in Channel.find([])}
        self.assertEqual(set(channels),
            {'S01', 'S02', 'S03', 'MALL', 'MEITUAN'})
        stores = [c for c in channels.values() if c.kind == 'store']
        self.assertEqual(len(stores), 3)
        self.assertEqual(len({s.warehouse for s in stores}), 3)
        for store in stores:
            self.assertEqual(
                store.sale_point.storage_location.warehouse, store.warehouse)
            self.assertTrue(store.latitude and store.longitude)
        self.assertEqual(channels['MALL'].kind, 'online')
        self.assertTrue(channels['MALL'].web_shop)
        self.assertEqual(channels['MEITUAN'].kind, 'platform')

        Method = Model.get('sale.point.payment.method')
        self.assertTrue(Method.find([('cash', '=', True)]))

    def test_catalog_stocked_everywhere(self):
        "Products in several categories with barcodes, in stock in every store"
        Channel = Model.get('omni.channel')
        Product = Model.get('product.product')
        products = Product.find([('salable', '=', True), ('type', '=', 'goods')])
        self.assertEqual(len(products), PRODUCTS)
        self.assertGreaterEqual(
            len({c for p in products for c in p.categories}), 5)
        barcodes = [i.code for p in products for i in p.identifiers]
        self.assertEqual(len(set(barcodes)), PRODUCTS)
        self.assertTrue(all(
                len(b) == 13 and b == demo_data.ean13(b[:12])
                for b in barcodes))
        self.assertEqual(len({p.code for p in products}), PRODUCTS)
        for store in Channel.find([('kind', '=', 'store')]):
            with self.config.set_context(locations=[store.warehouse.id]):
                quantities = [p.quantity for p in Product.find(
                        [('salable', '=', True), ('type', '=', 'goods')])]
            self.assertTrue(all(q >= 0 for q in quantities), store.code)
            self.assertGreater(sum(q > 0 for q in quantities),
                PRODUCTS * 3 // 4, store.code)

    def test_stock_levels_match_moves(self):
        "Every product has a stock level in every store, as the moves say"
        Channel = Model.get('omni.channel')
        Level = Model.get('omni.stock.level')
        for store in Channel.find([('kind', '=', 'store')]):
            levels = Level.find([('warehouse', '=', store.warehouse.id)])
            self.assertEqual(len(levels), PRODUCTS)
            self.assertTrue(all(l.on_hand >= 0 and l.available >= 0
                    for l in levels))
        reconcile = Wizard('omni.stock.level.reconcile')
        self.assertEqual(reconcile.form.drifts, '')

    def test_customers_phones(self):
        "Phones typed in many formats name the same numbers; some twice"
        Mechanism = Model.get('party.contact_mechanism')
        mobiles = Mechanism.find([('type', '=', 'mobile')])
        self.assertEqual(len(mobiles), CUSTOMERS)
        self.assertTrue(all(m.value_compact.startswith('+86')
                and len(m.value_compact) == 14 for m in mobiles))
        counts = Counter(m.value_compact for m in mobiles)
        self.assertEqual(sum(n - 1 for n in counts.values()), DUPLICATES)

    def test_members(self):
        "Three customers in five are members, one per mobile"
        Party = Model.get('party.party')
        members = Party.find([('member_number', '!=', None)])
        distinct = CUSTOMERS - DUPLICATES
        self.assertEqual(len(members), distinct * 3 // 5)
        self.assertEqual(len({m.phone_key for m in members}), len(members))
        self.assertEqual({m.member_channel.code for m in members},
            {'S01', 'S02', 'S03', 'MALL'})

    def test_member_ledgers(self):
        "Levels, top-up bonuses, till payment methods and opening balances"
        Configuration = Model.get('omni.member.configuration')
        Duplicate = Model.get('omni.member.duplicate')
        Level = Model.get('omni.member.level')
        Method = Model.get('sale.point.payment.method')
        Party = Model.get('party.party')
        self.assertEqual(len(Level.find([])), len(demo_data.LEVELS))
        config = Configuration(1)
        self.assertTrue(config.top_up_product and config.points_product)
        self.assertTrue(config.stored_value_account.type.omni_stored_value)
        self.assertEqual(
            {m.omni_ledger for m in Method.find([('omni_ledger', '!=', None)])},
            {'points', 'stored_value'})
        members = Party.find([('member_number', '!=', None)])
        self.assertTrue(any(m.member_points > 0 for m in members))
        self.assertTrue(any(m.member_balance > 0 for m in members))
        self.assertEqual(len(Duplicate.find([])), DUPLICATES)

    def test_online_orders(self):
        "Orders from the mall and Meituan wait at the stores that serve them"
        Notification = Model.get('res.notification')
        Sale = Model.get('sale.sale')
        User = Model.get('res.user')
        orders = Sale.find([('omni_reference', '!=', None)])
        self.assertEqual(len(orders), len(self.summary['orders']))
        self.assertEqual({o.o2o_state for o in orders}, {'reserved'})
        self.assertEqual({o.fulfilment for o in orders},
            {'pickup', 'store_delivery', 'express'})
        cashier1, = User.find([('login', '=', 'cashier1')])
        self.assertGreaterEqual(
            len(Notification.find([('user', '=', cashier1.id)])), 2)

    def test_returns(self):
        "A delivery came back at Lujiazui to stored value, a receipt at its till"
        TillSale = Model.get('sale.point.sale')
        returns = TillSale.find([('omni_return_of', '!=', None)],
            order=[('id', 'ASC')])
        self.assertEqual([r.number for r in returns], self.summary['returns'])
        online, till = returns
        self.assertEqual(online.omni_return_of.omni_channel.code, 'MEITUAN')
        self.assertEqual(online.point, self.store('S02').sale_point)
        self.assertEqual({p.method.omni_ledger for p in online.payments},
            {'stored_value'})
        self.assertEqual(till.point, self.store('S01').sale_point)
        self.assertEqual(
            {p.method for p in till.payments},
            {p.method for p in till.omni_return_of.payments})
        for sale in returns:
            self.assertEqual(sale.state, 'done')
            self.assertLess(sale.total, 0)
            self.assertEqual(sale.total, sum(p.amount for p in sale.payments))

    def store(self, code):
        Channel = Model.get('omni.channel')
        store, = Channel.find([('code', '=', code)])
        return store

    def test_stock_alerts(self):
        "Stores' short and overstocked goods wait as open alerts"
        Alert = Model.get('omni.stock.alert')
        alerts = Alert.find([('state', '=', 'open')])
        self.assertEqual(len(alerts), self.summary['alerts'])
        self.assertTrue({'below_minimum', 'above_maximum'}
            <= {a.kind for a in alerts})

    def test_sales_history(self):
        "Every day of the period sold at each till and online"
        Analytics = Model.get('omni.analytics')
        today = dt.date.today()
        rows = Analytics.sales(
            (today - dt.timedelta(days=DAYS)).isoformat(),
            (today - dt.timedelta(days=1)).isoformat(),
            ['channel', 'day'], self.config.context)
        days = {}
        for row in rows:
            days.setdefault(row['channel'], set()).add(row['day'])
        self.assertEqual(set(days), {'S01', 'S02', 'S03', 'MALL', 'MEITUAN'})
        self.assertTrue(all(len(d) == DAYS for d in days.values()))
        self.assertEqual(
            sum(r['orders'] for r in rows),
            self.summary['till_sales'] + self.summary['online_sales'])

    def test_replenishment(self):
        "The stores' sales give order points and purchase requests"
        OrderPoint = Model.get('stock.order_point')
        Replenishment = Model.get('omni.stock.replenishment')
        Request = Model.get('purchase.request')
        figures = Replenishment.find([])
        self.assertTrue(figures)
        self.assertTrue(all(f.velocity > 0 for f in figures))
        points = OrderPoint.find([('omni_velocity', '=', True)])
        self.assertEqual({p.type for p in points}, {'purchase', 'internal'})
        requested = {(r.product.id, r.warehouse.id) for r in Request.find([])}
        for figure in figures:
            if figure.method == 'purchase' and figure.quantity:
                self.assertIn(
                    (figure.product.id, figure.store.warehouse.id), requested)

    def test_near_expiry(self):
        "Dairy lots at Xujiahui expiring within days raise alerts"
        Alert = Model.get('omni.stock.alert')
        alerts = Alert.find([('kind', '=', 'near_expiry')])
        self.assertTrue(alerts)
        self.assertEqual({a.store.code for a in alerts}, {'S01'})

    def test_channel_prices(self):
        "Meituan sells 8 % higher, beverages at one price everywhere"
        Catalog = Model.get('omni.catalog')
        Product = Model.get('product.product')
        Violation = Model.get('omni.price.violation')
        codes = [p.code for p in Product.find([('salable', '=', True)])]
        beverage = next(c for c in codes if c.startswith('BEV'))
        snack = next(c for c in codes if c.startswith('SNK'))
        store = Catalog.prices([beverage, snack], 'S01', self.config.context)
        platform = Catalog.prices(
            [beverage, snack], 'MEITUAN', self.config.context)
        self.assertEqual(platform[beverage], store[beverage])
        self.assertEqual(Decimal(platform[snack]),
            (Decimal(store[snack]) * Decimal('1.08')).quantize(
                Decimal('0.01')))
        self.assertEqual(Violation.find([]), [])

    def test_coupon_campaigns(self):
        "Campaigns have codes, members hold some, an order redeemed one"
        Promotion = Model.get('sale.promotion')
        Result = Model.get('omni.coupon.result')
        double11, = Promotion.find([('omni_code', '=', 'D11')])
        self.assertEqual(double11.omni_codes_issued, 20)
        self.assertEqual(double11.omni_redeemed, 1)
        result, = Result.find([('campaign', '=', double11.id)])
        self.assertEqual(result.channel.code, 'MALL')
        self.assertGreater(result.discount, 0)
        self.assertTrue(Promotion.find([('omni_code', '=', 'S01-100-20')]))

    def test_formats_typed(self):
        "Every typing format of a number parses to that number"
        import phonenumbers
        number = '13800138000'
        for format_ in demo_data.PHONE_FORMATS:
            parsed = phonenumbers.parse(format_(number), 'CN')
            self.assertEqual(
                phonenumbers.format_number(
                    parsed, phonenumbers.PhoneNumberFormat.E164),
                '+8613800138000')

    def test_staff(self):
        "A manager and one cashier per store, working in Chinese"
        User = Model.get('res.user')
        Channel = Model.get('omni.channel')
        logins = {u.login: u for u in User.find([])}
        self.assertLessEqual({'admin', 'manager', 'cashier1', 'cashier2',
                'cashier3'}, set(logins))
        stores = {u.omni_store.code for login, u in logins.items()
            if login.startswith('cashier')}
        self.assertEqual(stores, {'S01', 'S02', 'S03'})
        self.assertEqual(logins['cashier1'].language.code, 'zh_CN')
        self.assertTrue(logins['cashier1'].employee)

        set_user(logins['cashier1'], self.config)
        channel, = Channel.find([('code', '=', 'S01')])
        channel.pickup = not channel.pickup
        with self.assertRaises(AccessError):
            channel.save()
        set_user(logins['manager'], self.config)
        channel, = Channel.find([('code', '=', 'S01')])
        channel.pickup = not channel.pickup
        channel.save()

    def test_integrator_key(self):
        "The mall's printed key runs the example client's calls"
        from trytond.tests.test_tryton import DB_NAME
        from werkzeug.test import Client as WerkzeugClient
        from trytond.wsgi import app

        from .test_api import load_example

        def transport(url, body, headers):
            path = url.split('://', 1)[1]
            response = WerkzeugClient(app).post(
                path[path.index('/'):], data=body, headers=headers)
            return response.status_code, response.get_json()

        example = load_example()
        client = example.Client('http://localhost', DB_NAME,
            demo_data.DEMO_API_KEY, transport=transport)
        Party = Model.get('party.party')
        known, = Party.find([('member_number', '!=', None)], limit=1)
        member = example.register_member(client, known.phone_key, "示例")
        self.assertEqual(
            (member['number'], member['created']), (known.member_number, False))
        stock = example.check_stock(client, ['BEV0001'], ['S01'])
        self.assertIn('S01', stock['BEV0001'])


if __name__ == '__main__':
    unittest.main()
