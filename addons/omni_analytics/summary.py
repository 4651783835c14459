# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt

from sql import Cast, Column, Conflict, Literal, Union
from sql.aggregate import Count, Sum
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .analytics import (
    ONLINE_SOLD, TILL_SOLD, amount, in_periods, periods, product_joins,
    sale_facts, sums)

GRAINS = [
    ('product', "Product"),
    ('category', "Category"),
    ('order', "Order"),
    ]
# Sales are recorded on the day they happen: no transaction still running
# can change a day that closed this long ago without marking it changed
SUMMARY_LAG = dt.timedelta(days=2)
COMPANY_CONTEXT = {
    'company': Eval('company', -1),
    }


def to_date(value):
    "SQLite gives the dates of unions as text"
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


class SummaryDay(ModelSQL, ModelView):
    """Sales Summary Day

    A day of which the sales are summarized, or to be summarized again"""
    __name__ = 'omni.analytics.day'

    date = fields.Date("Date", required=True)
    summarized = fields.Boolean(
        "Summarized", help="The summary holds the day's sales as they are.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('date_unique', Unique(t, t.date),
                'omni_analytics.msg_analytics_day_unique'),
            ]
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def summarized_dates(cls, date_from, date_to):
        "Return the summarized days from date_from to date_to"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.date,
                where=table.summarized
                & in_periods(table.date, [(date_from, date_to)])))
        return [to_date(d) for d, in cursor]

    @classmethod
    def invalidate(cls, dates):
        "Have the closed days of the dates summarized again"
        Date = Pool().get('ir.date')
        today = Date.today()
        cls.set_summarized({d for d in dates if d and d < today}, False)

    @classmethod
    def set_summarized(cls, dates, summarized):
        # Each change writes its day's row, even before the first summary:
        # PostgreSQL then refuses whichever of a summary and a change of the
        # day's sales did not see the other
        transaction = Transaction()
        table = cls.__table__()
        cursor = transaction.connection.cursor()
        for sub_dates in grouped_slice(
                sorted(dates), backend.MAX_QUERY_PARAMS // 4):
            cursor.execute(*table.insert(
                    [table.date, table.summarized,
                        table.create_uid, table.create_date],
                    [[d, summarized, transaction.user, CurrentTimestamp()]
                        for d in sub_dates],
                    on_conflict=Conflict(table,
                        indexed_columns=[table.date],
                        columns=[table.summarized,
                            table.write_uid, table.write_date],
                        values=[summarized,
                            transaction.user, CurrentTimestamp()])))

    @classmethod
    def summarize(cls):
        "Summarize the closed days not summarized or changed since"
        pool = Pool()
        Date = pool.get('ir.date')
        Summary = pool.get('omni.analytics.summary')
        dates = cls.to_summarize(Date.today() - SUMMARY_LAG)
        if dates:
            Summary.compute(dates)
            cls.set_summarized(dates, True)

    @classmethod
    def to_summarize(cls, last):
        "Return the days up to last with sales and no summary as they are"
        pool = Pool()
        Sale = pool.get('sale.sale')
        POSSale = pool.get('sale.point.sale')
        table = cls.__table__()
        sale = Sale.__table__()
        pos = POSSale.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.date, table.summarized))
        known = {to_date(d): bool(s) for d, s in cursor}
        cursor.execute(*Union(
                sale.select(sale.sale_date,
                    where=sale.state.in_(ONLINE_SOLD)
                    & (sale.sale_date <= last)),
                pos.select(pos.date,
                    where=pos.state.in_(TILL_SOLD) & (pos.date <= last))))
        sold = {to_date(d) for d, in cursor} - known.keys()
        return sorted(sold | {
                d for d, summarized in known.items()
                if not summarized and d <= last})


class Summary(ModelSQL):
    """Sales Summary

    What each channel and store sold each summarized day: per product, and
    the orders per category and in all, as an order of several products
    counts once"""
    __name__ = 'omni.analytics.summary'

    date = fields.Date("Date", required=True)
    company = fields.Many2One('company.company', "Company", required=True)
    channel = fields.Many2One('omni.channel', "Channel",
        context=COMPANY_CONTEXT, depends=['company'])
    store = fields.Many2One('omni.channel', "Store",
        context=COMPANY_CONTEXT, depends=['company'])
    grain = fields.Selection(GRAINS, "Grain", required=True)
    product = fields.Many2One('product.product', "Product",
        context=COMPANY_CONTEXT, depends=['company'])
    category = fields.Many2One('product.category', "Category",
        context=COMPANY_CONTEXT, depends=['company'])
    quantity = fields.Float("Quantity")
    revenue = fields.Numeric("Revenue", help="Untaxed.")
    orders = fields.Integer("Orders")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.grain, Index.Equality(cardinality='low')),
                (t.date, Index.Range())))

    @classmethod
    def compute(cls, dates):
        "Summarize again the sales of the dates"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        days = periods(dates)
        cursor.execute(*table.delete(where=in_periods(table.date, days)))
        for grain, _ in GRAINS:
            cursor.execute(*cls.insert_query(grain, days))

    @classmethod
    def insert_query(cls, grain, days):
        "Return the query inserting the days' summary at the grain"
        table = cls.__table__()
        facts = sale_facts(days, category=grain == 'category')
        keys = [facts.date, facts.company, facts.channel, facts.store]
        columns = [table.date, table.company, table.channel, table.store]
        values = list(keys)
        if grain == 'product':
            keys.append(facts.product)
            columns += [table.product, table.quantity, table.revenue]
            values += [facts.product,
                Sum(facts.quantity), Sum(facts.revenue)]
        elif grain == 'category':
            keys.append(facts.category)
            columns.append(table.category)
            values.append(facts.category)
        return table.insert(
            columns + [table.grain, table.orders,
                table.create_uid, table.create_date],
            facts.select(*values, Literal(grain),
                Count(facts.order, distinct=True),
                Literal(Transaction().user), CurrentTimestamp(),
                group_by=keys))

    @classmethod
    def figures(cls, date_from, date_to, group_by):
        """Return the queries of the figures of the summarized days from
        date_from to date_to by group_by: quantity, revenue, cost and margin
        at today's cost price from the products' summary, the orders from
        the grain that counts each once"""
        queries = [cls.product_figures(date_from, date_to, group_by)]
        if 'product' not in group_by:
            queries.append(cls.orders_figures(date_from, date_to, group_by))
        return queries

    @classmethod
    def product_figures(cls, date_from, date_to, group_by):
        summary, query = cls.summarized()
        query, category, cost_price = product_joins(
            query, summary, summary.company, 'category' in group_by)
        keys = cls.keys(summary, group_by, category)
        cost = amount(summary.quantity * cost_price)
        orders = Sum(summary.orders)
        if 'product' not in group_by:
            orders = Cast(Literal(None), 'INTEGER')
        return query.select(
            *(k.as_(g) for g, k in zip(group_by, keys)),
            *sums(summary.quantity, summary.revenue, cost),
            orders.as_('orders'),
            where=(summary.grain == 'product')
            & in_periods(summary.date, [(date_from, date_to)]),
            group_by=keys or None)

    @classmethod
    def orders_figures(cls, date_from, date_to, group_by):
        summary, query = cls.summarized()
        grain = 'category' if 'category' in group_by else 'order'
        keys = cls.keys(summary, group_by, summary.category)
        return query.select(
            *(k.as_(g) for g, k in zip(group_by, keys)),
            Cast(Literal(None), 'FLOAT').as_('quantity'),
            *(Cast(Literal(None), 'NUMERIC').as_(n)
                for n in ['revenue', 'cost', 'margin']),
            Sum(summary.orders).as_('orders'),
            where=(summary.grain == grain)
            & in_periods(summary.date, [(date_from, date_to)]),
            group_by=keys or None)

    @classmethod
    def summarized(cls):
        "Return the summary table and its rows of days summarized"
        SummaryDay = Pool().get('omni.analytics.day')
        summary = cls.__table__()
        day = SummaryDay.__table__()
        return summary, summary.join(day,
            condition=(day.date == summary.date) & day.summarized)

    @staticmethod
    def keys(summary, group_by, category):
        columns = {
            'channel': summary.channel, 'store': summary.store,
            'product': summary.product, 'category': category,
            'day': summary.date,
            }
        return [columns[g] for g in group_by]

    @classmethod
    def invalidate_products(cls, products):
        "Have the days the products sold summarized again"
        SummaryDay = Pool().get('omni.analytics.day')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        dates = set()
        for sub_ids in grouped_slice(
                [p.id for p in products], backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(table.date,
                    where=(table.grain == 'product')
                    & fields.SQL_OPERATORS['in'](table.product, sub_ids),
                    group_by=[table.date]))
            dates.update(to_date(d) for d, in cursor)
        SummaryDay.invalidate(dates)


class SoldMixin:
    """Have the summarized days of which the sales change summarized again;
    the class names its sold states, date and fields that count"""
    __slots__ = ()
    _sold_states = []
    _sold_date = 'date'
    _sold_fields = set()

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The analytics read the days not summarized from the sales
        cls._sql_indexes.add(
            Index(t, (Column(t, cls._sold_date), Index.Range())))

    @property
    def sold_date(self):
        "The day the sale counts for, if it counts"
        if self.state in self._sold_states:
            return getattr(self, self._sold_date)

    @classmethod
    def on_write(cls, sales, values):
        pool = Pool()
        SummaryDay = pool.get('omni.analytics.day')
        SummaryDay.invalidate(cls.changed_dates(sales, values))
        return super().on_write(sales, values)

    @classmethod
    def changed_dates(cls, sales, values):
        "Yield the days of which the write changes what sold"
        moved = bool(cls._sold_fields & values.keys())
        for sale in sales:
            was = sale.state in cls._sold_states
            will = values.get('state', sale.state) in cls._sold_states
            if was != will or (moved and (was or will)):
                date = getattr(sale, cls._sold_date)
                yield date
                yield values.get(cls._sold_date, date)

    @classmethod
    def on_modification(cls, mode, sales, field_names=None):
        pool = Pool()
        SummaryDay = pool.get('omni.analytics.day')
        super().on_modification(mode, sales, field_names=field_names)
        if mode != 'write':
            SummaryDay.invalidate(s.sold_date for s in sales)


class SoldLineMixin:
    """Have the summarized days of which the sale lines change summarized
    again; the class names the fields that count"""
    __slots__ = ()
    _sold_fields = set()

    @classmethod
    def on_modification(cls, mode, lines, field_names=None):
        pool = Pool()
        SummaryDay = pool.get('omni.analytics.day')
        super().on_modification(mode, lines, field_names=field_names)
        if mode != 'write' or cls._sold_fields & set(field_names):
            SummaryDay.invalidate(line.sale.sold_date for line in lines)

