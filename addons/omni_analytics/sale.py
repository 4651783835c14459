# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import PoolMeta

from .analytics import ONLINE_SOLD
from .summary import SoldLineMixin, SoldMixin


class Sale(SoldMixin, metaclass=PoolMeta):
    __name__ = 'sale.sale'
    _sold_states = ONLINE_SOLD
    _sold_date = 'sale_date'
    _sold_fields = {'sale_date', 'company', 'omni_channel', 'omni_store'}


class SaleLine(SoldLineMixin, metaclass=PoolMeta):
    __name__ = 'sale.line'
    _sold_fields = {'type', 'product', 'quantity', 'unit_price'}
