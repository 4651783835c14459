# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import Model, ModelView, fields
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from omni_retail import inputs

from .exceptions import CouponError


class Coupon(Model):
    "Coupon campaigns for the mall, mini-programs and tills"
    __name__ = 'omni.coupon'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'issue': RPC(readonly=False, check_access=False),
                'check': RPC(readonly=True, check_access=False),
                })

    @classmethod
    def issue(cls, campaign_code, member_phone):
        "Give the member of member_phone a new code of the campaign"
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        with check_access():
            ModelAccess.check('sale.promotion.coupon.number', 'write')
        campaign = cls.campaign(campaign_code)
        number, = campaign.issue_to([cls.member(member_phone)])
        return number.number

    @classmethod
    def check(cls, code, channel_code, member_phone=None, amount=None):
        """Tell if code may be redeemed on channel by the member of
        member_phone for amount: {"valid", "reason", "discount"}"""
        pool = Pool()
        Channel = pool.get('omni.channel')
        ModelAccess = pool.get('ir.model.access')
        # Who reads codes may check one (store staff: typed at the till)
        with check_access():
            ModelAccess.check('sale.promotion.coupon.number', 'read')
        code = inputs.text(code, 'code', size=64)
        if amount is not None:
            amount = inputs.amount(amount, 'amount')
        channels = Channel.search([
                ('code', '=', inputs.text(channel_code, 'channel',
                        size=32)),
                ], limit=1)
        if not channels:
            raise CouponError(gettext(
                    'omni_coupon.msg_coupon_unknown_channel',
                    channel=channel_code))
        member = cls.member(member_phone) if member_phone else None
        try:
            number = cls.number(code)
        except CouponError as unknown:
            # An unknown code is refused as any other: the caller asked
            return {'valid': False, 'reason': unknown.message,
                'discount': None}
        reason = number.refusal(channels[0], member, amount)
        return {
            'valid': reason is None,
            'reason': reason,
            'discount': number.discount_text(),
            }

    @classmethod
    def campaign(cls, code):
        pool = Pool()
        Promotion = pool.get('sale.promotion')
        campaigns = Promotion.search([('omni_code', '=', code)], limit=1)
        if not campaigns:
            raise CouponError(gettext(
                    'omni_coupon.msg_campaign_unknown', campaign=code))
        return campaigns[0]

    @classmethod
    def number(cls, code):
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        with Transaction().set_context(active_test=False):
            numbers = Number.search([
                    ('number', 'in', list({str(code or '').strip(),
                                str(code or '').strip().upper()})),
                    ], limit=1)
        if not numbers:
            raise CouponError(gettext('omni_coupon.msg_coupon_unknown',
                    code=code))
        return numbers[0]

    @classmethod
    def member(cls, phone):
        pool = Pool()
        Member = pool.get('omni.member')
        Party = pool.get('party.party')
        found = Member.lookup(phone)
        if not found:
            raise CouponError(gettext(
                    'omni_coupon.msg_coupon_no_member', phone=phone))
        return Party(found['id'])


class GenerateCodesStart(ModelView):
    "Generate Coupon Codes"
    __name__ = 'omni.coupon.generate.start'

    count = fields.Integer(
        "Number of Codes", required=True,
        domain=[('count', '>', 0), ('count', '<=', 1_000_000)])

    @classmethod
    def default_count(cls):
        return 1000


class GenerateCodes(Wizard):
    "Generate Coupon Codes"
    __name__ = 'omni.coupon.generate'
    start = StateView('omni.coupon.generate.start',
        'omni_coupon.coupon_generate_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Generate", 'generate', 'tryton-ok', default=True),
            ])
    generate = StateTransition()

    def transition_generate(self):
        self.record.create_codes(self.start.count)
        return 'end'


class IssueCodesStart(ModelView):
    "Issue Coupon Codes"
    __name__ = 'omni.coupon.issue.start'

    level = fields.Many2One('omni.member.level', "Level")
    joined_after = fields.Date("Joined After")
    joined_before = fields.Date("Joined Before")
    spent_over = fields.Numeric(
        "Spent Over", digits=(16, 2),
        help="In the last 12 months, at the tills and online.")
    birthday_month = fields.Selection(
        [(None, "")] + [(str(m), str(m)) for m in range(1, 13)],
        "Birthday Month")


class IssueCodes(Wizard):
    "Issue Coupon Codes"
    __name__ = 'omni.coupon.issue'
    start = StateView('omni.coupon.issue.start',
        'omni_coupon.coupon_issue_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Issue", 'issue', 'tryton-ok', default=True),
            ])
    issue = StateTransition()

    def transition_issue(self):
        members = self.members()
        # One code per member of the segment who has none yet
        holders = {n.omni_member for n in self.holders()}
        self.record.issue_to([m for m in members if m not in holders])
        return 'end'

    def members(self):
        pool = Pool()
        Level = pool.get('omni.member.level')
        Party = pool.get('party.party')
        domain = [('member_number', '!=', None)]
        start = self.start
        if start.level:
            domain.append(('member_level', '=', start.level.id))
        if start.joined_after:
            domain.append(('member_since', '>=', start.joined_after))
        if start.joined_before:
            domain.append(('member_since', '<=', start.joined_before))
        members = Party.search(domain, order=[('id', 'ASC')])
        if start.birthday_month:
            month = int(start.birthday_month)
            members = [m for m in members
                if m.birthday and m.birthday.month == month]
        if start.spent_over is not None:
            spends = Level.spends(members)
            members = [m for m in members
                if spends[m.id] > start.spent_over]
        return members

    def holders(self):
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        with Transaction().set_context(active_test=False):
            return Number.search([
                    ('coupon.promotion', '=', self.record.id),
                    ('omni_member', '!=', None),
                    ])
