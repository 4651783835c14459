# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sql.aggregate import Sum
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.transaction import Transaction

from omni_retail.tools import lock_and_touch

from .exceptions import AdjustReasonError, InsufficientBalanceError


class LedgerMixin:
    """Append-only lines whose sum per member is the member's balance.
    Lines are added through `add`, which locks the members first so that
    no balance goes below zero whatever runs in parallel"""
    __slots__ = ()
    _value_field = None

    member = fields.Many2One(
        'party.party', "Member", required=True, readonly=True,
        ondelete='RESTRICT', domain=[('member_number', '!=', None)])
    date = fields.Date("Date", required=True, readonly=True)
    origin = fields.Reference(
        "Origin", selection='get_origins', readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True)
    reason = fields.Char("Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.member, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_user(cls):
        return Transaction().user

    @classmethod
    def _get_origins(cls):
        return ['sale.sale', 'sale.point.sale', 'omni.member.merge']

    @classmethod
    def get_origins(cls):
        pool = Pool()
        IrModel = pool.get('ir.model')
        return [(None, '')] + [
            (m, IrModel.get_name(m)) for m in cls._get_origins()]

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise AccessError(gettext('omni_members.msg_ledger_append_only'))

    @classmethod
    def balances(cls, members):
        "Return {member id: balance}"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        value = getattr(table, cls._value_field)
        balances = {int(m): cls._cast(None) for m in members}
        cursor.execute(*table.select(table.member, Sum(value),
                where=fields.SQL_OPERATORS['in'](table.member, list(balances)),
                group_by=[table.member]))
        for member, balance in cursor:
            balances[member] = cls._cast(balance)
        return balances

    @classmethod
    def add(cls, lines):
        """Save lines, with the rows of their members locked first; refuse
        them all if one would bring a balance below zero"""
        pool = Pool()
        Party = pool.get('party.party')
        members = sorted({l.member for l in lines}, key=int)
        lock_and_touch(Party, members)
        balances = cls.balances(members)
        for line in lines:
            balances[line.member.id] += getattr(line, cls._value_field)
        for member in members:
            if balances[member.id] < 0:
                raise InsufficientBalanceError(gettext(
                        cls._insufficient_message,
                        member=member.rec_name,
                        balance=balances[member.id] - sum(
                            getattr(l, cls._value_field) for l in lines
                            if l.member == member)))
        cls.save(lines)
        return lines

    @classmethod
    def adjust(cls, member, reason, **values):
        """Add a manual correction to the balance of member, for the reason;
        only users who may create ledger lines can"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        ModelAccess.check(cls.__name__, 'create')
        if not reason:
            raise AdjustReasonError(gettext(
                    'omni_members.msg_adjust_reason_required'))
        lines = cls.add([cls(member=member, kind='adjust', reason=reason,
                    **values)])
        pool.get('omni.audit.log').log_many([('member_adjust', l.member, {
                        'ledger': cls.__name__,
                        cls._value_field: getattr(l, cls._value_field),
                        'reason': reason,
                        }) for l in lines])
        return lines

    @classmethod
    def _cast(cls, value):
        return value or 0


class PointsLine(LedgerMixin, ModelSQL, ModelView):
    "Member Points Line"
    __name__ = 'omni.member.points'
    _value_field = 'points'
    _insufficient_message = 'omni_members.msg_points_insufficient'

    kind = fields.Selection([
            ('earn', "Earned"),
            ('redeem', "Redeemed"),
            ('refund', "Given Back"),
            ('reverse', "Reversed"),
            ('expire', "Expired"),
            ('adjust', "Adjusted"),
            ], "Kind", required=True, readonly=True)
    points = fields.Integer("Points", required=True, readonly=True)
    expires = fields.Date(
        "Expires", readonly=True,
        help="The day the points earned by this line expire, "
        "unless spent before.")

    @classmethod
    def _cast(cls, value):
        return int(value or 0)

    @classmethod
    def earned(cls, member, amount, origin, date=None):
        """Return the unsaved line of the points member earns for spending
        amount or, for a refund, loses (at most the balance); or None"""
        pool = Pool()
        Configuration = pool.get('omni.member.configuration')
        Date = pool.get('ir.date')
        config = Configuration(1)
        date = date or Date.today()
        multiplier = (member.member_level.points_multiplier
            if member.member_level else 1)
        points = int(amount * config.points_per_amount * multiplier)
        if points > 0:
            return cls(member=member, kind='earn', points=points,
                origin=origin, date=date,
                expires=date + relativedelta(months=config.points_validity))
        elif points < 0:
            # Points already spent cannot be taken back
            points = max(points, -cls.balances([member])[member.id])
            if points:
                return cls(member=member, kind='reverse', points=points,
                    origin=origin, date=date)

    @classmethod
    def for_origins(cls, origins, kinds=None):
        "Return the lines of the origins, of the kinds if given"
        domain = [('origin', 'in', [str(o) for o in origins])]
        if kinds:
            domain.append(('kind', 'in', kinds))
        return cls.search(domain)

    @classmethod
    def expire(cls, date=None):
        """Expire the points earned until date that were not spent since,
        oldest first"""
        pool = Pool()
        Date = pool.get('ir.date')
        Party = pool.get('party.party')
        date = date or Date.today()
        lines = [cls(member=Party(member), kind='expire', points=-points,
                date=date)
            for member, points in cls._expired(date).items()]
        if lines:
            cls.add(lines)

    @classmethod
    def _expired(cls, date):
        """Return {member id: points} earned with an expiry until date and
        not covered by what was spent or expired already"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        due = Sum(Case(
                ((table.points > 0) & (table.expires <= date), table.points),
                else_=0))
        spent = Sum(Case((table.points < 0, -table.points), else_=0))
        cursor.execute(*table.select(table.member, due - spent,
                group_by=[table.member],
                having=(due - spent) > 0))
        return dict(cursor)


class StoredValueLine(LedgerMixin, ModelSQL, ModelView):
    "Member Stored Value Line"
    __name__ = 'omni.member.stored_value'
    _value_field = 'amount'
    _insufficient_message = 'omni_members.msg_stored_value_insufficient'

    kind = fields.Selection([
            ('top_up', "Top-Up"),
            ('bonus', "Bonus"),
            ('pay', "Payment"),
            ('refund', "Refund"),
            ('adjust', "Adjusted"),
            ], "Kind", required=True, readonly=True)
    amount = fields.Numeric(
        "Amount", digits=(16, 2), required=True, readonly=True)

    @classmethod
    def _cast(cls, value):
        return Decimal(str(value or 0)).quantize(Decimal('0.01'))


class TopUpBonus(ModelSQL, ModelView):
    "Stored Value Top-Up Bonus"
    __name__ = 'omni.member.top_up.bonus'

    minimum = fields.Numeric(
        "Minimum Top-Up", digits=(16, 2), required=True,
        domain=[('minimum', '>', 0)])
    bonus = fields.Numeric(
        "Bonus", digits=(16, 2), required=True,
        domain=[('bonus', '>=', 0)],
        help="Added to the stored value of a top-up of at least the minimum.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('minimum', 'ASC'))

    @classmethod
    def for_amount(cls, amount):
        "Return the bonus of a top-up of amount"
        rules = cls.search([('minimum', '<=', amount)],
            order=[('minimum', 'DESC')], limit=1)
        return rules[0].bonus if rules else Decimal(0)

