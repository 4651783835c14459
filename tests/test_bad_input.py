# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The bad-input catalogue: inputs of the wrong type, range or size sent to
every door (the business methods by RPC, the integrators' keyed route, the
platforms' webhooks) get a clear refusal, never Python's text, and nothing
is written. Add the cases of every new door here."""
import json
import unittest
from decimal import Decimal

from werkzeug.test import Client

from proteus import Model
from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.tests.tools import activate_modules, set_user
from trytond.transaction import Transaction
from trytond.wsgi import app

from omni_platform.platform import signed_headers
from omni_retail import inputs
from omni_retail.exceptions import InputError
from omni_retail.tests import (
    create_mall, create_till_chain, receive, set_company_country)

from . import PRODUCT_MODULES
from .test_api import MALL_METHODS, create_key

SECRET = 'bad-input-secret'
PHONE = '13800138000'
# What only a server's own failure would answer
PYTHON_WORDS = ['Traceback', 'object has no attribute', 'invalid literal',
    'not subscriptable', 'InvalidOperation', 'too large', 'NoneType',
    "unsupported operand", 'is not iterable', 'has no len']
# Counted before and after each case: nothing may be written
WRITTEN = ['sale.sale', 'sale.line', 'sale.point.sale',
    'sale.point.sale.line', 'sale.point.payment', 'party.party',
    'party.address', 'omni.member.points', 'ir.queue']


def order(**changes):
    payload = {'channel': 'MALL', 'reference': 'BAD-1',
        'member_phone': PHONE, 'fulfilment': 'pickup', 'store': 'S01',
        'lines': [{'product': 'TEA', 'quantity': 1}]}
    payload.update(changes)
    return payload


def line(**changes):
    return order(lines=[dict({'product': 'TEA', 'quantity': 1}, **changes)])


def delivery(address):
    return order(fulfilment='store_delivery', store=None, address=address)


ORDERS = [
    None, [], 'order', 1, True,
    order(channel=['MALL']), order(channel={'code': 'MALL'}),
    order(channel='M' * 33),
    order(reference={'id': 1}), order(reference=['BAD']),
    order(reference='R' * 65),
    order(fulfilment=['pickup']), order(fulfilment='drone'),
    order(store=['S01']), order(store='S' * 33),
    order(member_phone=['13800138000']), order(member_phone={}),
    order(member_phone='1' * 40), order(member_phone='not a phone'),
    order(member_phone=12), order(member_name={'first': 'Li'}),
    order(member_name='N' * 101),
    order(lines=None), order(lines='TEA'), order(lines={'TEA': 1}),
    order(lines=[1]), order(lines=[None]), order(lines=[['TEA', 1]]),
    order(lines=[{'product': 'TEA', 'quantity': 1}] * 201),
    line(product=None), line(product=['TEA']), line(product='P' * 65),
    line(product='GHOST'),
    line(quantity=None), line(quantity='abc'), line(quantity='inf'),
    line(quantity='nan'), line(quantity=-1), line(quantity=0),
    line(quantity=1e30), line(quantity=True), line(quantity=[1]),
    line(quantity={}),
    order(paid='no'), order(paid=0),
    order(coupons=5), order(coupons=[{}]), order(coupons=['C' * 65]),
    order(coupons=['NO-SUCH-CODE']), order(coupons=['C'] * 11),
    order(address='street'),
    delivery({}), delivery({'latitude': 'abc', 'longitude': 121}),
    delivery({'latitude': 'inf', 'longitude': 121}),
    delivery({'latitude': 91, 'longitude': 121}),
    delivery({'latitude': 31, 'longitude': None}),
    delivery({'latitude': 31, 'longitude': [121]}),
    ]


class BadInputTestCase(unittest.TestCase):
    "Every malformed input at every door: a clear refusal, nothing written"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        cls.config = activate_modules(PRODUCT_MODULES)
        cls.addClassCleanup(drop_db)
        cash, (s01,), (tea,) = create_till_chain(['S01'], ['TEA'])
        set_company_country()
        mall = create_mall()
        s01.pickup = True
        s01.save()
        receive(tea, s01, 10)
        Channel = Model.get('omni.channel')
        Group = Model.get('res.group')
        User = Model.get('res.user')
        Company = Model.get('company.company')
        Method = Model.get('sale.point.payment.method')
        Method(name="Online", account=cash.account, omni_online=True).save()
        Channel(code='MEITUAN', name="Meituan", kind='platform',
            warehouse=s01.warehouse, platform_secret=SECRET).save()
        company, = Company.find([])
        cashier = User(login='cashier', name="Cashier", omni_store=s01)
        cashier.groups.extend(Group.find([
                    ('name', 'in', ["Omni Retail Store Staff", "POS"])]))
        integrator = User(login='mall_api', name="Mall API")
        integrator.groups.extend(Group.find([
                    ('name', '=', "Omni Retail Integrator")]))
        for user in [cashier, integrator]:
            user.companies.append(Company(company.id))
            user.company = Company(company.id)
            user.save()
        _, cls.key = create_key(integrator, mall, MALL_METHODS)
        Model.get('omni.member').register(PHONE, "Member", 'S01',
            cls.config.context)
        cls.cash, cls.online = cash.id, Method.find(
            [('name', '=', "Online")])[0].id
        cls.cashier = cashier
        set_user(cashier, cls.config)
        Till = Model.get('omni.till')
        Till.open_session(cls.config.context)
        cls.sale = Till.add(None, 'TEA', 1, cls.config.context)
        set_user(1, cls.config)

    def tearDown(self):
        set_user(1, self.config)

    def counts(self):
        with Transaction().start(DB_NAME, 0):
            return {m: Pool().get(m).search_count([]) for m in WRITTEN}

    def assert_clear(self, message, case):
        self.assertTrue(message, case)
        for words in PYTHON_WORDS:
            self.assertNotIn(words, message, case)

    def refused_by_rpc(self, cases, user=1):
        "Each call of cases raises a user error and writes nothing"
        before = self.counts()
        for label, call in cases:
            set_user(user, self.config)
            with self.subTest(case=label):
                with self.assertRaises(UserError) as refusal:
                    call(self.config.context)
                self.assert_clear(refusal.exception.message, label)
        set_user(1, self.config)
        self.assertEqual(self.counts(), before)

    def test_order_intake(self):
        "omni.order.place: the mall's and platforms' orders"
        Order = Model.get('omni.order')
        self.refused_by_rpc([
                (repr(p)[:80], lambda c, p=p: Order.place(p, c))
                for p in ORDERS])

    def test_till(self):
        "omni.till: what the cashier page sends"
        Till = Model.get('omni.till')
        sale, cash, online = self.sale['id'], self.cash, self.online
        line_id = self.sale['lines'][0]['id']
        cases = {
            'add no code': lambda c: Till.add(sale, None, 1, c),
            'add code list': lambda c: Till.add(sale, ['TEA'], 1, c),
            'add long code': lambda c: Till.add(sale, 'T' * 65, 1, c),
            'add unknown': lambda c: Till.add(sale, 'GHOST', 1, c),
            'add quantity text': lambda c: Till.add(sale, 'TEA', 'abc', c),
            'add quantity 0': lambda c: Till.add(sale, 'TEA', 0, c),
            'add quantity -2': lambda c: Till.add(sale, 'TEA', -2, c),
            'add quantity inf': lambda c: Till.add(sale, 'TEA', 'inf', c),
            'add quantity 1e30': lambda c: Till.add(sale, 'TEA', 1e30, c),
            'add quantity true': lambda c: Till.add(sale, 'TEA', True, c),
            'add quantity beyond stock': lambda c: Till.add(
                sale, 'TEA', 999999, c),
            'add sale text': lambda c: Till.add('abc', 'TEA', 1, c),
            'add sale -1': lambda c: Till.add(-1, 'TEA', 1, c),
            'add sale 1.5': lambda c: Till.add(1.5, 'TEA', 1, c),
            'add sale list': lambda c: Till.add([sale], 'TEA', 1, c),
            'add sale huge': lambda c: Till.add(2 ** 40, 'TEA', 1, c),
            'add sale unknown': lambda c: Till.add(999999, 'TEA', 1, c),
            'quantity line text': lambda c: Till.set_quantity(
                sale, 'abc', 1, c),
            'quantity line unknown': lambda c: Till.set_quantity(
                sale, 999999, 1, c),
            'quantity text': lambda c: Till.set_quantity(
                sale, line_id, 'x', c),
            'quantity -1': lambda c: Till.set_quantity(sale, line_id, -1, c),
            'member none': lambda c: Till.set_member(sale, None, c),
            'member object': lambda c: Till.set_member(sale, {}, c),
            'member long': lambda c: Till.set_member(sale, '1' * 40, c),
            'member unknown': lambda c: Till.set_member(
                sale, '13900000000', c),
            'register phone list': lambda c: Till.register_member(
                sale, [PHONE], "Li", c),
            'register bad phone': lambda c: Till.register_member(
                sale, 'phone', "Li", c),
            'register name object': lambda c: Till.register_member(
                sale, '13900000001', {'name': 'Li'}, c),
            'redeem none': lambda c: Till.redeem(sale, None, c),
            'redeem list': lambda c: Till.redeem(sale, ['CODE'], c),
            'redeem unknown': lambda c: Till.redeem(sale, 'NO-CODE', c),
            'pay method text': lambda c: Till.pay(sale, 'abc', '1', c),
            'pay method online': lambda c: Till.pay(sale, online, '5', c),
            'pay amount text': lambda c: Till.pay(sale, cash, 'abc', c),
            'pay amount nan': lambda c: Till.pay(sale, cash, 'nan', c),
            'pay amount -1': lambda c: Till.pay(sale, cash, -1, c),
            'pay amount 0': lambda c: Till.pay(sale, cash, 0, c),
            'pay amount 1e30': lambda c: Till.pay(sale, cash, '1e30', c),
            'pay amount none': lambda c: Till.pay(sale, cash, None, c),
            'pay amount true': lambda c: Till.pay(sale, cash, True, c),
            'sale text': lambda c: Till.sale('abc', c),
            'sale none': lambda c: Till.sale(None, c),
            'cancel text': lambda c: Till.cancel('abc', c),
            'close text': lambda c: Till.close_session('abc', c),
            'close inf': lambda c: Till.close_session('inf', c),
            'search object': lambda c: Till.find_products({}, c),
            'search long': lambda c: Till.find_products('x' * 65, c),
            }
        self.refused_by_rpc(list(cases.items()), user=self.cashier)

    def test_members(self):
        "omni.member: registration, lookup and merge"
        Member = Model.get('omni.member')
        cases = {
            'register none': lambda c: Member.register(None, "Li", 'S01', c),
            'register list': lambda c: Member.register([PHONE], "Li", 'S01',
                c),
            'register text': lambda c: Member.register('phone', "Li", 'S01',
                c),
            'register long': lambda c: Member.register('1' * 40, "Li", 'S01',
                c),
            'register name': lambda c: Member.register('13900000002', ['Li'],
                'S01', c),
            'register channel': lambda c: Member.register('13900000002',
                "Li", ['S01'], c),
            'register channel unknown': lambda c: Member.register(
                '13900000002', "Li", 'NOPE', c),
            'lookup object': lambda c: Member.lookup({}, c),
            'lookup number': lambda c: Member.lookup(1.5, c),
            'merge list': lambda c: Member.merge(['M1'], 'M2', None, c),
            'merge unknown': lambda c: Member.merge('NO-1', 'NO-2', None, c),
            }
        self.refused_by_rpc(list(cases.items()))

    def test_order_status(self):
        "omni.order: status and the order center's search"
        Order = Model.get('omni.order')
        cases = {
            'status none': lambda c: Order.status(None, c),
            'status list': lambda c: Order.status(['SO1'], c),
            'status object': lambda c: Order.status({'number': 'SO1'}, c),
            'status long': lambda c: Order.status('S' * 65, c),
            'status unknown': lambda c: Order.status('NO-SUCH-ORDER', c),
            'center limit text': lambda c: Order.search_center(
                None, None, 'abc', c),
            'center limit zero': lambda c: Order.search_center(
                None, None, 0, c),
            'center limit huge': lambda c: Order.search_center(
                None, None, 1e30, c),
            'center limit nan': lambda c: Order.search_center(
                None, None, 'nan', c),
            'center store list': lambda c: Order.search_center(
                None, ['S01'], 10, c),
            'center store long': lambda c: Order.search_center(
                None, 'S' * 33, 10, c),
            'center phone object': lambda c: Order.search_center(
                {'phone': PHONE}, None, 10, c),
            }
        self.refused_by_rpc(list(cases.items()))

    def test_coupon_check(self):
        "omni.coupon.check: what a channel asks of a code"
        Coupon = Model.get('omni.coupon')
        cases = {
            'code none': lambda c: Coupon.check(None, 'MALL', None, None, c),
            'code list': lambda c: Coupon.check(['X'], 'MALL', None, None, c),
            'code long': lambda c: Coupon.check('X' * 65, 'MALL', None, None,
                c),
            'channel object': lambda c: Coupon.check('X', {}, None, None, c),
            'amount text': lambda c: Coupon.check('X', 'MALL', None, 'abc',
                c),
            'amount inf': lambda c: Coupon.check('X', 'MALL', None, 'inf',
                c),
            'amount negative': lambda c: Coupon.check('X', 'MALL', None, -5,
                c),
            'phone list': lambda c: Coupon.check('X', 'MALL', [PHONE], None,
                c),
            }
        self.refused_by_rpc(list(cases.items()))

    def post(self, path, body, headers):
        response = Client(app).post(path, data=body, headers=headers)
        return response.status_code, response.get_json()

    def refused_by_http(self, cases):
        "Each request of cases gets its 4xx in JSON and writes nothing"
        before = self.counts()
        for label, (path, body, headers, status) in cases.items():
            with self.subTest(case=label):
                answer_status, answer = self.post(path, body, headers)
                self.assertEqual(answer_status, status, (label, answer))
                self.assertIsInstance(answer, dict, label)
                self.assert_clear(answer.get('error'), label)
        self.assertEqual(self.counts(), before)

    def test_keyed_route(self):
        "The integrators' route: bodies and arguments that do not fit"
        path = f'/{DB_NAME}/omni/api/omni.order/place'
        key = {'Authorization': f'Bearer {self.key}',
            'Content-Type': 'application/json'}

        def call(payload, status=422):
            return (path, json.dumps({'payload': payload}), key, status)
        self.refused_by_http({
                'not json': (path, b'{', key, 400),
                'too large': (path, b' ' * (257 * 1024), key, 413),
                'no key': (path, b'{}', {}, 401),
                'arguments list': (path, b'[1, 2]', key, 400),
                'unknown argument': (path, b'{"bad": 1}', key, 400),
                'payload null': call(None, 400),
                'payload text': call('order', 400),
                'lines text': call(order(lines='TEA')),
                'quantity text': call(line(quantity='abc')),
                'quantity inf': call(line(quantity='inf')),
                'phone number': call(order(member_phone=['1'])),
                'coordinates': call(delivery({'latitude': 'x',
                                'longitude': 1})),
                })

    def test_platform_webhook(self):
        "The platforms' signed orders: bodies that do not fit"
        path = f'/{DB_NAME}/omni/platform/MEITUAN/order'

        def signed(body, status=400):
            body = json.dumps(body).encode() if not isinstance(
                body, bytes) else body
            return (path, body, signed_headers(SECRET, body), status)

        def platform_order(**changes):
            return dict({'order_id': 'MT-BAD',
                    'customer': {'phone': PHONE, 'name': "Li"},
                    'address': {'latitude': 31.2, 'longitude': 121.4},
                    'lines': [{'sku': 'TEA', 'quantity': 1}]}, **changes)
        self.refused_by_http({
                'not json': signed(b'{'),
                'list': signed([1]),
                'no lines': signed(platform_order(lines=None)),
                'lines objects': signed(platform_order(lines=[1])),
                'quantity text': signed(platform_order(
                        lines=[{'sku': 'TEA', 'quantity': 'abc'}])),
                'quantity huge': signed(platform_order(
                        lines=[{'sku': 'TEA', 'quantity': 1e30}])),
                'phone list': signed(platform_order(
                        customer={'phone': [PHONE]})),
                'order id object': signed(platform_order(order_id={})),
                'line without sku': signed(platform_order(
                        lines=[{'quantity': 1}])),
                'sku list': signed(platform_order(
                        lines=[{'sku': ['TEA'], 'quantity': 1}])),
                'unsigned': (path, b'{}', {}, 401),
                })

    def test_shared_validator(self):
        "What the doors let through, up to their limits"
        with Transaction().start(DB_NAME, 0):
            self.assertEqual(inputs.text('  TEA ', 'code'), 'TEA')
            self.assertIsNone(inputs.text('', 'code', required=False))
            self.assertEqual(inputs.record_id('42', 'sale_id'), 42)
            self.assertEqual(inputs.quantity('2.5', 'TEA'), 2.5)
            self.assertEqual(
                inputs.amount('12.30', 'amount'), Decimal('12.30'))
            self.assertEqual(inputs.coordinate(-180, 'longitude', 180), -180)
            inputs.room_for(inputs.MAX_ITEMS - 1, 'lines')
            for refused in [
                    lambda: inputs.room_for(inputs.MAX_ITEMS, 'lines'),
                    lambda: inputs.quantity(inputs.MAX_QUANTITY, 'TEA'),
                    lambda: inputs.text('x' * 201, 'name'),
                    lambda: inputs.record_id(2 ** 31, 'sale_id'),
                    lambda: inputs.amount(inputs.MAX_AMOUNT, 'amount'),
                    ]:
                with self.assertRaises(InputError):
                    refused()
