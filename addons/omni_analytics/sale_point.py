# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import PoolMeta

from .analytics import TILL_SOLD
from .summary import SoldLineMixin, SoldMixin


class POSSale(SoldMixin, metaclass=PoolMeta):
    __name__ = 'sale.point.sale'
    _sold_states = TILL_SOLD
    _sold_fields = {'date', 'company', 'point'}


class POSSaleLine(SoldLineMixin, metaclass=PoolMeta):
    __name__ = 'sale.point.sale.line'
    _sold_fields = {'product', 'quantity', 'unit_list_price'}
