# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A day summarized while one of its sales changes: whichever of the two
did not see the other is refused, so the summary never misses the change
(PostgreSQL only: SQLite writes one at a time)."""
import datetime as dt

from proteus import Model
from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from omni_retail.tests import RaceTestCase, create_till_chain, receive


class AnalyticsRaceTestCase(RaceTestCase):
    "The summary of a day and a change of its sales at once"
    modules = 'omni_analytics'

    @classmethod
    def setUpChain(cls):
        POSSale = Model.get('sale.point.sale')
        cash, (store,), (tea,) = create_till_chain(['S01'], ['TEA'])
        receive(tea, store, 10)
        sale = POSSale(point=store.sale_point,
            date=dt.date.today() - dt.timedelta(days=10))
        line = sale.lines.new()
        line.product = tea
        line.quantity = 1
        sale.save()
        pay = sale.click('pay')
        pay.form.method = cash
        pay.execute('pay')
        cls.sale = sale.id
        cls.context = cls.config.context

    def sale_date(self):
        POSSale = Pool().get('sale.point.sale')
        return POSSale(self.sale).date

    def move_sale(self):
        "Move the sale a day later, as a change of the day's sales"
        POSSale = Pool().get('sale.point.sale')
        POSSale.write([POSSale(self.sale)], {
                'date': self.sale_date() + dt.timedelta(days=1)})

    def summarized(self):
        "Return whether the sale's day is summarized"
        with Transaction().start(DB_NAME, 0):
            SummaryDay = Pool().get('omni.analytics.day')
            return self.sale_date() in SummaryDay.summarized_dates(
                None, None)

    def test_change_during_summary(self):
        "A summary that missed a change committed meanwhile is refused"
        with Transaction().start(DB_NAME, 0, context=self.context) as summary:
            pool = Pool()
            Summary = pool.get('omni.analytics.summary')
            SummaryDay = pool.get('omni.analytics.day')
            days = [self.sale_date()]
            Summary.compute(days)
            with summary.new_transaction() as change:
                self.move_sale()
                change.commit()
            with self.assertRaises(backend.DatabaseOperationalError):
                SummaryDay.set_summarized(days, True)
            summary.rollback()
        self.assertFalse(self.summarized())

    def test_summary_during_change(self):
        "A change that missed a summary committed meanwhile is refused"
        with Transaction().start(DB_NAME, 0, context=self.context) as change:
            self.sale_date()
            with change.new_transaction() as summary:
                Pool().get('omni.analytics.day').summarize()
                summary.commit()
            with self.assertRaises(backend.DatabaseOperationalError):
                self.move_sale()
            change.rollback()
        self.assertTrue(self.summarized())
