# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from sql.aggregate import Count

from trytond.i18n import gettext
from trytond.model import Index, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction


class CouponNumber(metaclass=PoolMeta):
    __name__ = 'sale.promotion.coupon.number'

    omni_member = fields.Many2One(
        'party.party', "Issued To", readonly=True, ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="The member the code was given to: only they may redeem it.")
    omni_issued = fields.DateTime("Issued", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.number, Index.Equality())))

    @property
    def campaign(self):
        return self.coupon.promotion

    def refusal(self, channel, member=None, amount=None, sale=None,
            pending=0):
        """Return why the code cannot be redeemed on channel by member for
        amount, or None; sale is the one redeeming it, not yet counted, with
        pending other codes of the campaign"""
        pool = Pool()
        Date = pool.get('ir.date')
        Lang = pool.get('ir.lang')
        campaign = self.campaign
        today = Date.today()
        if not campaign.active or not campaign.omni_code:
            return gettext('omni_coupon.msg_coupon_unknown', code=self.number)
        if ((self.start_date or today) > today
                or (self.end_date or today) < today):
            return gettext('omni_coupon.msg_coupon_expired', code=self.number,
                campaign=campaign.rec_name)
        if not campaign.in_scope(channel):
            return gettext('omni_coupon.msg_coupon_channel', code=self.number,
                channel=channel.rec_name if channel else '')
        if self.omni_member and member != self.omni_member:
            return gettext('omni_coupon.msg_coupon_other_member',
                code=self.number)
        if self.uses(exclude=sale):
            return gettext('omni_coupon.msg_coupon_used', code=self.number)
        if (campaign.omni_budget
                and campaign.redemptions() + pending >= campaign.omni_budget):
            return gettext('omni_coupon.msg_coupon_budget',
                campaign=campaign.rec_name)
        if (member and campaign.omni_per_member
                and campaign.redemptions(member) + pending
                >= campaign.omni_per_member):
            return gettext('omni_coupon.msg_coupon_member_limit',
                campaign=campaign.rec_name, limit=campaign.omni_per_member)
        if (amount is not None and campaign.amount
                and amount < campaign.amount):
            return gettext('omni_coupon.msg_coupon_threshold', code=self.number,
                amount=Lang.get().currency(campaign.amount, campaign.currency))
        return None

    def uses(self, exclude=None):
        "Return how many sales other than exclude redeemed the code"
        pool = Pool()
        Redemption = pool.get('omni.coupon.redemption')
        redemption = Redemption.__table__()
        where = redemption.number == self.id
        if exclude and exclude.id is not None and exclude.id >= 0:
            where &= redemption.order != str(exclude)
        cursor = Transaction().connection.cursor()
        cursor.execute(*redemption.select(Count(), where=where))
        return cursor.fetchone()[0]

    def discount_text(self):
        campaign = self.campaign
        if campaign.omni_discount_kind == 'percent':
            return f'{campaign.omni_discount.normalize():f}%'
        return str(campaign.omni_discount)
