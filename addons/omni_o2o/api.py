# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Integrator keys following orders: a key sees the orders of its channel,
placed through it or fulfilled by it"""
from http import HTTPStatus

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta

from omni_retail.exceptions import ApiError
from omni_retail.tools import channel_gate


class Method(metaclass=PoolMeta):
    __name__ = 'omni.api.method'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.channel_rule.selection.extend([
                ('order', "Order of the Channel"),
                ('orders', "Orders of the Channel"),
                ])

    def _restrict_order(self, channel, arguments):
        pool = Pool()
        Sale = pool.get('sale.sale')
        holder, key = self._parameter(arguments)
        with channel_gate():
            sales = Sale.search([('number', '=', holder.get(key))], limit=1)
        if sales and not self.of_channel(channel, sales[0]):
            self.refuse_order(channel)

    @staticmethod
    def of_channel(channel, sale):
        return channel in {sale.omni_channel, sale.omni_store}

    def refuse_order(self, channel):
        raise ApiError(HTTPStatus.FORBIDDEN, gettext(
                'omni_o2o.msg_api_order_channel', channel=channel.code))

    def _restrict_orders(self, channel, arguments):
        pass

    def _filter_orders(self, channel, rows):
        return [r for r in rows
            if channel.code in {r.get('channel'), r.get('store')}]
