# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import math
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from omni_retail.tools import lock_first, record_turns, resume_turns

from .exceptions import MemberRequiredError, MemberConfigurationError
from .party import phone_key


class POSSale(metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    member = fields.Many2One(
        'party.party', "Member", ondelete='RESTRICT',
        domain=[('member_number', '!=', None)],
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        states={
            'readonly': Eval('state') != 'open',
            },
        help="The member who earns the points and gets the level's prices.")
    member_lookup = fields.Function(fields.Char(
            "Member Phone",
            states={
                'invisible': Eval('state') != 'open',
                },
            help="Type the member's mobile, in any format, to find them."),
        'get_member_lookup', setter='set_member_lookup')
    points_earned = fields.Function(
        fields.Integer("Points Earned"), 'get_points_earned')

    def get_member_lookup(self, name):
        return None

    @classmethod
    def set_member_lookup(cls, sales, name, value):
        pass

    @fields.depends('member_lookup', 'member',
        methods=['on_change_member'])
    def on_change_member_lookup(self):
        pool = Pool()
        Member = pool.get('omni.member')
        if self.member_lookup:
            self.member = Member.find(phone_key(self.member_lookup))
            self.member_lookup = None
            self.on_change_member()

    @fields.depends('lines', 'member')
    def on_change_member(self):
        for line in self.lines or []:
            line.on_change_product()

    def get_points_earned(self, name):
        pool = Pool()
        Points = pool.get('omni.member.points')
        return sum(l.points for l in Points.for_origins([self], ['earn']))

    @classmethod
    @Workflow.transition('done')
    def do(cls, sales):
        pool = Pool()
        Party = pool.get('party.party')
        Points = pool.get('omni.member.points')
        StoredValue = pool.get('omni.member.stored_value')
        for sale in sales:
            if sale.top_up_amount and not sale.member:
                raise MemberRequiredError(gettext(
                        'omni_members.msg_top_up_member_required',
                        sale=sale.rec_name))
        super().do(sales)
        sales = [s for s in sales
            if s.member and not Points.for_origins([s], ['earn', 'reverse'])]
        Party.update_member_levels({s.member for s in sales})
        Points.add(list(filter(None, (s.points_to_earn() for s in sales))))
        StoredValue.add([l for s in sales for l in s.stored_value_top_ups()])

    def points_to_earn(self):
        pool = Pool()
        Points = pool.get('omni.member.points')
        paid_with_points = sum(p.amount for p in self.payments
            if p.method.omni_ledger == 'points')
        return Points.earned(self.member,
            self.total - paid_with_points - self.top_up_amount,
            origin=self, date=self.date)

    @property
    def top_up_amount(self):
        return sum((l.amount for l in self.lines if l.is_top_up),
            Decimal(0))

    def stored_value_top_ups(self):
        "Return the unsaved lines of the stored value bought by the sale"
        pool = Pool()
        StoredValue = pool.get('omni.member.stored_value')
        Bonus = pool.get('omni.member.top_up.bonus')
        lines = []
        for line in self.lines:
            if line.is_top_up:
                lines.append(StoredValue(member=self.member, kind='top_up',
                        amount=line.amount, origin=self, date=self.date))
                bonus = self.company.currency.round(
                    Bonus.for_amount(line.amount))
                if bonus:
                    lines.append(StoredValue(member=self.member, kind='bonus',
                            amount=bonus, origin=self, date=self.date))
        return lines

    def get_account_move(self):
        move = super().get_account_move()
        move.lines += tuple(self.get_bonus_move_lines())
        return move

    def get_bonus_move_lines(self):
        "Charge the top-up bonuses to expense, credited to the liability"
        pool = Pool()
        Configuration = pool.get('omni.member.configuration')
        Line = pool.get('account.move.line')
        StoredValue = pool.get('omni.member.stored_value')
        bonus = sum(l.amount for l in StoredValue.search([
                    ('origin', '=', str(self)),
                    ('kind', '=', 'bonus'),
                    ]))
        if not bonus:
            return []
        config = Configuration(1)
        if not config.top_up_bonus_account or not config.stored_value_account:
            raise MemberConfigurationError(gettext(
                    'omni_members.msg_top_up_bonus_account_missing'))
        return [
            Line(account=config.top_up_bonus_account, debit=bonus,
                credit=Decimal(0)),
            Line(account=config.stored_value_account, debit=Decimal(0),
                credit=bonus),
            ]


class POSSaleLine(metaclass=PoolMeta):
    __name__ = 'sale.point.sale.line'

    @property
    def is_top_up(self):
        pool = Pool()
        Configuration = pool.get('omni.member.configuration')
        return self.product == Configuration(1).top_up_product

    @fields.depends('sale', '_parent_sale.member')
    def on_change_product(self):
        super().on_change_product()
        member = self.sale.member if self.sale else None
        if member and self.product and not self.is_top_up:
            self.unit_gross_price = member.member_discount(
                self.unit_gross_price)
            self.unit_list_price = member.member_discount(
                self.unit_list_price)
            self.unit_price = self.on_change_with_unit_price()
            self.amount = self.on_change_with_amount()


class POSPayment(metaclass=PoolMeta):
    __name__ = 'sale.point.payment'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Refunds may go back to the ledgers or the way the customer paid,
        # not only to the drawer
        cls.method.domain = [
            ('company', '=', Eval('company', -1)),
            If(Eval('amount', 0) < 0,
                ['OR',
                    ('cash', '=', True),
                    ('omni_ledger', '!=', None),
                    ('omni_refund', '=', True),
                    ('omni_online', '=', True),
                    ],
                []),
            ]

    @classmethod
    def create(cls, vlist):
        payments = super().create(vlist)
        cls.charge_ledgers(payments, sign=-1)
        return payments

    @classmethod
    def check_modification(cls, mode, payments, values=None, external=False):
        super().check_modification(
            mode, payments, values=values, external=external)
        if (mode == 'write' and values.keys() & {'method', 'amount', 'sale'}
                and any(p.method.omni_ledger for p in payments)):
            raise AccessError(gettext(
                    'omni_members.msg_ledger_payment_modify'))

    @classmethod
    def delete(cls, payments):
        # Removing a payment of an open sale gives the member it back
        cls.charge_ledgers(payments, sign=1)
        super().delete(payments)

    @classmethod
    def charge_ledgers(cls, payments, sign):
        """Take the payments in stored value or points from the members'
        balances (sign -1) or give them back (sign 1)"""
        pool = Pool()
        Points = pool.get('omni.member.points')
        StoredValue = pool.get('omni.member.stored_value')
        points, stored_value = [], []
        for payment in payments:
            ledger = payment.method.omni_ledger
            if not ledger:
                continue
            sale = payment.sale
            if not sale.member:
                raise MemberRequiredError(gettext(
                        'omni_members.msg_ledger_payment_member_required',
                        sale=sale.rec_name, method=payment.method.rec_name))
            amount = sign * payment.amount
            if ledger == 'points':
                points.append(Points(member=sale.member, origin=sale,
                        kind='redeem' if amount < 0 else 'refund',
                        points=int(math.copysign(
                                payment.points_needed, amount))))
            else:
                stored_value.append(StoredValue(member=sale.member,
                        origin=sale, kind='pay' if amount < 0 else 'refund',
                        amount=amount))
        Points.add(points)
        StoredValue.add(stored_value)

    @property
    def points_needed(self):
        "The points worth the amount of the payment"
        pool = Pool()
        Configuration = pool.get('omni.member.configuration')
        return math.ceil(abs(self.amount) / Configuration(1).point_value)


class POSPaymentMethod(metaclass=PoolMeta):
    __name__ = 'sale.point.payment.method'

    omni_ledger = fields.Selection([
            (None, ""),
            ('stored_value', "Stored Value"),
            ('points', "Points"),
            ], "Member Ledger",
        help="Payments by this method are taken from the member's "
        "stored value or points.")
    omni_refund = fields.Boolean(
        "Refunds",
        help="Money given back by this method goes back to where the "
        "customer paid from (bank card, WeChat Pay, Alipay…).")
    omni_online = fields.Boolean(
        "Online Payments",
        help="Refunds of online and platform orders returned at a till go "
        "back to the customer's online payment through this method.")


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    member_points = fields.Integer(
        "Points Paid",
        domain=[If(Eval('member_points'),
                ('member_points', '>', 0), ())],
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The points the member pays with, taken when the sale is "
        "confirmed.")
    member_stored_value = Monetary(
        "Stored Value Paid", currency='currency', digits='currency',
        domain=[If(Eval('member_stored_value'),
                ('member_stored_value', '>', 0), ())],
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The stored value the member pays with, taken when the sale "
        "is confirmed.")

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, sales):
        pool = Pool()
        Line = pool.get('sale.line')
        super().draft(sales)
        Line.delete([l for s in sales for l in s.lines if l.omni_ledger])

    @classmethod
    @ModelView.button
    @Workflow.transition('quotation')
    def quote(cls, sales):
        paying = [s for s in sales if s.member_points or s.member_stored_value
            or any(l.omni_ledger for l in s.lines)]
        for sale in paying:
            sale.add_member_payment_lines()
        cls.save(paying)
        super().quote(sales)

    def add_member_payment_lines(self):
        "Take what the member pays in points and stored value off the sale"
        pool = Pool()
        Configuration = pool.get('omni.member.configuration')
        Line = pool.get('sale.line')
        config = Configuration(1)
        lines = [l for l in self.lines if not l.omni_ledger]
        for ledger, product, amount in [
                ('points', config.points_product, self.member_points_amount),
                ('stored_value', config.top_up_product,
                    self.member_stored_value)]:
            if not amount:
                continue
            if not self.party.member_number:
                raise MemberRequiredError(gettext(
                        'omni_members.msg_sale_member_required',
                        sale=self.rec_name))
            if not product:
                raise MemberConfigurationError(gettext(
                        'omni_members.msg_member_payment_product_missing'))
            line = Line(sale=self, type='line', product=product,
                quantity=1, unit=product.sale_uom, omni_ledger=ledger)
            line.on_change_product()
            line.unit_price = -amount
            lines.append(line)
        self.lines = lines

    @property
    def member_points_amount(self):
        pool = Pool()
        Configuration = pool.get('omni.member.configuration')
        if self.member_points:
            return self.currency.round(
                self.member_points * Configuration(1).point_value)

    @classmethod
    @ModelView.button
    @Workflow.transition('confirmed')
    def confirm(cls, sales):
        "The member pays in points and stored value when the sale is sure"
        pool = Pool()
        Points = pool.get('omni.member.points')
        StoredValue = pool.get('omni.member.stored_value')
        Points.add([Points(member=s.party, kind='redeem', origin=s,
                    points=-s.member_points)
                for s in sales if s.member_points])
        StoredValue.add([StoredValue(member=s.party, kind='pay', origin=s,
                    amount=-s.member_stored_value)
                for s in sales if s.member_stored_value])
        super().confirm(sales)

    @classmethod
    @ModelView.button
    def process(cls, sales):
        "Members earn the points of online sales once they are processed"
        pool = Pool()
        Party = pool.get('party.party')
        Points = pool.get('omni.member.points')
        # The sales' rows Tryton locks, and the members' turns, which their
        # ledgers' writers (tills, other orders) wait in line for: one
        # restart, before the work
        resume_turns()
        lock_first((cls, sales), turns=record_turns(Party,
                {s.party for s in sales if s.party.member_number}))
        super().process(sales)
        sales = [s for s in sales if s.earns_points()
            and not Points.for_origins([s], ['earn', 'reverse'])]
        Party.update_member_levels({s.party for s in sales})
        Points.add(list(filter(None, (
                        Points.earned(s.party,
                            s.total_amount + (s.member_stored_value or 0),
                            origin=s, date=s.sale_date)
                        for s in sales))))


    def earns_points(self):
        "Whether the member earns the sale's points once it is processed"
        return (self.state in {'processing', 'done'}
            and bool(self.party.member_number))


class SaleLine(metaclass=PoolMeta):
    __name__ = 'sale.line'

    omni_ledger = fields.Selection([
            (None, ""),
            ('stored_value', "Stored Value"),
            ('points', "Points"),
            ], "Member Ledger", readonly=True,
        help="The line takes off the sale what the member paid from this "
        "ledger.")


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    @property
    def account_revenue_used(self):
        # Top-ups are not revenue: the chain owes the stored value
        pool = Pool()
        Configuration = pool.get('omni.member.configuration')
        config = Configuration(1)
        if self == config.top_up_product and config.stored_value_account:
            return config.stored_value_account
        return super().account_revenue_used

    @classmethod
    def get_sale_price(cls, products, quantity=0):
        "Members pay their level's price online as at the till"
        pool = Pool()
        Party = pool.get('party.party')
        prices = super().get_sale_price(products, quantity=quantity)
        customer = Transaction().context.get('customer')
        if customer:
            customer = Party(customer)
            prices = {p: customer.member_discount(price)
                for p, price in prices.items()}
        return prices
