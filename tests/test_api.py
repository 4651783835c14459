# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The mall's integrator key, through the keyed HTTP route, driven by the
example client of examples/integrator_client.py: granted methods work,
others are refused, the key keeps to its channel and dies when revoked."""
import importlib.util
import io
import unittest
from pathlib import Path

from werkzeug.test import Client as WerkzeugClient

from proteus import Model
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.tests.tools import activate_modules
from trytond.transaction import Transaction, check_access
from trytond.wsgi import app

from omni_retail.tests import (
    create_mall, create_till_chain, receive, set_company_country)

from . import PRODUCT_MODULES

EXAMPLE = Path(__file__).parent.parent / 'examples' / 'integrator_client.py'
MALL_METHODS = [
    ('omni.member', 'register'), ('omni.member', 'lookup'),
    ('omni.stock', 'availability'), ('omni.catalog', 'prices'),
    ('omni.order', 'place'), ('omni.order', 'status'),
    ('omni.order', 'search_center'),
    ]


def load_example():
    spec = importlib.util.spec_from_file_location(
        'integrator_client', EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def create_key(user, channel, methods):
    Key = Model.get('res.user.application')
    Method = Model.get('omni.api.method')
    key = Key(application='omni_api', user=user, omni_channel=channel)
    for model, method in methods:
        record, = Method.find([('model', '=', model), ('method', '=', method)])
        key.omni_methods.append(Method(record.id))
    # The key is known before the record is saved, as in the web client
    secret = key.key
    key.save()
    return key, secret


class ApiTestCase(unittest.TestCase):
    "The mall calls with its key; a store's key and a revoked one too"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_modules(PRODUCT_MODULES)
        cls.addClassCleanup(drop_db)
        _, (s01, s02), (tea,) = create_till_chain(['S01', 'S02'], ['TEA'])
        set_company_country()
        mall = create_mall()
        s01.pickup = True
        s01.save()
        receive(tea, s01, 10)
        Group = Model.get('res.group')
        User = Model.get('res.user')
        Company = Model.get('company.company')
        integrators, = Group.find([('name', '=', "Omni Retail Integrator")])
        users = []
        for login in ['mall_api', 'store_api']:
            user = User(login=login, name=login)
            user.groups.append(Group(integrators.id))
            company, = Company.find([])
            user.companies.append(company)
            user.company = company
            user.save()
            users.append(user)
        cls.mall_key, cls.mall_secret = create_key(
            users[0], mall, MALL_METHODS)
        cls.store_key, cls.store_secret = create_key(users[1], s02, [
                ('omni.order', 'status'), ('omni.stock', 'availability')])
        cls.revoked_key, cls.revoked_secret = create_key(
            users[0], mall, MALL_METHODS)
        cls.revoked_key.click('cancel')
        cls.example = load_example()

    def transport(self, url, body, headers):
        path = url.split('://', 1)[1]
        response = WerkzeugClient(app).post(
            path[path.index('/'):], data=body, headers=headers)
        return response.status_code, response.get_json()

    def client(self, secret=None):
        return self.example.Client('http://localhost', DB_NAME,
            secret or self.mall_secret, transport=self.transport)

    def count(self, model, domain):
        with Transaction().start(DB_NAME, 0):
            return Pool().get(model).search_count(domain)

    def refused(self, status, call, *args, **kwargs):
        with self.assertRaises(self.example.ApiError) as refusal:
            call(*args, **kwargs)
        self.assertEqual(refusal.exception.status, status,
            refusal.exception.message)
        self.assertTrue(refusal.exception.message)
        return refusal.exception.message

    def test_pickup_story(self):
        "Member, stock, a pickup order and its status, as the example does"
        example, client = self.example, self.client()
        member = example.register_member(client, '13900139000', "王芳")
        self.assertEqual(member['phone'], '+8613900139000')
        stock = example.check_stock(client, ['TEA'], ['S01'])
        self.assertEqual(list(stock), ['TEA'])
        available = stock['TEA']['S01']
        order = example.place_pickup_order(
            client, 'MALL-API-1', '13900139000', 'S01', {'TEA': 2})
        self.assertEqual((order['state'], order['store']), ('reserved', 'S01'))
        status = example.follow_status(
            client, order['number'], times=1, out=io.StringIO())
        self.assertEqual(status['state'], 'reserved')
        self.assertEqual(self.count('sale.sale', [
                    ('omni_channel.code', '=', 'MALL'),
                    ('omni_reference', '=', 'MALL-API-1')]), 1)
        self.assertEqual(example.check_stock(client, ['TEA'], ['S01']),
            {'TEA': {'S01': available - 2}})
        rows = client.call('omni.order.search_center')
        self.assertIn(order['number'], [r['number'] for r in rows])
        self.assertTrue(all('MALL' in {r['channel'], r['store']}
                for r in rows))
        self.assertTrue(self.count('omni.audit.log', [
                    ('action', '=', 'api_call'),
                    ('details', 'like', '%omni.order.place%')]))

    def test_not_granted(self):
        "A method the key is not granted, or no business method, is 403"
        client = self.client()
        self.refused(403, client.call, 'omni.coupon.issue', 'C', '139')
        self.refused(403, client.call, 'res.user.write', [], {})
        self.refused(403, self.client(self.store_secret).call,
            'omni.member.register', '13900139001', "X", 'S02')
        self.assertFalse(self.count(
                'party.party', [('phone_key', '=', '+8613900139001')]))

    def test_other_channel(self):
        "The mall's key works for the mall only, a store's for its store"
        client = self.client()
        self.refused(403, client.call, 'omni.catalog.prices', ['TEA'], 'S01')
        self.assertEqual(
            client.call('omni.catalog.prices', ['TEA']), {'TEA': '5.00'})
        payload = {'channel': 'MEITUAN', 'reference': 'API-OTHER',
            'member_phone': '13900139002', 'fulfilment': 'pickup',
            'store': 'S01', 'lines': [{'product': 'TEA', 'quantity': 1}]}
        message = self.refused(403, client.call, 'omni.order.place', payload)
        self.assertIn('MALL', message)
        self.assertFalse(self.count(
                'sale.sale', [('omni_reference', '=', 'API-OTHER')]))
        order = self.example.place_pickup_order(
            client, 'MALL-API-3', '13900139003', 'S01', {'TEA': 1})
        self.refused(403, self.example.order_status,
            self.client(self.store_secret), order['number'])

    def test_revoked_and_unknown_keys(self):
        "A revoked, unknown or missing key is 401, in JSON"
        self.refused(401, self.example.check_stock,
            self.client(self.revoked_secret), ['TEA'])
        self.refused(401, self.example.check_stock,
            self.client('not-a-key'), ['TEA'])
        response = WerkzeugClient(app).post(
            f'/{DB_NAME}/omni/api/omni.stock/availability', data='[]')
        self.assertEqual(response.status_code, 401)
        self.assertIn('error', response.get_json())

    def test_bad_requests(self):
        "Bad JSON, arguments that do not fit: 400; a business error: 422"
        client = self.client()
        status, answer = self.transport(
            f'http://localhost/{DB_NAME}/omni/api/omni.stock/availability',
            b'[', {'Authorization': f'Bearer {self.mall_secret}'})
        self.assertEqual(status, 400, answer)
        self.refused(400, client.call, 'omni.stock.availability', 1, 2, 3)
        self.refused(400, client.call, 'omni.stock.availability', bad=1)
        message = self.refused(422, self.example.place_pickup_order,
            client, 'MALL-API-4', '13900139004', 'S01', {'GHOST': 1})
        self.assertIn('GHOST', message)
        self.assertFalse(self.count(
                'sale.sale', [('omni_reference', '=', 'MALL-API-4')]))

    def test_key_shown_once_and_audited(self):
        "A saved key is never read back; creation and revocation are logged"
        with Transaction().start(DB_NAME, 1), check_access():
            Key = Pool().get('res.user.application')
            row, = Key.read([self.mall_key.id], ['key', 'rec_name'])
            self.assertNotEqual(row['key'], self.mall_secret)
            self.assertNotIn(self.mall_secret, row['rec_name'])
            self.assertNotIn(self.mall_secret[:8], row['rec_name'])
            # Not guessed bit by bit, not found by a part of it by name
            for clause in [('key', 'like', self.mall_secret[:4] + '%'),
                    ('key', 'ilike', '%'), ('key', '!=', '')]:
                with self.assertRaises(AccessError):
                    Key.search_count([clause])
            self.assertFalse(Key.search(
                    [('rec_name', 'ilike', self.mall_secret[:6] + '%')]))
            self.assertEqual([k.id for k in Key.search(
                        [('key', '=', self.mall_secret)])], [self.mall_key.id])
        for action, key in [
                ('api_key_create', self.mall_key),
                ('api_key_revoke', self.revoked_key)]:
            self.assertEqual(self.count('omni.audit.log', [
                        ('action', '=', action),
                        ('record', '=', f'res.user.application,{key.id}'),
                        ]), 1, action)
