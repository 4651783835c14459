# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Integrator keys following after-sales requests: a key sees the requests
on the orders of its channel"""
from trytond.pool import Pool, PoolMeta

from omni_retail.tools import channel_gate


class Method(metaclass=PoolMeta):
    __name__ = 'omni.api.method'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.channel_rule.selection.append(
            ('after_sales', "After-Sales of the Channel"))

    def _restrict_after_sales(self, channel, arguments):
        pool = Pool()
        Complaint = pool.get('sale.complaint')
        Sale = pool.get('sale.sale')
        holder, key = self._parameter(arguments)
        with channel_gate():
            complaints = Complaint.search(
                [('number', '=', holder.get(key))], limit=1)
        if (complaints and isinstance(complaints[0].origin, Sale)
                and not self.of_channel(channel, complaints[0].origin)):
            self.refuse_order(channel)
