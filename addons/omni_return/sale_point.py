# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from collections import defaultdict
from decimal import Decimal

from trytond.model import fields
from trytond.pool import PoolMeta


class TillSale(metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    omni_return_of = fields.Reference(
        "Return Of", selection=[
            (None, ''),
            ('sale.sale', "Sale"),
            ('sale.point.sale', "POS Sale"),
            ], readonly=True,
        help="The order whose goods this sale takes back.")

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('omni_return_of')
        return super().copy(sales, default=default)

    @property
    def omni_channel(self):
        return self.omni_store

    @property
    def omni_member(self):
        return self.member

    @property
    def omni_date(self):
        return self.date

    @property
    def omni_completed(self):
        return self.state in {'done', 'posted'}

    def omni_sold(self):
        "Return {product: [quantity, amount with taxes]} of the goods sold"
        sold = defaultdict(lambda: [0, Decimal(0)])
        for line in self.lines:
            if line.product and line.product.type == 'goods':
                sold[line.product][0] += line.quantity
                sold[line.product][1] += line.gross_amount
        return sold

    def omni_paid(self):
        "Return {payment method: amount paid with it}"
        paid = defaultdict(Decimal)
        for payment in self.payments:
            paid[payment.method] += payment.amount
        return paid

    def omni_release_coupons(self):
        """Give the codes the sale redeemed back to their holders, as its
        goods all came back; return them (the omni_coupon bridge)"""
        return []


class TillSaleLine(metaclass=PoolMeta):
    __name__ = 'sale.point.sale.line'

    omni_return_reason = fields.Many2One(
        'omni.return.reason', "Return Reason", readonly=True,
        ondelete='RESTRICT')
