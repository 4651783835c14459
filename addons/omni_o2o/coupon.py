# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import logging
from collections import Counter, defaultdict
import secrets
import time
from decimal import Decimal

from sql import Cast, Null, Union
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Coalesce
from sql.functions import CurrentTimestamp
from sql.operators import Concat

from trytond.i18n import gettext
from trytond.model import Index, Model, ModelSQL, ModelView, Unique, fields
from trytond.modules.product import round_price
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from omni_retail import inputs
from omni_retail.tools import lock_and_touch

from .center import till_sales
from .exceptions import CouponError

logger = logging.getLogger(__name__)

# No 0/O, 1/I/L: codes are read out and typed in at the till
CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
CODE_LENGTH = 12
CODE_BATCH = 5000
SCOPES = [
    ('both', "Online and Stores"),
    ('online', "Online"),
    ('stores', "Stores"),
    ]
ONLINE_KINDS = {'online', 'platform'}
USED_STATES = {'draft', 'cancelled'}


class Campaign(metaclass=PoolMeta):
    "A coupon campaign is a promotion with a campaign code"
    __name__ = 'sale.promotion'

    omni_code = fields.Char(
        "Campaign Code", strip=True,
        help="Names the campaign in the API; set for coupon campaigns.")
    omni_scope = fields.Selection(
        SCOPES, "Channels",
        states={
            'invisible': ~Eval('omni_code'),
            'required': Eval('omni_code', False),
            },
        help="Where the campaign's codes are redeemed.")
    omni_stores = fields.Many2Many(
        'sale.promotion-omni.channel', 'promotion', 'store', "Stores",
        domain=[('kind', '=', 'store')],
        states={
            'invisible': Eval('omni_scope') == 'online',
            },
        help="Limit redemption in stores to these; empty for all.")
    omni_discount_kind = fields.Selection([
            (None, ""),
            ('percent', "% Off"),
            ('amount', "Amount Off"),
            ], "Discount",
        states={
            'invisible': ~Eval('omni_code'),
            'required': Eval('omni_code', False),
            })
    omni_discount = fields.Numeric(
        "Discount Value", digits=(16, 2),
        domain=['OR',
            ('omni_discount', '=', None),
            ('omni_discount', '>', 0),
            ],
        states={
            'invisible': ~Eval('omni_code'),
            'required': Eval('omni_code', False),
            },
        help="The percentage or the amount taken off; with a minimum "
        "Amount, an amount off is a spend-threshold discount (满减).")
    omni_per_member = fields.Integer(
        "Uses per Member",
        states={
            'invisible': ~Eval('omni_code'),
            },
        help="How many of the campaign's codes a member may redeem; "
        "0 for no limit.")
    omni_budget = fields.Integer(
        "Budget",
        states={
            'invisible': ~Eval('omni_code'),
            },
        help="The most redemptions of the campaign; 0 for no limit.")
    omni_codes_issued = fields.Function(
        fields.Integer("Codes Issued"), 'get_omni_results')
    omni_redeemed = fields.Function(
        fields.Integer("Redeemed"), 'get_omni_results')
    omni_redemption_rate = fields.Function(
        fields.Float("Redemption Rate", digits=(1, 4)), 'get_omni_results')
    omni_discount_given = fields.Function(
        fields.Numeric("Discount Given", digits=(16, 2)), 'get_omni_results')
    omni_revenue = fields.Function(
        fields.Numeric("Revenue", digits=(16, 2),
            help="The untaxed amount of the orders that redeemed codes."),
        'get_omni_results')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('omni_code_unique', Unique(t, t.omni_code),
                'omni_o2o.msg_campaign_code_unique'),
            ]
        cls._buttons.update({
                'generate_codes': {
                    'invisible': ~Eval('omni_code'),
                    'depends': ['omni_code'],
                    },
                'issue_codes': {
                    'invisible': ~Eval('omni_code'),
                    'depends': ['omni_code'],
                    },
                })

    @classmethod
    def default_omni_scope(cls):
        return 'both'

    @classmethod
    def default_omni_per_member(cls):
        return 1

    @classmethod
    def default_omni_budget(cls):
        return 0

    @classmethod
    def get_omni_results(cls, campaigns, names):
        pool = Pool()
        Coupon = pool.get('sale.promotion.coupon')
        Number = pool.get('sale.promotion.coupon.number')
        Result = pool.get('omni.coupon.result')
        coupon = Coupon.__table__()
        number = Number.__table__()
        result = Result.__table__()
        ids = [c.id for c in campaigns]
        cursor = Transaction().connection.cursor()
        cursor.execute(*number.join(coupon,
                condition=coupon.id == number.coupon).select(
                coupon.promotion, Count(),
                where=fields.SQL_OPERATORS['in'](coupon.promotion, ids)
                & (number.omni_member != Null),
                group_by=[coupon.promotion]))
        issued = dict(cursor)
        cursor.execute(*result.select(result.campaign,
                Sum(result.redeemed), Sum(result.discount),
                Sum(result.revenue),
                where=fields.SQL_OPERATORS['in'](result.campaign, ids),
                group_by=[result.campaign]))
        redeemed = {c: (r, d, v) for c, r, d, v in cursor}
        values = {n: {} for n in names}
        for campaign in campaigns:
            count, discount, revenue = redeemed.get(campaign.id, (0, 0, 0))
            given = issued.get(campaign.id, 0)
            row = {
                'omni_codes_issued': given,
                'omni_redeemed': int(count or 0),
                'omni_redemption_rate': (
                    int(count or 0) / given if given else None),
                'omni_discount_given': Decimal(str(discount or 0)).quantize(
                    Decimal('0.01')),
                'omni_revenue': Decimal(str(revenue or 0)).quantize(
                    Decimal('0.01')),
                }
            for name in names:
                values[name][campaign.id] = row[name]
        return values

    @property
    def omni_coupon(self):
        "The coupon that holds the campaign's codes"
        return self.coupons[0] if self.coupons else None

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('omni_code'):
            if not values.get('formula'):
                values['formula'] = 'unit_price'
        return values

    @classmethod
    def on_modification(cls, mode, campaigns, field_names=None):
        pool = Pool()
        Coupon = pool.get('sale.promotion.coupon')
        super().on_modification(mode, campaigns, field_names=field_names)
        if mode in {'create', 'write'}:
            # The codes of a campaign are single use
            Coupon.save([Coupon(promotion=c, number_of_use=1,
                        company=c.company)
                    for c in cls.browse(campaigns)
                    if c.omni_code and not c.coupons])

    def get_unit_price(self, **context):
        unit_price = super().get_unit_price(**context)
        if self.omni_discount_kind == 'percent' and unit_price is not None:
            unit_price *= 1 - self.omni_discount / 100
        return unit_price

    def apply(self, sale):
        if self.omni_discount_kind == 'amount':
            self.apply_amount_off(sale)
        else:
            super().apply(sale)

    def apply_amount_off(self, sale):
        "Spread the amount off over the campaign's lines by their amount"
        lines = [l for l in sale.lines
            if l.type == 'line' and self.is_valid_sale_line(l)]
        total = sum(
            Decimal(str(l.quantity)) * l.unit_price for l in lines)
        if not total:
            return
        ratio = max(1 - self.omni_discount / total, Decimal(0))
        for line in lines:
            line.unit_price = round_price(line.unit_price * ratio)
            line.promotion = self
        sale.lines = sale.lines

    def apply_to_till(self, sale):
        "Take the campaign's discount off the lines of the till sale"
        lines = [l for l in sale.lines
            if l.quantity > 0 and l.unit_gross_price > 0
            and not l.is_top_up and self.is_valid_sale_line(l)]
        if self.omni_discount_kind == 'percent':
            ratio = 1 - self.omni_discount / 100
        else:
            total = sum(Decimal(str(l.quantity)) * l.unit_gross_price
                for l in lines)
            if not total:
                return
            ratio = max(1 - self.omni_discount / total, Decimal(0))
        for line in lines:
            line.unit_gross_price = round_price(line.unit_gross_price * ratio)
            line.unit_list_price = round_price(line.unit_list_price * ratio)
        sale.lines = sale.lines

    def get_pattern(self, sale):
        pattern = super().get_pattern(sale)
        if self.omni_code:
            pattern['omni_channel'] = getattr(sale, 'omni_channel', None)
        return pattern

    def match(self, pattern):
        if self.omni_code and not self.coupons:
            # Never without a code: sale_promotion_coupon checks codes only
            # of promotions that have coupons
            return False
        if 'omni_channel' in pattern:
            pattern = pattern.copy()
            if not self.in_scope(pattern.pop('omni_channel')):
                return False
        return super().match(pattern)

    def in_scope(self, channel):
        "Tell if the campaign's codes may be redeemed on channel"
        if not channel:
            return False
        if channel.kind in ONLINE_KINDS:
            return self.omni_scope in {'both', 'online'}
        return (self.omni_scope in {'both', 'stores'}
            and (not self.omni_stores or channel in self.omni_stores))

    def redemptions(self, member=None):
        "Return how many sales of every channel redeemed the campaign's codes"
        pool = Pool()
        Redemption = pool.get('omni.coupon.redemption')
        redemption = Redemption.__table__()
        where = redemption.campaign == self.id
        if member:
            where &= redemption.member == member.id
        cursor = Transaction().connection.cursor()
        cursor.execute(*redemption.select(Count(), where=where))
        return cursor.fetchone()[0]

    def issue_to(self, members):
        """Give each member a code of the campaign, a generated one while
        some are left; return the codes"""
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        Redemption = pool.get('omni.coupon.redemption')
        # Two members must not be given the same generated code
        self.__class__.lock([self])
        with without_check_access():
            redeemed = [r.number.id for r in Redemption.search([
                        ('campaign', '=', self.id),
                        ])]
        free = Number.search([
                ('coupon.promotion', '=', self.id),
                ('omni_member', '=', None),
                ('id', 'not in', redeemed),
                ], limit=len(members), order=[('id', 'ASC')])
        free += [Number(number=new_code(), coupon=self.omni_coupon,
                company=self.company, start_date=self.start_date,
                end_date=self.end_date)
            for _ in range(len(members) - len(free))]
        now = dt.datetime.now()
        for number, member in zip(free, members):
            number.omni_member = member
            number.omni_issued = now
        Number.save(free)
        return free

    @classmethod
    @ModelView.button_action('omni_o2o.wizard_issue_codes')
    def issue_codes(cls, campaigns):
        pass

    @classmethod
    @ModelView.button_action('omni_o2o.wizard_generate_codes')
    def generate_codes(cls, campaigns):
        pass

    def create_codes(self, count):
        """Add count new random codes to the campaign, in batches with a
        progress line each; return them"""
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        transaction = Transaction()
        table = Number.__table__()
        cursor = transaction.connection.cursor()
        start = time.monotonic()
        codes = []
        while len(codes) < count:
            batch = {new_code()
                for _ in range(min(CODE_BATCH, count - len(codes)))}
            cursor.execute(*table.insert(
                    [table.number, table.coupon, table.company,
                        table.start_date, table.end_date,
                        table.create_uid, table.create_date],
                    [[c, self.omni_coupon.id, self.company.id,
                            self.start_date, self.end_date,
                            transaction.user, CurrentTimestamp()]
                        for c in sorted(batch)]))
            codes.extend(batch)
            logger.info("campaign %s: %d of %d codes in %.1f s",
                self.omni_code, len(codes), count, time.monotonic() - start)
        return codes


def new_code():
    return ''.join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class CampaignStore(ModelSQL):
    "Campaign Store"
    __name__ = 'sale.promotion-omni.channel'

    promotion = fields.Many2One(
        'sale.promotion', "Campaign", required=True, ondelete='CASCADE')
    store = fields.Many2One(
        'omni.channel', "Store", required=True, ondelete='CASCADE')


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
            return gettext('omni_o2o.msg_coupon_unknown', code=self.number)
        if ((self.start_date or today) > today
                or (self.end_date or today) < today):
            return gettext('omni_o2o.msg_coupon_expired', code=self.number,
                campaign=campaign.rec_name)
        if not campaign.in_scope(channel):
            return gettext('omni_o2o.msg_coupon_channel', code=self.number,
                channel=channel.rec_name if channel else '')
        if self.omni_member and member != self.omni_member:
            return gettext('omni_o2o.msg_coupon_other_member',
                code=self.number)
        if self.uses(exclude=sale):
            return gettext('omni_o2o.msg_coupon_used', code=self.number)
        if (campaign.omni_budget
                and campaign.redemptions() + pending >= campaign.omni_budget):
            return gettext('omni_o2o.msg_coupon_budget',
                campaign=campaign.rec_name)
        if (member and campaign.omni_per_member
                and campaign.redemptions(member) + pending
                >= campaign.omni_per_member):
            return gettext('omni_o2o.msg_coupon_member_limit',
                campaign=campaign.rec_name, limit=campaign.omni_per_member)
        if (amount is not None and campaign.amount
                and amount < campaign.amount):
            return gettext('omni_o2o.msg_coupon_threshold', code=self.number,
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


class Coupon(Model):
    "Coupon campaigns for the mall, mini-programs and tills"
    __name__ = 'omni.coupon'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'issue': RPC(readonly=False),
                'check': RPC(readonly=True),
                })

    @classmethod
    def issue(cls, campaign_code, member_phone):
        "Give the member of member_phone a new code of the campaign"
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        ModelAccess.check('sale.promotion.coupon.number', 'write')
        with without_check_access():
            campaign = cls.campaign(campaign_code)
            number, = campaign.issue_to([cls.member(member_phone)])
            return number.number

    @classmethod
    def check(cls, code, channel_code, member_phone=None, amount=None):
        """Tell if code may be redeemed on channel by the member of
        member_phone for amount: {"valid", "reason", "discount"}"""
        pool = Pool()
        Channel = pool.get('omni.channel')
        code = inputs.text(code, 'code', size=64)
        if amount is not None:
            amount = inputs.amount(amount, 'amount')
        with without_check_access():
            channels = Channel.search([
                    ('code', '=', inputs.text(channel_code, 'channel',
                            size=32)),
                    ], limit=1)
            if not channels:
                raise CouponError(gettext(
                        'omni_o2o.msg_coupon_unknown_channel',
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
                    'omni_o2o.msg_campaign_unknown', campaign=code))
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
            raise CouponError(gettext('omni_o2o.msg_coupon_unknown',
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
                    'omni_o2o.msg_coupon_no_member', phone=phone))
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
        'omni_o2o.coupon_generate_start_view_form', [
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
        'omni_o2o.coupon_issue_start_view_form', [
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
    @ModelView.button_action('omni_o2o.wizard_redeem_coupon')
    def redeem_coupon(cls, sales):
        pass

    @property
    def omni_store(self):
        pool = Pool()
        Channel = pool.get('omni.channel')
        return Channel.store_of_point(self.point)

    def redeem(self, number):
        """Take the discount of the campaign code off the lines rung up so
        far: the code is used once across channels however many race"""
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        Promotion = pool.get('sale.promotion')
        SaleCoupon = pool.get('sale.point.sale-sale.promotion.coupon.number')
        if self.state != 'open':
            raise CouponError(gettext(
                    'omni_o2o.msg_coupon_till_sale_open', sale=self.rec_name))
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


class Redemption(ModelSQL, ModelView):
    """Coupon Redemption

    Every sale, online or at a till, that redeemed a campaign code and was
    not cancelled"""
    __name__ = 'omni.coupon.redemption'

    number = fields.Many2One('sale.promotion.coupon.number', "Code")
    campaign = fields.Many2One('sale.promotion', "Campaign")
    order = fields.Reference("Order", selection=[
            ('sale.sale', "Sale"),
            ('sale.point.sale', "POS Sale"),
            ])
    channel = fields.Many2One('omni.channel', "Channel")
    member = fields.Many2One('party.party', "Customer")
    date = fields.Date("Date")
    discount = fields.Numeric("Discount Given", digits=(16, 2))
    revenue = fields.Numeric("Revenue", digits=(16, 2),
        help="The untaxed amount of the order.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def table_query(cls):
        return Union(cls._online_query(), cls._till_query(), all_=True)

    @classmethod
    def _columns(cls, id_, number, campaign, order, channel, member, date,
            discount, revenue):
        return [id_.as_('id'),
            number.as_('number'), campaign.as_('campaign'),
            order.as_('order'), channel.as_('channel'),
            member.as_('member'), date.as_('date'),
            # Quantities are floats: keep the amounts decimal
            Cast(discount, cls.discount.sql_type().base).as_('discount'),
            Cast(revenue, cls.revenue.sql_type().base).as_('revenue')]

    @classmethod
    def _online_query(cls):
        pool = Pool()
        Coupon = pool.get('sale.promotion.coupon')
        Line = pool.get('sale.line')
        Number = pool.get('sale.promotion.coupon.number')
        Sale = pool.get('sale.sale')
        SaleNumber = pool.get('sale.sale-sale.promotion.coupon.number')
        coupon = Coupon.__table__()
        line = Line.__table__()
        number = Number.__table__()
        sale = Sale.__table__()
        sale_number = SaleNumber.__table__()
        discounts = line.select(line.sale, line.promotion,
            Sum(Coalesce(
                    (line.original_unit_price - line.unit_price)
                    * line.quantity, 0)).as_('amount'),
            where=line.promotion != Null,
            group_by=[line.sale, line.promotion])
        totals = line.select(line.sale,
            Sum(line.quantity * line.unit_price).as_('total'),
            where=line.type == 'line',
            group_by=[line.sale])
        return (sale_number
            .join(number, condition=number.id == sale_number.number)
            .join(coupon, condition=coupon.id == number.coupon)
            .join(sale, condition=sale.id == sale_number.sale)
            .join(discounts, 'LEFT',
                condition=(discounts.sale == sale.id)
                & (discounts.promotion == coupon.promotion))
            .join(totals, 'LEFT', condition=totals.sale == sale.id)
            .select(*cls._columns(
                    sale_number.id * 2, number.id, coupon.promotion,
                    Concat('sale.sale,',
                        sale.id.cast(cls.order.sql_type().base)),
                    sale.omni_channel, sale.party, sale.sale_date,
                    Coalesce(discounts.amount, 0),
                    Coalesce(totals.total, 0)),
                where=~sale.state.in_(list(USED_STATES))))

    @classmethod
    def _till_query(cls):
        pool = Pool()
        Coupon = pool.get('sale.promotion.coupon')
        Number = pool.get('sale.promotion.coupon.number')
        SaleCoupon = pool.get('sale.point.sale-sale.promotion.coupon.number')
        coupon = Coupon.__table__()
        number = Number.__table__()
        sale_coupon = SaleCoupon.__table__()
        query, pos, store, total = till_sales('unit_list_price')
        return (query
            .join(sale_coupon, condition=sale_coupon.sale == pos.id)
            .join(number, condition=number.id == sale_coupon.number)
            .join(coupon, condition=coupon.id == number.coupon)
            .select(*cls._columns(
                    sale_coupon.id * 2 + 1, number.id, coupon.promotion,
                    Concat('sale.point.sale,',
                        pos.id.cast(cls.order.sql_type().base)),
                    store.id, pos.member, pos.date, sale_coupon.discount,
                    total),
                where=pos.state != 'cancelled'))


class Result(ModelSQL, ModelView):
    """Campaign Result

    What each campaign brought, by channel"""
    __name__ = 'omni.coupon.result'

    campaign = fields.Many2One('sale.promotion', "Campaign")
    channel = fields.Many2One('omni.channel', "Channel")
    redeemed = fields.Integer("Redeemed")
    discount = fields.Numeric("Discount Given", digits=(16, 2))
    revenue = fields.Numeric("Revenue", digits=(16, 2),
        help="The untaxed amount of the orders that redeemed codes.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('campaign', 'ASC'), ('redeemed', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Redemption = pool.get('omni.coupon.redemption')
        redemption = Redemption.__table__()
        return redemption.select(
            Min(redemption.id).as_('id'),
            redemption.campaign.as_('campaign'),
            redemption.channel.as_('channel'),
            Count().as_('redeemed'),
            Sum(redemption.discount).as_('discount'),
            Sum(redemption.revenue).as_('revenue'),
            group_by=[redemption.campaign, redemption.channel])


class RedeemStart(ModelView):
    "Redeem a Coupon"
    __name__ = 'omni.coupon.redeem.start'

    code = fields.Char("Coupon Code", required=True, strip=True)


class Redeem(Wizard):
    "Redeem a Coupon"
    __name__ = 'omni.coupon.redeem'
    start = StateView('omni.coupon.redeem.start',
        'omni_o2o.coupon_redeem_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Redeem", 'redeem', 'tryton-ok', default=True),
            ])
    redeem = StateTransition()

    def transition_redeem(self):
        pool = Pool()
        Coupon = pool.get('omni.coupon')
        with without_check_access():
            number = Coupon.number(self.start.code)
        self.record.redeem(number)
        return 'end'
