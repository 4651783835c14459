# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A delivery platform's calls to the webhooks, through the server's HTTP
routes: every answer, and deliveries racing on PostgreSQL."""
import json
import time
import unittest
from urllib.parse import quote

from werkzeug.test import Client

from proteus import Model

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.tests.tools import activate_modules
from trytond.transaction import Transaction
from trytond.wsgi import app

from omni_platform.platform import signed_headers
from omni_retail.tests import (
    at_once, create_till_chain, receive, set_company_country)

SECRET = 'platform-secret'
UNITS = 5


class PlatformWebhookTestCase(unittest.TestCase):
    "Meituan pushes orders and their news to the store that serves it"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        config = activate_modules('omni_platform')
        cls.addClassCleanup(drop_db)
        _, (store,), (tea, cake) = create_till_chain(['S01'], ['TEA', 'CAKE'])
        set_company_country()
        store.delivery = True
        store.save()
        Channel = Model.get('omni.channel')
        platform = Channel(code='MEITUAN', name="Meituan", kind='platform',
            warehouse=store.warehouse, platform_secret=SECRET)
        platform.save()
        receive(tea, store, UNITS)
        receive(cake, store, 100)
        cls.warehouse = store.warehouse.id
        config.skip_warning = True

    def setUp(self):
        self.client = Client(app)

    def url(self, path, code='MEITUAN'):
        return f'/{quote(DB_NAME)}/omni/platform/{code}/{path}'

    def post(self, path, body, secret=SECRET, timestamp=None, code='MEITUAN'):
        if not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        response = self.client.post(self.url(path, code), data=body,
            headers={
                **signed_headers(secret, body, timestamp),
                'Content-Type': 'application/json',
                })
        return response.status_code, response.get_json()

    def replay(self, path, body):
        "Post body again under a fresh timestamp with a minute-old signature"
        body = json.dumps(body).encode()
        headers = signed_headers(SECRET, body, time.time() - 60)
        headers['X-Omni-Timestamp'] = str(int(time.time()))
        response = self.client.post(self.url(path), data=body,
            headers=headers)
        return response.status_code, response.get_json()

    @staticmethod
    def order(order_id, sku='CAKE', quantity=1, phone='13800138000'):
        return {'order_id': order_id,
            'customer': {'phone': phone, 'name': "王芳"},
            'address': {'street': "漕溪北路 88 号", 'city': "上海"},
            'lines': [{'sku': sku, 'quantity': quantity}]}

    def sales(self, reference):
        with Transaction().start(DB_NAME, 0):
            Sale = Pool().get('sale.sale')
            return Sale.search_count([('omni_reference', '=', reference)])

    def level(self, product='TEA'):
        with Transaction().start(DB_NAME, 0):
            Level = Pool().get('omni.stock.level')
            level, = Level.search([
                    ('warehouse', '=', self.warehouse),
                    ('product.code', '=', product),
                    ])
            return level.on_hand, level.reserved

    def test_order_placed_once(self):
        "An order reserves at the serving store; a replay returns it"
        status, first = self.post('order', self.order('MT-1'))
        self.assertEqual(status, 200, first)
        self.assertEqual(first['store'], 'S01')
        self.assertEqual(first['state'], 'reserved')
        status, again = self.post('order', self.order('MT-1'))
        self.assertEqual((status, again['number']), (200, first['number']))
        self.assertEqual(self.sales('MT-1'), 1)

    def test_refusals_write_nothing(self):
        "Each refusal has its status and a message, and writes nothing"
        body = self.order('MT-BAD')
        cases = [
            (self.post('order', body, secret='wrong'), 401, 'Signature'),
            (self.post('order', body, timestamp=time.time() - 301), 401,
                'Timestamp'),
            (self.replay('order', body), 401, 'Signature'),
            (self.post('order', '{"order_id": '), 400, 'JSON'),
            (self.post('order', {'order_id': 'MT-BAD'}), 400, 'lines'),
            (self.post('order', self.order('MT-BAD', sku='GHOST')), 422,
                'GHOST'),
            (self.post('order', self.order('MT-BAD', 'TEA', UNITS + 1)), 409,
                'is available'),
            (self.post('order', body, code='ELEME'), 404, 'ELEME'),
            ]
        for (status, answer), expected, words in cases:
            with self.subTest(expected=expected, words=words):
                self.assertEqual(status, expected, answer)
                self.assertIn(words, answer['error'])
        self.assertEqual(self.sales('MT-BAD'), 0)
        status, _ = self.post('order', self.order(
                'MT-BAD', 'GHOST', phone='13911112222'))
        self.assertEqual(status, 422)
        self.assertFalse(self.member('+8613911112222'))

    def member(self, phone_key):
        with Transaction().start(DB_NAME, 0):
            Party = Pool().get('party.party')
            return Party.search_count([('phone_key', '=', phone_key)])

    def test_rider_and_delivery(self):
        "The rider takes the goods out of the store; delivered follows"
        on_hand, _ = self.level('CAKE')
        self.post('order', self.order('MT-2', quantity=2))
        status, answer = self.post('status',
            {'order_id': 'MT-2', 'status': 'rider_picked_up'})
        self.assertEqual((status, answer['state']), (200, 'dispatched'))
        self.assertEqual(self.level('CAKE')[0], on_hand - 2)
        status, answer = self.post('status',
            {'order_id': 'MT-2', 'status': 'delivered'})
        self.assertEqual((status, answer['state']), (200, 'delivered'))
        status, answer = self.post('status',
            {'order_id': 'MT-2', 'status': 'cancelled'})
        self.assertEqual(status, 409, answer)
        status, answer = self.post('status',
            {'order_id': 'MT-404', 'status': 'delivered'})
        self.assertEqual(status, 404, answer)
        status, answer = self.post('status',
            {'order_id': 'MT-2', 'status': 'lost'})
        self.assertEqual(status, 400, answer)

    def test_cancelled_by_platform(self):
        "A cancelled order gives its goods back to the store"
        _, reserved = self.level('CAKE')
        self.post('order', self.order('MT-3', quantity=3))
        self.assertEqual(self.level('CAKE')[1], reserved + 3)
        status, answer = self.post('status',
            {'order_id': 'MT-3', 'status': 'cancelled'})
        self.assertEqual((status, answer['state']), (200, 'cancelled'))
        self.assertEqual(self.level('CAKE')[1], reserved)
        status, answer = self.post('status',
            {'order_id': 'MT-3', 'status': 'cancelled'})
        self.assertEqual((status, answer['state']), (200, 'cancelled'))

    def test_availability_feed(self):
        "The platform reads what its store really has"
        query = 'since=0'
        response = self.client.get(self.url('availability') + '?' + query,
            headers=signed_headers(SECRET, query))
        self.assertEqual(response.status_code, 200)
        feed = response.get_json()
        self.assertEqual(feed['store'], 'S01')
        self.assertEqual(set(feed['products']), {'TEA', 'CAKE'})
        self.assertGreaterEqual(feed['products']['CAKE'], 90)
        response = self.client.get(self.url('availability'),
            headers=signed_headers('wrong', ''))
        self.assertEqual(response.status_code, 401)

    @unittest.skipIf(backend.name != 'postgresql', "races need PostgreSQL")
    def test_race(self):
        """50 deliveries of one order make one order; 50 orders for the
        last units never oversell"""
        same = self.deliver_at_once([self.order('MT-SAME')] * 50)
        self.assertEqual({s for s, _ in same}, {200})
        self.assertEqual(len({a['number'] for _, a in same}), 1)
        self.assertEqual(self.sales('MT-SAME'), 1)

        on_hand, reserved = self.level('TEA')
        free = int(on_hand - reserved)
        racing = self.deliver_at_once([
                self.order(f'MT-R{i}', 'TEA', phone=f'1390000{i:04d}')
                for i in range(50)])
        statuses = [s for s, _ in racing]
        self.assertEqual(statuses.count(200), free)
        self.assertEqual(statuses.count(409), 50 - free)
        self.assertEqual(self.level('TEA'), (on_hand, on_hand))

    def deliver_at_once(self, bodies):
        def deliver(i):
            body = json.dumps(bodies[i]).encode()
            response = Client(app).post(self.url('order'), data=body,
                headers=signed_headers(SECRET, body))
            return response.status_code, response.get_json()
        return at_once(deliver, len(bodies))


class PlatformNotActivatedTestCase(unittest.TestCase):
    "The routes are the server's: a database without the module has none"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_modules('omni_o2o')
        cls.addClassCleanup(drop_db)

    def test_not_found(self):
        "Every platform call is a 404 in JSON, never a server error"
        client = Client(app)
        url = f'/{quote(DB_NAME)}/omni/platform/MEITUAN/'
        body = b'{}'
        headers = signed_headers(SECRET, body)
        for response in [
                client.post(url + 'order', data=body, headers=headers),
                client.post(url + 'status', data=body, headers=headers),
                client.get(url + 'availability', headers=headers),
                ]:
            with self.subTest(path=response.request.path):
                self.assertEqual(response.status_code, 404)
                self.assertIn('platform', response.get_json()['error'])
