# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from collections import defaultdict
from decimal import Decimal

from trytond.pool import Pool, PoolMeta


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @property
    def omni_member(self):
        return self.party if self.party.member_number else None

    @property
    def omni_date(self):
        return self.sale_date

    @property
    def omni_completed(self):
        return (self.state in {'processing', 'done'}
            and self.o2o_state in {None, 'picked_up', 'dispatched',
                'delivered'})

    def omni_sold(self):
        "Return {product: [quantity, amount with taxes]} of the goods sold"
        pool = Pool()
        Tax = pool.get('account.tax')
        sold = defaultdict(lambda: [0, Decimal(0)])
        for line in self.line_lines:
            if line.product and line.product.type == 'goods':
                taxes = Tax.compute(line.taxes, line.unit_price,
                    line.quantity, self.sale_date)
                sold[line.product][0] += line.quantity
                sold[line.product][1] += self.currency.round(
                    line.amount + sum(t['amount'] for t in taxes))
        return sold

    def omni_paid(self):
        """Return {payment method: amount}: what the member paid in points
        and stored value, the rest online"""
        pool = Pool()
        Order = pool.get('omni.order')
        paid = defaultdict(Decimal)
        ledgers = {'points': self.member_points_amount or 0,
            'stored_value': self.member_stored_value or 0}
        for ledger, amount in ledgers.items():
            if amount:
                paid[Order.refund_method(self.company, ledger)] += (
                    amount)
        goods = sum((a for _, a in self.omni_sold().values()), Decimal(0))
        rest = goods - sum(ledgers.values())
        if rest:
            paid[Order.refund_method(self.company, 'online')] += rest
        return paid

    def omni_release_coupons(self):
        """Give the codes the sale redeemed back to their holders, as its
        goods all came back; return them (the omni_coupon bridge)"""
        return []
