# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal

from sql.aggregate import Sum
from sql.conditionals import Coalesce

from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.modules.product import round_price
from trytond.pool import Pool
from trytond.transaction import Transaction

SPEND_WINDOW = dt.timedelta(days=365)


class Level(DeactivableMixin, ModelSQL, ModelView):
    "Member Level"
    __name__ = 'omni.member.level'

    name = fields.Char("Name", required=True, translate=True)
    threshold = fields.Numeric(
        "Threshold", digits=(16, 2), required=True,
        domain=[('threshold', '>=', 0)],
        help="The spend over the last 12 months, in every channel, "
        "from which a member has this level.")
    discount_rate = fields.Numeric(
        "Discount", digits=(16, 4), required=True,
        domain=[('discount_rate', '>=', 0), ('discount_rate', '<', 1)],
        help="Taken off the price of goods at the till and online.")
    points_multiplier = fields.Numeric(
        "Points Multiplier", digits=(16, 2), required=True,
        domain=[('points_multiplier', '>=', 0)],
        help="Multiplies the points earned on each sale.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('threshold_unique', Unique(t, t.threshold),
                'omni_members.msg_level_threshold_unique'),
            ]
        cls._order.insert(0, ('threshold', 'ASC'))

    @classmethod
    def default_discount_rate(cls):
        return Decimal(0)

    @classmethod
    def default_points_multiplier(cls):
        return Decimal(1)

    def discount(self, price):
        "Return price less the level's discount"
        if price is None or not self.discount_rate:
            return price
        return round_price(price * (1 - self.discount_rate))

    @classmethod
    def spends(cls, members, since=None):
        """Return {member id: amount} spent since the date (by default 12
        months ago) at the tills and online"""
        pool = Pool()
        Date = pool.get('ir.date')
        if since is None:
            since = Date.today() - SPEND_WINDOW
        spends = {m.id: Decimal(0) for m in members}
        cursor = Transaction().connection.cursor()
        for query in cls._spend_queries(since):
            cursor.execute(*query.select(
                    query.member, Sum(query.amount),
                    where=fields.SQL_OPERATORS['in'](
                        query.member, list(spends)),
                    group_by=[query.member]))
            for member_id, amount in cursor:
                spends[member_id] += Decimal(str(amount or 0))
        return spends

    @classmethod
    def _spend_queries(cls, since):
        "Yield the (member, amount) queries of each channel's sales"
        pool = Pool()
        POSSale = pool.get('sale.point.sale')
        POSLine = pool.get('sale.point.sale.line')
        POSMethod = pool.get('sale.point.payment.method')
        POSPayment = pool.get('sale.point.payment')
        Sale = pool.get('sale.sale')
        Configuration = pool.get('omni.member.configuration')
        top_up = Configuration(1).top_up_product

        pos_sale = POSSale.__table__()
        pos_line = POSLine.__table__()
        where = (pos_sale.state.in_(['done', 'posted'])
            & (pos_sale.date >= since))
        if top_up:
            where &= pos_line.product != top_up.id
        yield pos_line.join(pos_sale,
            condition=pos_line.sale == pos_sale.id).select(
            pos_sale.member.as_('member'),
            (pos_line.quantity * pos_line.unit_gross_price).as_('amount'),
            where=where)

        # Points are a reward, not spend
        payment = POSPayment.__table__()
        method = POSMethod.__table__()
        yield payment.join(pos_sale,
            condition=payment.sale == pos_sale.id).join(method,
            condition=payment.method == method.id).select(
            pos_sale.member.as_('member'),
            (-payment.amount).as_('amount'),
            where=pos_sale.state.in_(['done', 'posted'])
            & (pos_sale.date >= since)
            & (method.omni_ledger == 'points'))

        # What online members paid for goods, in money or stored value
        sale = Sale.__table__()
        yield sale.select(
            sale.party.as_('member'),
            (Coalesce(sale.total_amount_cache, 0)
                + Coalesce(sale.member_stored_value, 0)).as_('amount'),
            where=sale.state.in_(['processing', 'done'])
            & (sale.sale_date >= since))
