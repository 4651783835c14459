# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from sql import Cast, Null, Union
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Coalesce
from sql.operators import Concat

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool

from omni_o2o.center import till_sales

USED_STATES = {'draft', 'cancelled'}


class Redemption(ModelSQL, ModelView):
    """Coupon Redemption

    Every sale, online or at a till, that redeemed a campaign code and was
    not cancelled"""
    __name__ = 'omni.coupon.redemption'

    number = fields.Many2One('sale.promotion.coupon.number', "Code")
    campaign = fields.Many2One('sale.promotion', "Campaign")
    order = fields.Reference("Order", selection=[
            ('sale.sale', "Sale"),
            ('sale.point.sale', "POS Sale"),
            ])
    channel = fields.Many2One('omni.channel', "Channel")
    member = fields.Many2One('party.party', "Customer")
    date = fields.Date("Date")
    discount = fields.Numeric("Discount Given", digits=(16, 2))
    revenue = fields.Numeric("Revenue", digits=(16, 2),
        help="The untaxed amount of the order.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def table_query(cls):
        return Union(cls._online_query(), cls._till_query(), all_=True)

    @classmethod
    def _columns(cls, id_, number, campaign, order, channel, member, date,
            discount, revenue):
        return [id_.as_('id'),
            number.as_('number'), campaign.as_('campaign'),
            order.as_('order'), channel.as_('channel'),
            member.as_('member'), date.as_('date'),
            # Quantities are floats: keep the amounts decimal
            Cast(discount, cls.discount.sql_type().base).as_('discount'),
            Cast(revenue, cls.revenue.sql_type().base).as_('revenue')]

    @classmethod
    def _online_query(cls):
        pool = Pool()
        Coupon = pool.get('sale.promotion.coupon')
        Line = pool.get('sale.line')
        Number = pool.get('sale.promotion.coupon.number')
        Sale = pool.get('sale.sale')
        SaleNumber = pool.get('sale.sale-sale.promotion.coupon.number')
        coupon = Coupon.__table__()
        line = Line.__table__()
        number = Number.__table__()
        sale = Sale.__table__()
        sale_number = SaleNumber.__table__()
        discounts = line.select(line.sale, line.promotion,
            Sum(Coalesce(
                    (line.original_unit_price - line.unit_price)
                    * line.quantity, 0)).as_('amount'),
            where=line.promotion != Null,
            group_by=[line.sale, line.promotion])
        totals = line.select(line.sale,
            Sum(line.quantity * line.unit_price).as_('total'),
            where=line.type == 'line',
            group_by=[line.sale])
        return (sale_number
            .join(number, condition=number.id == sale_number.number)
            .join(coupon, condition=coupon.id == number.coupon)
            .join(sale, condition=sale.id == sale_number.sale)
            .join(discounts, 'LEFT',
                condition=(discounts.sale == sale.id)
                & (discounts.promotion == coupon.promotion))
            .join(totals, 'LEFT', condition=totals.sale == sale.id)
            .select(*cls._columns(
                    sale_number.id * 2, number.id, coupon.promotion,
                    Concat('sale.sale,',
                        sale.id.cast(cls.order.sql_type().base)),
                    sale.omni_channel, sale.party, sale.sale_date,
                    Coalesce(discounts.amount, 0),
                    Coalesce(totals.total, 0)),
                where=~sale.state.in_(list(USED_STATES))))

    @classmethod
    def _till_query(cls):
        pool = Pool()
        Coupon = pool.get('sale.promotion.coupon')
        Number = pool.get('sale.promotion.coupon.number')
        SaleCoupon = pool.get('sale.point.sale-sale.promotion.coupon.number')
        coupon = Coupon.__table__()
        number = Number.__table__()
        sale_coupon = SaleCoupon.__table__()
        query, pos, store, total = till_sales('unit_list_price')
        return (query
            .join(sale_coupon, condition=sale_coupon.sale == pos.id)
            .join(number, condition=number.id == sale_coupon.number)
            .join(coupon, condition=coupon.id == number.coupon)
            .select(*cls._columns(
                    sale_coupon.id * 2 + 1, number.id, coupon.promotion,
                    Concat('sale.point.sale,',
                        pos.id.cast(cls.order.sql_type().base)),
                    store.id, pos.member, pos.date, sale_coupon.discount,
                    total),
                where=pos.state != 'cancelled'))


class Result(ModelSQL, ModelView):
    """Campaign Result

    What each campaign brought, by channel"""
    __name__ = 'omni.coupon.result'

    campaign = fields.Many2One('sale.promotion', "Campaign")
    channel = fields.Many2One('omni.channel', "Channel")
    redeemed = fields.Integer("Redeemed")
    discount = fields.Numeric("Discount Given", digits=(16, 2))
    revenue = fields.Numeric("Revenue", digits=(16, 2),
        help="The untaxed amount of the orders that redeemed codes.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('campaign', 'ASC'), ('redeemed', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Redemption = pool.get('omni.coupon.redemption')
        redemption = Redemption.__table__()
        return redemption.select(
            Min(redemption.id).as_('id'),
            redemption.campaign.as_('campaign'),
            redemption.channel.as_('channel'),
            Count().as_('redeemed'),
            Sum(redemption.discount).as_('discount'),
            Sum(redemption.revenue).as_('revenue'),
            group_by=[redemption.campaign, redemption.channel])
