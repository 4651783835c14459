# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Online orders racing for a store's last units, each on its own connection
(PostgreSQL only: SQLite writes one at a time)."""
import datetime as dt
from collections import Counter

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError
from trytond.worker import run_task

from omni_retail.exceptions import StockShortageError
from omni_retail.tests import (
    RaceTestCase, at_once, create_mall, create_till_chain, receive,
    run_committed, run_dispatched, set_company_country)

from . import PRODUCT_MODULES

UNITS = 5
BUYERS = 20
RETRIES = 8


class OrderRaceTestCase(RaceTestCase):
    """Mall orders racing for a store's units, and the workflow queued
    after them"""
    modules = PRODUCT_MODULES

    @classmethod
    def setUpChain(cls):
        _, (store,), (product, cake, jam, milk) = create_till_chain(
            ['S01'], ['TEA', 'CAKE', 'JAM', 'MILK'])
        company = set_company_country()
        store.pickup = True
        store.save()
        create_mall()
        receive(product, store, UNITS)
        receive(cake, store, 1)
        receive(jam, store, 3)
        receive(milk, store, 5)
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

    def dispatched(self, payloads, work_queue=True):
        """Place the payloads at once through the dispatcher's way; run the
        queued workflow afterwards, as trytond-worker would, if
        work_queue"""
        def buyer(i):
            def work():
                return Pool().get('omni.order').place(payloads[i])
            try:
                return run_dispatched(work, self.context)
            except StockShortageError:
                return 'refused'
            except Exception as error:
                return error
        results = at_once(buyer, len(payloads))
        for result in results if work_queue else []:
            if isinstance(result, tuple):
                for task_id in result[2]:
                    run_task(DB_NAME, task_id)
        return results

    @staticmethod
    def kill_worker_in(task_ids):
        """Run the tasks as trytond-worker does, killed before it commits:
        the database rolls their work back"""
        extras = {}
        while True:
            with Transaction().start(DB_NAME, 0, **extras) as transaction:
                try:
                    for task in Pool().get('ir.queue').browse(task_ids):
                        task.run()
                except TransactionError as e:
                    transaction.rollback()
                    e.fix(extras)
                    continue
                transaction.rollback()
                return

    def drifts(self):
        with Transaction().start(DB_NAME, 0, context=self.context):
            return Pool().get('omni.stock.level').reconcile()

    def test_contended_buyers_queue(self):
        """Eight buyers at once for three jams, with the dispatcher's five
        retries: three accepted, five refused for stock, no error (no HTTP
        503), each restarted at most once before its work"""
        results = self.dispatched([
                self.payload(f'JAM-{i}', f'1360000{i:04d}', 'JAM')
                for i in range(8)])
        outcomes = Counter(r if isinstance(r, str)
            else 'error' if isinstance(r, Exception) else r[0]['state']
            for r in results)
        self.assertEqual(outcomes, {'reserved': 3, 'refused': 5},
            msg=results)
        restarts = [r[1] for r in results if isinstance(r, tuple)]
        self.assertTrue(all(n <= 1 for n in restarts), msg=restarts)
        # The queued workflow took the reservation over: moves hold it now
        self.assertEqual(self.level('JAM'), (3, 3))
        self.assertEqual(self.drifts(), [])
        with Transaction().start(DB_NAME, 0):
            Sale = Pool().get('sale.sale')
            sales = Sale.search([('omni_reference', 'like', 'JAM-%')])
            self.assertEqual({s.state for s in sales}, {'processing'})
            self.assertEqual(
                {l.intake_reserved for s in sales for l in s.lines}, {None})

    def test_points_once(self):
        """The member earns an order's points once, though the worker was
        killed in the middle of its task, the stalled order was processed
        by the cron and the task was retried"""
        (order, _, task_ids), = self.dispatched(
            [self.payload('PTS-1', '13500001111', 'MILK')], work_queue=False)
        self.kill_worker_in(task_ids)

        def stalled():
            pool = Pool()
            Sale = pool.get('sale.sale')
            sale, = Sale.search([('number', '=', order['number'])])
            self.assertEqual(sale.state, 'confirmed')
            # Accepted longer ago than the cron waits for the worker
            table = Sale.__table__()
            Transaction().connection.cursor().execute(*table.update(
                    [table.create_date],
                    [dt.datetime.now() - dt.timedelta(hours=1)],
                    where=table.id == sale.id))
            Sale.process_stalled()
        run_committed(stalled, self.context, user=0)
        for task_id in task_ids:
            run_task(DB_NAME, task_id)
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            Points = pool.get('omni.member.points')
            Sale = pool.get('sale.sale')
            sale, = Sale.search([('number', '=', order['number'])])
            self.assertEqual(sale.state, 'processing')
            earned = Points.for_origins([sale], ['earn'])
            self.assertEqual(len(earned), 1)
            self.assertGreater(earned[0].points, 0)
        self.assertEqual(self.drifts(), [])
