# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta

from omni_retail.tools import record_turns


class Order(metaclass=PoolMeta):
    "Orders redeem the campaign codes of their payload"
    __name__ = 'omni.order'

    @classmethod
    def coupons(cls, codes):
        pool = Pool()
        Coupon = pool.get('omni.coupon')
        return [Coupon.number(code) for code in codes]

    @classmethod
    def coupon_turns(cls, numbers):
        "The turns on the campaign codes and their campaigns, locked to redeem"
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        Promotion = pool.get('sale.promotion')
        numbers = [n for n in numbers if n.campaign.omni_code]
        return (super().coupon_turns(numbers)
            + record_turns(Promotion, {n.campaign for n in numbers})
            + record_turns(Number, numbers))

    @classmethod
    def apply_coupons(cls, sale, coupons):
        super().apply_coupons(sale, coupons)
        sale.coupons = coupons
