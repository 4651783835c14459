# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Returns of any order, online or from any till, at any store.

A return is a sale of the store's till with negative lines (Tryton's own
way to take goods back at a point of sale): the goods re-enter the store's
stock when it is done, the member loses the points the money had earned and
the refunds are its negative payments."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.modules.product import round_price
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction, check_access
from trytond.wizard import (
    Button, StateAction, StateTransition, StateView, Wizard)

from omni_retail.tools import lock_and_touch

from .exceptions import ReturnError

REFUND_TO = {'original', 'stored_value'}
REFUND_TO_SELECTION = [
    ('original', "Original Payment"),
    ('stored_value', "Stored Value"),
    ]
REFUND_METHODS = {
    'cash': ('cash', '=', True),
    'points': ('omni_ledger', '=', 'points'),
    'stored_value': ('omni_ledger', '=', 'stored_value'),
    'online': ('omni_online', '=', True),
    }



class Order(metaclass=PoolMeta):
    __name__ = 'omni.order'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__['return_goods'] = RPC(readonly=False, check_access=False)

    @classmethod
    def return_goods(cls, number, store_code, lines, refund_to='original'):
        """Take back at the store the goods of lines
        ([{"product": code, "quantity": n, "reason": code}]) of the order
        number, from any channel; refund to the original payment methods or
        to the member's stored value; return the return and its refunds"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        TillSale = pool.get('sale.point.sale')
        with check_access():
            ModelAccess.check('sale.point.sale', 'create')
        if refund_to not in REFUND_TO:
            raise ReturnError(gettext('omni_return.msg_return_refund_to',
                    value=refund_to))
        store = cls.channel(store_code, ['store'])
        cls.check_return_store(store)
        original = cls.returnable(number)
        lock_and_touch(original.__class__, [original])
        wanted = cls.return_lines(original, lines)
        sale = cls.new_return(original, store, wanted)
        sale.save()
        cls.refund(sale, original, refund_to)
        TillSale.process([sale])
        coupons = (original.omni_release_coupons()
            if cls.returned_whole(original) else [])
        return cls.describe_return(TillSale(sale.id), coupons)

    @classmethod
    def check_return_store(cls, store):
        pool = Pool()
        User = pool.get('res.user')
        user = User(Transaction().user)
        if not store.sale_point:
            raise ReturnError(gettext('omni_return.msg_return_store_till',
                    store=store.rec_name))
        if user.omni_store and user.omni_store != store:
            raise ReturnError(gettext('omni_return.msg_return_other_store',
                    store=store.rec_name))

    @classmethod
    def returnable(cls, number):
        "Return the completed order number, if still in its return window"
        pool = Pool()
        Date = pool.get('ir.date')
        original = cls.find_order(number)
        if not original:
            raise ReturnError(gettext('omni_return.msg_return_order_unknown',
                    number=number))
        if not original.omni_completed:
            raise ReturnError(gettext('omni_return.msg_return_not_completed',
                    order=original.rec_name))
        days = original.omni_channel.return_days
        if original.omni_date + dt.timedelta(days=days) < Date.today():
            raise ReturnError(gettext('omni_return.msg_return_window',
                    order=original.rec_name, days=days))
        return original

    @classmethod
    def find_order(cls, number):
        "Return the online or till sale of number, or None"
        pool = Pool()
        Sale = pool.get('sale.sale')
        TillSale = pool.get('sale.point.sale')
        orders = Sale.search([
                ('number', '=', str(number)),
                ('origin', '=', None),
                ]) + TillSale.search([
                ('number', '=', str(number)),
                ('omni_return_of', '=', None),
                ])
        if len(orders) > 1:
            raise ReturnError(gettext('omni_return.msg_return_order_ambiguous',
                    number=number))
        return orders[0] if orders else None

    @classmethod
    def returned(cls, original):
        """Return {product: [quantity, amount]} of the goods already taken
        back"""
        pool = Pool()
        TillSale = pool.get('sale.point.sale')
        returned = defaultdict(lambda: [0, Decimal(0)])
        for sale in TillSale.search([
                    ('omni_return_of', '=', str(original)),
                    ('state', '!=', 'cancelled'),
                    ]):
            for product, (quantity, amount) in sale.omni_sold().items():
                returned[product][0] -= quantity
                returned[product][1] -= amount
        return returned

    @classmethod
    def returned_whole(cls, original):
        returned = cls.returned(original)
        return all(returned[p][0] >= q
            for p, (q, _) in original.omni_sold().items())

    @classmethod
    def return_lines(cls, original, lines):
        """Return [(product, quantity, amount, reason)] of the payload lines
        checked against what the order sold and what came back already"""
        pool = Pool()
        Reason = pool.get('omni.return.reason')
        if not lines:
            raise ReturnError(gettext('omni_return.msg_return_no_lines'))
        sold = original.omni_sold()
        by_code = {p.code: p for p in sold}
        returned = cls.returned(original)
        wanted = []
        for line in lines:
            product = by_code.get(line.get('product'))
            if not product:
                raise ReturnError(gettext('omni_return.msg_return_not_sold',
                        order=original.rec_name, product=line.get('product')))
            quantity = line.get('quantity')
            if not isinstance(quantity, (int, float)) or quantity <= 0:
                raise ReturnError(gettext('omni_return.msg_return_quantity',
                        product=product.rec_name, quantity=quantity))
            reasons = Reason.search([('code', '=', line.get('reason'))])
            if not reasons:
                raise ReturnError(gettext('omni_return.msg_return_reason',
                        reason=line.get('reason')))
            sold_quantity, sold_amount = sold[product]
            returned_quantity, returned_amount = returned[product]
            left = sold_quantity - returned_quantity
            if quantity > left:
                raise ReturnError(gettext('omni_return.msg_return_too_much',
                        product=product.rec_name, order=original.rec_name,
                        quantity=quantity, left=left))
            if quantity == left:
                # The last units give back exactly what is left of the amount
                amount = sold_amount - returned_amount
            else:
                amount = original.currency.round(sold_amount
                    * Decimal(str(quantity)) / Decimal(str(sold_quantity)))
            returned[product][0] += quantity
            returned[product][1] += amount
            wanted.append((product, quantity, amount, reasons[0]))
        return wanted

    @classmethod
    def new_return(cls, original, store, wanted):
        "Return the unsaved till sale taking back the wanted goods"
        pool = Pool()
        Line = pool.get('sale.point.sale.line')
        Tax = pool.get('account.tax')
        Date = pool.get('ir.date')
        TillSale = pool.get('sale.point.sale')
        sale = TillSale(point=store.sale_point, company=store.company,
            date=Date.today(), member=original.omni_member,
            omni_return_of=original)
        sale.lines = []
        for product, quantity, amount, reason in wanted:
            line = Line(sale=sale, product=product, quantity=-quantity,
                omni_return_reason=reason)
            line.on_change_product()
            line.unit_gross_price = round_price(
                amount / Decimal(str(quantity)))
            line.unit_list_price = round_price(Tax.reverse_compute(
                    line.unit_gross_price, line.taxes, date=sale.date))
            line.unit_price = line.on_change_with_unit_price()
            line.amount = line.on_change_with_amount()
            sale.lines += (line,)
        return sale

    @classmethod
    def refund(cls, sale, original, refund_to):
        """Pay the return back by the methods the order was paid with, in
        proportion, money to stored value if the customer prefers"""
        pool = Pool()
        Payment = pool.get('sale.point.payment')
        TillSale = pool.get('sale.point.sale')
        sale = TillSale(sale.id)
        due = -sale.total
        paid = original.omni_paid()
        paid_total = sum(paid.values())
        refunds = defaultdict(Decimal)
        for method, amount in paid.items():
            if refund_to == 'stored_value' and not method.omni_ledger:
                if not sale.member:
                    raise ReturnError(gettext(
                            'omni_return.msg_return_stored_value_member',
                            order=original.rec_name))
                method = cls.refund_method(sale.company, 'stored_value')
            elif method.cash or method.omni_ledger or method.omni_online:
                pass
            elif not method.omni_refund:
                method = cls.refund_method(sale.company, 'cash')
            refunds[method] += sale.currency.round(
                due * amount / paid_total) if paid_total else 0
        if not refunds:
            refunds[cls.refund_method(sale.company, 'cash')] = due
        largest = max(refunds, key=lambda m: abs(refunds[m]))
        refunds[largest] += due - sum(refunds.values())
        Payment.save([Payment(sale=sale, method=m, amount=-a)
                for m, a in refunds.items() if a])

    @classmethod
    def refund_method(cls, company, kind):
        """Return the till payment method of company that refunds in cash,
        points, stored_value or online"""
        pool = Pool()
        Method = pool.get('sale.point.payment.method')
        methods = Method.search([
                ('company', '=', company.id),
                REFUND_METHODS[kind],
                ], limit=1)
        if not methods:
            raise ReturnError(gettext(
                    f'omni_return.msg_return_method_{kind}_missing'))
        return methods[0]

    @classmethod
    def describe_return(cls, sale, coupons):
        pool = Pool()
        Points = pool.get('omni.member.points')
        points = sum(l.points for l in Points.for_origins([sale]))
        return {
            'number': sale.number,
            'order': sale.omni_return_of.number,
            'store': sale.omni_store.code,
            'total': str(sale.total),
            'lines': [{
                    'product': l.product.code,
                    'quantity': l.quantity,
                    'amount': str(l.amount),
                    'reason': l.omni_return_reason.code,
                    } for l in sale.lines],
            'refunds': [{
                    'method': p.method.name,
                    'amount': str(p.amount),
                    } for p in sale.payments],
            'points': points,
            'coupons': coupons,
            }


class ReturnStart(ModelView):
    "Return Goods"
    __name__ = 'omni.order.return.start'

    number = fields.Char("Order Number", required=True, strip=True,
        help="Scan the receipt's barcode or type the order's number; "
        "the Order Center finds a member's orders by phone.")
    store = fields.Many2One(
        'omni.channel', "Store", required=True,
        domain=[('kind', '=', 'store')],
        help="The store taking the goods back.")

    @classmethod
    def default_store(cls):
        pool = Pool()
        HandOverStart = pool.get('omni.order.hand_over.start')
        return HandOverStart.default_store()


class ReturnLines(ModelView):
    "Return Goods"
    __name__ = 'omni.order.return.lines'

    order = fields.Char("Order", readonly=True)
    member = fields.Many2One('party.party', "Member", readonly=True)
    lines = fields.One2Many(
        'omni.order.return.line', None, "Goods",
        help="Set the quantity and reason of the goods brought back.")
    refund_to = fields.Selection(REFUND_TO_SELECTION, "Refund To",
        required=True)

    @classmethod
    def default_refund_to(cls):
        return 'original'


class ReturnLine(ModelView):
    "Return Goods Line"
    __name__ = 'omni.order.return.line'

    product = fields.Many2One('product.product', "Product", readonly=True)
    returnable = fields.Float("Returnable", readonly=True,
        help="Sold and not returned yet.")
    quantity = fields.Float("Quantity",
        domain=[
            ('quantity', '>=', 0),
            ('quantity', '<=', Eval('returnable', 0)),
            ])
    reason = fields.Many2One('omni.return.reason', "Reason",
        states={
            'required': Eval('quantity', 0) > 0,
            })


class Return(Wizard):
    "Return Goods"
    __name__ = 'omni.order.return'
    start = StateView('omni.order.return.start',
        'omni_return.return_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Find", 'find', 'tryton-forward', default=True),
            ])
    find = StateTransition()
    goods = StateView('omni.order.return.lines',
        'omni_return.return_lines_view_form', [
            Button("Back", 'start', 'tryton-back'),
            Button("Return", 'return_', 'tryton-ok', default=True),
            ])
    return_ = StateAction('sale_point.act_sale_form')

    def default_start(self, fields):
        defaults = {}
        if self.model and self.record and self.model.__name__ in {
                'sale.sale', 'sale.point.sale'}:
            defaults['number'] = self.record.number
        return defaults

    def transition_find(self):
        pool = Pool()
        Order = pool.get('omni.order')
        Order.returnable(self.start.number)
        return 'goods'

    def default_goods(self, fields):
        pool = Pool()
        Order = pool.get('omni.order')
        original = Order.returnable(self.start.number)
        returned = Order.returned(original)
        member = original.omni_member
        return {
            'order': original.rec_name,
            'member': member.id if member else None,
            'lines': [{
                    'product': p.id,
                    'returnable': quantity - returned[p][0],
                    'quantity': 0.0,
                    } for p, (quantity, _) in original.omni_sold().items()
                if quantity > returned[p][0]],
            }

    def do_return_(self, action):
        pool = Pool()
        Order = pool.get('omni.order')
        TillSale = pool.get('sale.point.sale')
        done = Order.return_goods(self.start.number, self.start.store.code,
            [{'product': l.product.code, 'quantity': l.quantity,
                    'reason': l.reason.code if l.reason else None}
                for l in self.goods.lines if l.quantity],
            self.goods.refund_to)
        sale, = TillSale.search([('number', '=', done['number'])], limit=1)
        return action, {'res_id': [sale.id]}
