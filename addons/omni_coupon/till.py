# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.pool import Pool, PoolMeta
from trytond.rpc import RPC
from trytond.transaction import Transaction

from omni_retail import inputs


class Till(metaclass=PoolMeta):
    "The cashier page's till takes coupon codes"
    __name__ = 'omni.till'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Checked at its door (store), as the till's other calls
        cls.__rpc__['redeem'] = RPC(readonly=False, check_access=False)

    @classmethod
    def start(cls):
        result = super().start()
        result['coupons'] = True
        return result

    @classmethod
    def redeem(cls, sale_id, code):
        "Take the discount of the coupon code off the sale"
        pool = Pool()
        Coupon = pool.get('omni.coupon')
        sale = cls.till_sale(sale_id)
        number = Coupon.number(inputs.text(code, 'code', size=64))
        sale.redeem(number)
        return cls.describe(cls.till_sale(sale.id))

    @classmethod
    def sale_coupons(cls, sale):
        "Return the codes redeemed by the sale and their discounts"
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        SaleCoupon = pool.get('sale.point.sale-sale.promotion.coupon.number')
        relation = SaleCoupon.__table__()
        number = Number.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*relation.join(number,
                condition=number.id == relation.number
                ).select(number.number, relation.discount,
                where=relation.sale == sale.id,
                order_by=[relation.id.asc]))
        return [{'code': code, 'discount': str(Decimal(str(discount)))}
            for code, discount in cursor]
