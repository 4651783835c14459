# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from collections import Counter, defaultdict

from trytond.pool import Pool, PoolMeta

from omni_retail.tools import lock_and_touch

from .exceptions import CouponError


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def quote(cls, sales):
        cls.redeem_coupons(sales)
        super().quote(sales)

    @classmethod
    def redeem_coupons(cls, sales):
        """Lock the campaign codes of the sales and refuse any that cannot be
        redeemed: a code is used once across channels however many sales
        race for it"""
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        Promotion = pool.get('sale.promotion')
        numbers = sorted({n for s in sales for n in s.coupons
                if n.campaign.omni_code}, key=lambda n: n.id)
        if not numbers:
            return
        lock_and_touch(Promotion, sorted({n.campaign for n in numbers},
                key=lambda c: c.id))
        lock_and_touch(Number, numbers)
        for sale in sales:
            pending = Counter()
            for number in sale.coupons:
                campaign = number.campaign
                if not campaign.omni_code:
                    continue
                reason = number.refusal(sale.omni_channel, sale.party,
                    campaign.get_sale_amount(sale), sale=sale,
                    pending=pending[campaign])
                if reason:
                    raise CouponError(reason)
                pending[campaign] += 1

    @classmethod
    def copy(cls, sales, default=None):
        # A code is single use: a copy, a return included, does not hold it
        default = default.copy() if default is not None else {}
        default.setdefault('coupons')
        return super().copy(sales, default=default)

    @classmethod
    def confirm(cls, sales):
        super().confirm(sales)
        cls.release_coupons([s.origin for s in sales if s.returns_whole()])

    def returns_whole(self):
        "Tell if the sale gives back every line of a sale that took codes"
        origin = self.origin
        if not isinstance(origin, self.__class__) or not origin.coupons:
            return False
        left = defaultdict(float)
        for line in origin.line_lines:
            left[line.product] += line.quantity
        for line in self.line_lines:
            left[line.product] += line.quantity
        return all(quantity <= 0 for quantity in left.values())

    @classmethod
    def release_coupons(cls, sales):
        "Give the codes of the sales back to their holders"
        for sale in sales:
            sale.coupons = []
        cls.save(sales)

    @classmethod
    def give_back(cls, sales):
        super().give_back(sales)
        cls.release_coupons(sales)


class Sale_Return(metaclass=PoolMeta):
    "The codes of an online sale come back with all its goods (omni_return)"
    __name__ = 'sale.sale'

    def omni_release_coupons(self):
        codes = [c.number for c in self.coupons]
        self.release_coupons([self])
        return codes
