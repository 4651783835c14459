# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from sql import Literal, Union
from sql.aggregate import Sum
from sql.conditionals import Coalesce
from sql.operators import Concat

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool


def till_sales(price):
    """Return (query, sale, store, total): the till sales joined to their
    store, and the sum of their lines' quantity times the price column"""
    pool = Pool()
    Channel = pool.get('omni.channel')
    POSSale = pool.get('sale.point.sale')
    POSLine = pool.get('sale.point.sale.line')
    pos = POSSale.__table__()
    line = POSLine.__table__()
    store = Channel.__table__()
    totals = line.select(line.sale,
        Sum(line.quantity * getattr(line, price)).as_('total'),
        group_by=[line.sale])
    query = (pos
        .join(store, 'LEFT', condition=store.sale_point == pos.point)
        .join(totals, 'LEFT', condition=totals.sale == pos.id))
    return query, pos, store, Coalesce(totals.total, 0)


class OrderCenter(ModelSQL, ModelView):
    """Order Center

    One list of the orders of every channel: online and platform sales and
    the sales rung up at the tills"""
    __name__ = 'omni.order.center'

    number = fields.Char("Number")
    order = fields.Reference("Order", selection=[
            ('sale.sale', "Sale"),
            ('sale.point.sale', "POS Sale"),
            ])
    channel = fields.Many2One('omni.channel', "Channel")
    store = fields.Many2One('omni.channel', "Store")
    member = fields.Many2One('party.party', "Customer")
    state = fields.Char("State")
    total = fields.Numeric("Total", digits=(16, 2))
    date = fields.Date("Date")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def table_query(cls):
        return Union(cls._online_query(), cls._till_query(), all_=True)

    @classmethod
    def _columns(cls, id_, number, order, channel, store, member, state,
            total, date):
        return [id_.as_('id'),
            Literal(0).as_('create_uid'), Literal(None).as_('create_date'),
            Literal(None).as_('write_uid'), Literal(None).as_('write_date'),
            number.as_('number'), order.as_('order'),
            channel.as_('channel'), store.as_('store'),
            member.as_('member'), state.as_('state'), total.as_('total'),
            date.as_('date')]

    @classmethod
    def _online_query(cls):
        pool = Pool()
        Sale = pool.get('sale.sale')
        sale = Sale.__table__()
        return sale.select(*cls._columns(
                sale.id * 2, sale.number,
                Concat('sale.sale,', sale.id.cast(cls.order.sql_type().base)),
                sale.omni_channel, sale.omni_store, sale.party,
                Coalesce(sale.o2o_state, sale.state),
                Coalesce(sale.total_amount_cache, 0), sale.sale_date))

    @classmethod
    def _till_query(cls):
        query, pos, store, total = till_sales('unit_gross_price')
        return query.select(*cls._columns(
                pos.id * 2 + 1, pos.number,
                Concat('sale.point.sale,', pos.id.cast(
                    cls.order.sql_type().base)),
                store.id, store.id, pos.member, pos.state,
                total, pos.date))

    def describe(self):
        return {
            'number': self.number,
            'kind': self.order.__name__ if self.order else None,
            'channel': self.channel.code if self.channel else None,
            'store': self.store.code if self.store else None,
            'member': self.member.member_number if self.member else None,
            'state': self.state,
            'total': str(self.total),
            'date': self.date.isoformat() if self.date else None,
            }
