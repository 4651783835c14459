# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal

from sql import Cast, Column, Literal, Null, Union
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case, Coalesce, NullIf

from trytond.i18n import gettext
from trytond.model import Model, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction

from .exceptions import AnalyticsError

GROUPS = ['channel', 'store', 'product', 'category', 'day']
ONLINE_SOLD = ['confirmed', 'processing', 'done']
TILL_SOLD = ['done', 'posted']
STOCK_WINDOW = 30
ALL_DAYS = [(None, None)]
ONE_DAY = dt.timedelta(days=1)


def sale_facts(periods=ALL_DAYS, category=True):
    """Return the query of every line sold in the periods, online and at the
    tills: order, date, company, channel, store, product, category (None
    unless asked), quantity, revenue (untaxed) and cost (None when
    unknown)"""
    return Union(
        _online_facts(periods, category),
        _till_facts(periods, category),
        all_=True)


def periods(dates):
    "Return the dates as the fewest (first, last) periods of following days"
    result = []
    for date in sorted(dates):
        if result and result[-1][1] + ONE_DAY == date:
            result[-1] = (result[-1][0], date)
        else:
            result.append((date, date))
    return result


def gaps(dates, first, last):
    "Return the periods from first to last (None: no bound) but the dates"
    result = []
    start = first
    for date in sorted(dates):
        if start is None or start < date:
            result.append((start, date - ONE_DAY))
        start = date + ONE_DAY
    if start is None or last is None or start <= last:
        result.append((start, last))
    return result


def in_periods(date, periods):
    "Return the condition of date in one of the (first, last) periods"
    where = Literal(False)
    for first, last in periods:
        period = Literal(True)
        if first:
            period &= date >= first
        if last:
            period &= date <= last
        where |= period
    return where


def _categories():
    "Return the query of each template's first category"
    pool = Pool()
    TemplateCategory = pool.get('product.template-product.category')
    template_category = TemplateCategory.__table__()
    return template_category.select(
        template_category.template,
        Min(template_category.category).as_('category'),
        group_by=[template_category.template])


def product_joins(query, line, company, category):
    """Join query to the line's cost price and, if asked, its product's
    category; return it with the category and cost columns"""
    pool = Pool()
    CostPrice = pool.get('product.cost_price')
    Product = pool.get('product.product')
    cost = CostPrice.__table__()
    query = query.join(cost, 'LEFT',
        condition=(cost.product == line.product) & (cost.company == company))
    category_column = Cast(Literal(None), 'INTEGER')
    if category:
        product = Product.__table__()
        categories = _categories()
        query = (query
            .join(product, condition=product.id == line.product)
            .join(categories, 'LEFT',
                condition=categories.template == product.template))
        category_column = categories.category
    # A cost price of 0 is Tryton's default: the cost is not known. SQLite
    # keeps decimals as bytes, which compare only once cast
    return query, category_column, NullIf(
        Cast(cost.cost_price, CostPrice.cost_price.sql_type().base), 0)


def amount(expression):
    "Keep an amount decimal: quantities are floats"
    return Cast(expression, 'NUMERIC')


def _online_facts(periods, category):
    pool = Pool()
    Channel = pool.get('omni.channel')
    Line = pool.get('sale.line')
    Sale = pool.get('sale.sale')
    channel = Channel.__table__()
    line = Line.__table__()
    sale = Sale.__table__()
    query = (line
        .join(sale, condition=sale.id == line.sale)
        .join(channel, 'LEFT', condition=channel.id == sale.omni_channel))
    query, category, cost_price = product_joins(
        query, line, sale.company, category)
    quantity = Coalesce(line.quantity, 0)
    return query.select(
        (sale.id * 2).as_('order'),
        sale.sale_date.as_('date'),
        sale.company.as_('company'),
        sale.omni_channel.as_('channel'),
        Coalesce(sale.omni_store,
            Case((channel.kind == 'store', channel.id), else_=Null)
            ).as_('store'),
        line.product.as_('product'),
        category.as_('category'),
        quantity.as_('quantity'),
        amount(quantity * line.unit_price).as_('revenue'),
        amount(quantity * cost_price).as_('cost'),
        where=(line.type == 'line') & (line.product != Null)
        & sale.state.in_(ONLINE_SOLD)
        & in_periods(sale.sale_date, periods))


def _till_facts(periods, category):
    pool = Pool()
    Channel = pool.get('omni.channel')
    Line = pool.get('sale.point.sale.line')
    POSSale = pool.get('sale.point.sale')
    line = Line.__table__()
    pos = POSSale.__table__()
    store = Channel.__table__()
    query = (line
        .join(pos, condition=pos.id == line.sale)
        .join(store, 'LEFT', condition=store.sale_point == pos.point))
    query, category, cost_price = product_joins(
        query, line, pos.company, category)
    return query.select(
        (pos.id * 2 + 1).as_('order'),
        pos.date.as_('date'),
        pos.company.as_('company'),
        store.id.as_('channel'),
        store.id.as_('store'),
        line.product.as_('product'),
        category.as_('category'),
        line.quantity.as_('quantity'),
        amount(line.quantity * line.unit_list_price).as_('revenue'),
        amount(line.quantity * cost_price).as_('cost'),
        where=pos.state.in_(TILL_SOLD)
        & in_periods(pos.date, periods))


def sums(quantity, revenue, cost):
    "Return the sums of quantity, revenue, cost and margin where cost is known"
    return [
        Sum(quantity).as_('quantity'),
        Sum(revenue).as_('revenue'),
        Sum(cost).as_('cost'),
        Sum(Case((cost != Null, revenue - cost), else_=Null)).as_('margin'),
        ]


class Analytics(Model):
    "Sales and stock figures of every channel, for managers and BI tools"
    __name__ = 'omni.analytics'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'sales': RPC(readonly=True),
                'stock': RPC(readonly=True),
                })

    @classmethod
    def sales(cls, date_from, date_to, group_by):
        """Return the sales between the dates grouped by the names of
        group_by (channel, store, product, category, day): quantity,
        revenue, cost, margin, orders and average basket"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        ModelAccess.check('omni.analytics.sale', 'read')
        date_from, date_to = cls.date(date_from), cls.date(date_to)
        group_by = list(group_by or [])
        unknown = [g for g in group_by if g not in GROUPS]
        if unknown:
            raise AnalyticsError(gettext('omni_analytics.msg_analytics_group',
                    group=', '.join(map(str, unknown)),
                    groups=', '.join(GROUPS)))
        cursor = Transaction().connection.cursor()
        cursor.execute(*cls.sales_query(date_from, date_to, group_by))
        rows = list(cursor)
        names = cls.names(group_by, rows)
        return [cls.sales_row(group_by, row, names) for row in rows]

    @classmethod
    def sales_query(cls, date_from, date_to, group_by):
        """Return the query of the figures between the dates grouped by
        group_by: of the summarized days from their summary, of the others
        from the sales"""
        pool = Pool()
        Summary = pool.get('omni.analytics.summary')
        SummaryDay = pool.get('omni.analytics.day')
        live = gaps(SummaryDay.summarized_dates(date_from, date_to),
            date_from, date_to)
        figures = Union(cls.live_figures(live, group_by),
            *Summary.figures(date_from, date_to, group_by), all_=True)
        keys = [Column(figures, g) for g in group_by]
        return figures.select(*keys,
            Sum(figures.quantity), Sum(figures.revenue), Sum(figures.cost),
            Sum(figures.margin), Sum(figures.orders),
            group_by=keys or None, order_by=keys or None)

    @classmethod
    def live_figures(cls, periods, group_by):
        "Return the query of the figures of the periods' sales by group_by"
        facts = sale_facts(periods, 'category' in group_by)
        keys = {
            'channel': facts.channel, 'store': facts.store,
            'product': facts.product, 'category': facts.category,
            'day': facts.date,
            }
        keys = [keys[g] for g in group_by]
        return facts.select(
            *(k.as_(g) for k, g in zip(keys, group_by)),
            *sums(facts.quantity, facts.revenue, facts.cost),
            Count(facts.order, distinct=True).as_('orders'),
            group_by=keys or None)

    @classmethod
    def sales_row(cls, group_by, row, names):
        keys, (quantity, revenue, cost, margin, orders) = (
            row[:len(group_by)], row[len(group_by):])
        revenue, orders = cls.money(revenue), int(orders or 0)
        result = {g: names[g].get(k, k) for g, k in zip(group_by, keys)}
        result.update({
                'quantity': float(quantity or 0),
                'revenue': str(revenue),
                'cost': str(cls.money(cost)) if cost is not None else None,
                'margin': (
                    str(cls.money(margin)) if margin is not None else None),
                'orders': orders,
                'average_basket': str(
                    cls.money(revenue / orders) if orders else Decimal(0)),
                })
        return result

    @classmethod
    def names(cls, group_by, rows):
        "Return {group: {id: the code or name shown}} of the rows' keys"
        pool = Pool()
        models = {
            'channel': ('omni.channel', 'code'),
            'store': ('omni.channel', 'code'),
            'product': ('product.product', 'code'),
            'category': ('product.category', 'name'),
            }
        names = {}
        for index, group in enumerate(group_by):
            keys = {row[index] for row in rows}
            if group == 'day':
                names[group] = {k: cls.date(k).isoformat() for k in keys if k}
            else:
                Model, field = models[group]
                Model = pool.get(Model)
                names[group] = {r.id: getattr(r, field)
                    for r in Model.browse([k for k in keys if k])}
        return names

    @classmethod
    def stock(cls, store_codes=None):
        """Return per product and store the stock on hand, the sales of the
        last 30 days, days of cover and turnover, best sellers first"""
        pool = Pool()
        Channel = pool.get('omni.channel')
        Date = pool.get('ir.date')
        Level = pool.get('omni.stock.level')
        ModelAccess = pool.get('ir.model.access')
        ModelAccess.check('omni.analytics.sale', 'read')
        domain = [('kind', '=', 'store'), ('warehouse', '!=', None)]
        if store_codes:
            domain.append(('code', 'in', list(store_codes)))
        stores = Channel.search(domain)
        missing = set(store_codes or []) - {s.code for s in stores}
        if missing:
            raise AnalyticsError(gettext('omni_analytics.msg_analytics_store',
                    store=', '.join(sorted(missing))))
        by_warehouse = {s.warehouse.id: s for s in stores}
        levels = Level.search([
                ('warehouse', 'in', list(by_warehouse)),
                ])
        sold = cls.sold(stores, Date.today()
            - dt.timedelta(days=STOCK_WINDOW))
        rows = []
        for level in levels:
            store = by_warehouse[level.warehouse.id]
            quantity = sold.get((store.id, level.product.id), 0)
            daily = quantity / STOCK_WINDOW
            rows.append({
                    'product': level.product.code,
                    'store': store.code,
                    'on_hand': level.on_hand,
                    'sold': quantity,
                    'daily_sales': round(daily, 2),
                    'days_of_cover': (
                        round(level.on_hand / daily, 1) if daily else None),
                    'turnover': (
                        round(quantity / level.on_hand, 2)
                        if level.on_hand > 0 else None),
                    })
        rows.sort(key=lambda r: (-r['sold'], r['store'], r['product'] or ''))
        return rows

    @classmethod
    def sold(cls, stores, since):
        "Return {(store id, product id): quantity} sold since the date"
        facts = sale_facts([(since, None)], category=False)
        cursor = Transaction().connection.cursor()
        cursor.execute(*facts.select(facts.store, facts.product,
                Sum(facts.quantity),
                where=fields.SQL_OPERATORS['in'](
                    facts.store, [s.id for s in stores]),
                group_by=[facts.store, facts.product]))
        return {(s, p): float(q or 0) for s, p, q in cursor}

    @classmethod
    def date(cls, value):
        if value is None or isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise AnalyticsError(gettext(
                    'omni_analytics.msg_analytics_date', date=value))

    @staticmethod
    def money(value):
        return Decimal(str(value or 0)).quantize(Decimal('0.01'))


class SaleAnalytics(ModelSQL, ModelView):
    """Sales by Day

    What each channel and store sold of each product each day"""
    __name__ = 'omni.analytics.sale'

    date = fields.Date("Date")
    channel = fields.Many2One('omni.channel', "Channel")
    store = fields.Many2One('omni.channel', "Store")
    product = fields.Many2One('product.product', "Product")
    category = fields.Many2One('product.category', "Category")
    quantity = fields.Float("Quantity")
    revenue = fields.Numeric("Revenue", digits=(16, 2),
        help="Untaxed.")
    cost = fields.Numeric("Cost", digits=(16, 2))
    orders = fields.Integer("Orders")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('revenue', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        facts = sale_facts()
        keys = [facts.date, facts.channel, facts.store, facts.product,
            facts.category]
        return facts.select(
            Min(Cast(facts.order, 'BIGINT') * 1000003 + facts.product
                ).as_('id'),
            facts.date.as_('date'), facts.channel.as_('channel'),
            facts.store.as_('store'), facts.product.as_('product'),
            facts.category.as_('category'),
            Sum(facts.quantity).as_('quantity'),
            Sum(facts.revenue).as_('revenue'),
            Sum(facts.cost).as_('cost'),
            Count(facts.order, distinct=True).as_('orders'),
            group_by=keys)
