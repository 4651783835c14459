# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import logging
import secrets
import time
from decimal import Decimal

from sql import Null
from sql.aggregate import Count, Sum
from sql.functions import CurrentTimestamp

from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.modules.product import round_price
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

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
                'omni_coupon.msg_campaign_code_unique'),
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
    @ModelView.button_action('omni_coupon.wizard_issue_codes')
    def issue_codes(cls, campaigns):
        pass

    @classmethod
    @ModelView.button_action('omni_coupon.wizard_generate_codes')
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
