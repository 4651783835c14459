# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The health URL a load balancer polls: the database answers, and how far
behind the queue is"""
import datetime as dt
from unittest.mock import patch
from urllib.parse import quote

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase
from trytond.transaction import Transaction


class HealthRouteTestCase(RouteTestCase):
    "Health URL"
    module = 'omni_retail'

    @classmethod
    def setUpDatabase(cls):
        Queue = Pool().get('ir.queue')
        now = dt.datetime.now()
        data = {'model': 'res.user', 'method': 'read', 'user': 0,
            'context': {}, 'instances': [], 'args': [], 'kwargs': {}}
        Queue.create([
                # waiting for two minutes
                {'name': 'health', 'data': data,
                    'enqueued_at': now - dt.timedelta(minutes=2)},
                # done
                {'name': 'health', 'data': data,
                    'enqueued_at': now - dt.timedelta(hours=1),
                    'dequeued_at': now, 'finished_at': now},
                # not due yet
                {'name': 'health', 'data': data,
                    'enqueued_at': now - dt.timedelta(hours=2),
                    'scheduled_at': now + dt.timedelta(hours=1)},
                ])

    def test_ok(self):
        "The database answers: 200 with the queue's lag"
        response = self.client().get(f'/{quote(self.db_name)}/omni/health')
        self.assertEqual(response.status_code, 200)
        body = response.get_json()
        self.assertEqual(body['status'], 'ok')
        self.assertEqual(body['database'], self.db_name)
        self.assertEqual(body['queue']['waiting'], 1)
        self.assertGreaterEqual(body['queue']['oldest_seconds'], 120)
        self.assertLess(body['queue']['oldest_seconds'], 3600)

    def test_database_down(self):
        "The database does not answer: 503"
        with patch.object(Transaction, 'start',
                side_effect=backend.DatabaseOperationalError("down")):
            response = self.client().get(
                f'/{quote(self.db_name)}/omni/health')
        self.assertEqual(response.status_code, 503)
        body = response.get_json()
        self.assertEqual(body['status'], 'unavailable')
        self.assertEqual(body['database'], self.db_name)
        self.assertEqual(body['error'], "down")

    def test_unknown_database(self):
        "A database this process does not serve: 503"
        response = self.client().get('/omni_no_such_db/omni/health')
        self.assertEqual(response.status_code, 503)
        body = response.get_json()
        self.assertEqual(body['status'], 'unavailable')
        self.assertEqual(body['database'], 'omni_no_such_db')


del RouteTestCase
