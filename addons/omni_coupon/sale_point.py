# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.wizard import Button, StateTransition, StateView, Wizard

from omni_retail.tools import lock_and_touch

from .exceptions import CouponError


class TillSaleCoupon(ModelSQL):
    "Till Sale Coupon"
    __name__ = 'sale.point.sale-sale.promotion.coupon.number'

    sale = fields.Many2One(
        'sale.point.sale', "Sale", required=True, ondelete='CASCADE')
    number = fields.Many2One(
        'sale.promotion.coupon.number', "Code", required=True,
        ondelete='RESTRICT')
    discount = fields.Numeric("Discount", digits=(16, 2), required=True)


class TillSale(metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    coupons = fields.Many2Many(
        'sale.point.sale-sale.promotion.coupon.number', 'sale', 'number',
        "Coupons", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'redeem_coupon': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('coupons')
        return super().copy(sales, default=default)

    @classmethod
    @ModelView.button_action('omni_coupon.wizard_redeem_coupon')
    def redeem_coupon(cls, sales):
        pass

    def redeem(self, number):
        """Take the discount of the campaign code off the lines rung up so
        far: the code is used once across channels however many race"""
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        Promotion = pool.get('sale.promotion')
        SaleCoupon = pool.get('sale.point.sale-sale.promotion.coupon.number')
        if self.state != 'open':
            raise CouponError(gettext(
                    'omni_coupon.msg_coupon_till_sale_open', sale=self.rec_name))
        lock_and_touch(Promotion, [number.campaign])
        lock_and_touch(Number, [number])
        reason = number.refusal(self.omni_store, self.member, self.total)
        if reason:
            raise CouponError(reason)
        before = self.total
        number.campaign.apply_to_till(self)
        self.save()
        SaleCoupon.create([{
                    'sale': self.id,
                    'number': number.id,
                    'discount': before - self.__class__(self.id).total,
                    }])

    @classmethod
    def cancel(cls, sales):
        pool = Pool()
        SaleCoupon = pool.get('sale.point.sale-sale.promotion.coupon.number')
        super().cancel(sales)
        # Cancelled sales give their codes back
        SaleCoupon.delete(SaleCoupon.search([
                    ('sale', 'in', [s.id for s in sales]),
                    ]))


class TillSale_Return(metaclass=PoolMeta):
    "The codes of a till sale come back with all its goods (omni_return)"
    __name__ = 'sale.point.sale'

    def omni_release_coupons(self):
        pool = Pool()
        SaleCoupon = pool.get('sale.point.sale-sale.promotion.coupon.number')
        codes = [c.number for c in self.coupons]
        SaleCoupon.delete(SaleCoupon.search([('sale', '=', self.id)]))
        return codes


class RedeemStart(ModelView):
    "Redeem a Coupon"
    __name__ = 'omni.coupon.redeem.start'

    code = fields.Char("Coupon Code", required=True, strip=True)


class Redeem(Wizard):
    "Redeem a Coupon"
    __name__ = 'omni.coupon.redeem'
    start = StateView('omni.coupon.redeem.start',
        'omni_coupon.coupon_redeem_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Redeem", 'redeem', 'tryton-ok', default=True),
            ])
    redeem = StateTransition()

    def transition_redeem(self):
        pool = Pool()
        Coupon = pool.get('omni.coupon')
        number = Coupon.number(self.start.code)
        self.record.redeem(number)
        return 'end'
