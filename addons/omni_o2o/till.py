# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The cashier page's calls: the till of the cashier's store, sale by sale.

Every figure the page shows comes from here: prices, level discounts and
coupon discounts are those of the till sale (`sale.point.sale`), computed
by the server alone."""
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import Model
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction, check_access

from omni_members.party import mask_phone, phone_key
from omni_retail import inputs
from omni_retail.tools import lock_first, record_turns, resume_turns

from .exceptions import TillError

PRODUCTS_FOUND = 20


class Till(Model):
    "Till of the cashier page"
    __name__ = 'omni.till'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Like Tryton's buttons and wizards, each call checks at its door
        # (store) what the cashier may do, then does it: the fields behind
        # prices, payments and states are not theirs to write by hand
        cls.__rpc__.update({
                name: RPC(readonly=readonly, check_access=False)
                for name, readonly in [
                    ('start', True),
                    ('new', False),
                    ('sale', True),
                    ('find_products', True),
                    ('add', False),
                    ('set_quantity', False),
                    ('set_member', False),
                    ('register_member', False),
                    ('pay', False),
                    ('cancel', False),
                    ('open_session', False),
                    ('close_session', False),
                    ]})

    @classmethod
    def store(cls):
        """Return the store of the cashier, with its till; the door of
        every call, which runs for the till only"""
        pool = Pool()
        User = pool.get('res.user')
        ModelAccess = pool.get('ir.model.access')
        with check_access():
            ModelAccess.check('sale.point.sale', 'write')
        store = User(Transaction().user).omni_store
        if not store or not store.sale_point:
            raise TillError(gettext('omni_o2o.msg_till_no_store'))
        return store

    @classmethod
    def start(cls):
        """Return the cashier's store, till, payment methods, cash session
        and the sale they left open"""
        pool = Pool()
        Method = pool.get('sale.point.payment.method')
        TillSale = pool.get('sale.point.sale')
        User = pool.get('res.user')
        store = cls.store()
        user = User(Transaction().user)
        open_sales = TillSale.search([
                ('point', '=', store.sale_point.id),
                ('state', '=', 'open'),
                ('create_uid', '=', user.id),
                ], order=[('id', 'DESC')], limit=1)
        currency = store.company.currency
        return {
            'store': {'code': store.code, 'name': store.name},
            'till': store.sale_point.name,
            'cashier': user.name,
            'currency': {'symbol': currency.symbol,
                'digits': currency.digits},
            'methods': [{
                    'id': m.id,
                    'name': m.name,
                    'kind': ('cash' if m.cash else m.omni_ledger
                        or 'external'),
                    } for m in Method.search([
                        ('company', '=', store.company.id),
                        ('omni_online', '=', False),
                        ], order=[('cash', 'DESC'), ('name', 'ASC')])],
            'session': cls.describe_session(store),
            'sale': cls.describe(open_sales[0]) if open_sales else None,
            # Whether the till takes coupon codes (omni_coupon)
            'coupons': False,
            }

    @classmethod
    def new(cls):
        "Start a new sale at the cashier's till"
        return cls.describe(cls.till_sale(None))

    @classmethod
    def sale(cls, sale_id):
        if sale_id is None:
            raise TillError(gettext('omni_o2o.msg_till_sale_unknown',
                    sale=sale_id))
        return cls.describe(cls.till_sale(sale_id, open_=False))

    @classmethod
    def till_sale(cls, sale_id, open_=True):
        """Return the sale of sale_id at the cashier's till, a new one if
        sale_id is None; refuse a sale no longer open if open_"""
        pool = Pool()
        TillSale = pool.get('sale.point.sale')
        store = cls.store()
        if sale_id is None:
            sale = TillSale(point=store.sale_point, company=store.company)
            sale.save()
            return sale
        sales = TillSale.search([
                ('id', '=', inputs.record_id(sale_id, 'sale_id')),
                ('point', '=', store.sale_point.id),
                ])
        if not sales:
            raise TillError(gettext('omni_o2o.msg_till_sale_unknown',
                    sale=sale_id))
        sale, = sales
        if open_ and sale.state != 'open':
            raise TillError(gettext('omni_o2o.msg_till_sale_closed',
                    sale=sale.rec_name))
        return sale

    @classmethod
    def find_products(cls, text):
        "Return the goods whose code, barcode or name has text"
        pool = Pool()
        Product = pool.get('product.product')
        store = cls.store()
        text = inputs.text(text, 'text', size=64, required=False)
        if not text:
            return []
        products = Product.search([
                ('salable', '=', True),
                ['OR',
                    ('code', 'ilike', f'{text}%'),
                    ('identifiers.code', '=', text),
                    ('name', 'ilike', f'%{text}%'),
                    ],
                ], limit=PRODUCTS_FOUND, order=[('code', 'ASC')])
        return [{
                'code': p.code,
                'name': p.name,
                'price': str(store.gross_price(p, 1)),
                } for p in products if store.is_listed(p)]

    @classmethod
    def add(cls, sale_id, code, quantity=1):
        """Add quantity of the goods of the barcode or code to the sale,
        a new one if sale_id is None"""
        pool = Pool()
        Line = pool.get('sale.point.sale.line')
        TillSale = pool.get('sale.point.sale')
        cls.store()
        product = cls.product(code)
        quantity = inputs.quantity(quantity, product.code)
        sale = cls.till_sale(sale_id)
        lines = [l for l in sale.lines if l.product == product]
        if lines:
            line = lines[0]
            line.quantity = inputs.quantity(
                line.quantity + quantity, product.code)
        else:
            inputs.room_for(len(sale.lines), 'lines')
            line = Line(sale=sale, product=product, quantity=quantity)
            line.on_change_product()
        cls.check_stock(sale, product, line.quantity)
        line.amount = line.on_change_with_amount()
        line.save()
        return cls.describe(TillSale(sale.id))

    @classmethod
    def set_quantity(cls, sale_id, line_id, quantity):
        "Set the quantity of the line; none removes it"
        pool = Pool()
        Line = pool.get('sale.point.sale.line')
        sale = cls.till_sale(sale_id)
        line_id = inputs.record_id(line_id, 'line_id')
        lines = [l for l in sale.lines if l.id == line_id]
        if not lines:
            raise TillError(gettext('omni_o2o.msg_till_line_unknown'))
        line, = lines
        if not quantity:
            Line.delete([line])
        else:
            line.quantity = inputs.quantity(quantity, line.product.code)
            cls.check_stock(sale, line.product, line.quantity)
            line.amount = line.on_change_with_amount()
            line.save()
        return cls.describe(cls.till_sale(sale.id))

    @classmethod
    def product(cls, code):
        pool = Pool()
        Product = pool.get('product.product')
        products = Product.omni_by_code(inputs.text(code, 'code', size=64))
        if len(products) != 1:
            raise TillError(gettext('omni_o2o.msg_till_product_unknown',
                    code=code))
        return products[0]

    @classmethod
    def lock_for_payment(cls, sale, method, done):
        """Lock at once everything paying the sale by method locks: when
        the payment makes the sale done (done), its goods' stock levels and
        its till's numbering; the member's ledgers when the sale earns
        points or the method takes them. The transaction restarts once,
        with every lock taken at its start (levels in product order, the
        member, the numbering), rather than once per lock after work."""
        pool = Pool()
        Level = pool.get('omni.stock.level')
        Party = pool.get('party.party')
        Sequence = pool.get('ir.sequence.strict')
        locks, turns = [], []
        if done:
            warehouse = sale.point.storage_location.warehouse
            needs = defaultdict(float)
            for line in sale.lines:
                if line.product and line.product.type == 'goods':
                    needs[(line.product.id, warehouse.id)] += line.quantity
            needs = {k: q for k, q in needs.items() if q > 0}
            # What is short already does not queue for the locks
            Level.refuse_short(needs)
            # In line with the orders taken for the same goods
            turns = Level.turns(needs)
        if sale.member and (done or method.omni_ledger):
            # The points and stored value ledgers write their member: in
            # line with the member's other writers, as the queued workflow
            turns = [*turns, *record_turns(Party, [sale.member])]
        if done and not sale.number:
            # Tryton numbers the sale with its till's strict sequence
            locks.append((Sequence, [sale.point.sequence]))
        lock_first(*locks, turns=turns)

    @classmethod
    def check_stock(cls, sale, product, quantity):
        "Refuse goods the store does not have, as ringing them up would"
        pool = Pool()
        Level = pool.get('omni.stock.level')
        if product.type != 'goods':
            return
        warehouse = sale.point.storage_location.warehouse
        needs = {(product.id, warehouse.id): quantity}
        Level.refuse_short(needs, Level.get({product.id}, {warehouse.id}))

    @classmethod
    def set_member(cls, sale_id, phone):
        "Give the sale to the member of phone, with their level's prices"
        pool = Pool()
        Line = pool.get('sale.point.sale.line')
        Member = pool.get('omni.member')
        sale = cls.till_sale(sale_id)
        if cls.sale_coupons(sale):
            # The level's prices would replace the coupon's discount
            raise TillError(gettext('omni_o2o.msg_till_member_after_coupon'))
        member = Member.find(phone_key(inputs.text(phone, 'phone', size=32)))
        if not member:
            raise TillError(gettext('omni_o2o.msg_till_member_unknown',
                    phone=phone))
        sale.member = member
        sale.save()
        sale = cls.till_sale(sale.id)
        for line in sale.lines:
            line.on_change_product()
        Line.save(sale.lines)
        return cls.describe(cls.till_sale(sale.id))

    @classmethod
    def register_member(cls, sale_id, phone, name=None):
        "Make a member of the customer of phone and give them the sale"
        pool = Pool()
        Member = pool.get('omni.member')
        Member.register(inputs.text(phone, 'phone', size=32),
            inputs.text(name, 'name', size=100, required=False),
            cls.store().code)
        return cls.set_member(sale_id, phone)

    @classmethod
    def pay(cls, sale_id, method_id, amount):
        """Pay amount of the sale by the method; cash above what is due
        gives change. The sale is done, and its goods leave the stock, once
        fully paid."""
        pool = Pool()
        Method = pool.get('sale.point.payment.method')
        Payment = pool.get('sale.point.payment')
        TillSale = pool.get('sale.point.sale')
        resume_turns()
        sale = cls.till_sale(sale_id)
        methods = Method.search([
                ('id', '=', inputs.record_id(method_id, 'method_id')),
                ('company', '=', sale.company.id),
                ('omni_online', '=', False),
                ])
        if not methods:
            raise TillError(gettext('omni_o2o.msg_till_method_unknown'))
        method, = methods
        amount = sale.currency.round(inputs.amount(amount, 'amount'))
        due = sale.amount_to_pay
        if not sale.lines or due <= 0:
            raise TillError(gettext('omni_o2o.msg_till_nothing_due',
                    sale=sale.rec_name))
        if amount > due and not method.cash:
            raise TillError(gettext('omni_o2o.msg_till_overpaid',
                    method=method.rec_name))
        cls.lock_for_payment(sale, method, amount >= due)
        payments = [Payment(sale=sale, method=method, amount=amount)]
        change = max(amount - due, 0)
        if change:
            payments.append(Payment(sale=sale, method=method, amount=-change))
        Payment.save(payments)
        sale = TillSale(sale.id)
        if not sale.amount_to_pay:
            TillSale.process([sale])
        return dict(cls.describe(TillSale(sale.id)), change=str(change),
            session=cls.describe_session(cls.store()))

    @classmethod
    def cancel(cls, sale_id):
        "Cancel the open sale, giving back what was paid from the ledgers"
        pool = Pool()
        Payment = pool.get('sale.point.payment')
        TillSale = pool.get('sale.point.sale')
        sale = cls.till_sale(sale_id)
        Payment.delete(list(sale.payments))
        TillSale.cancel([sale])
        return cls.describe(TillSale(sale.id))

    @classmethod
    def open_session(cls):
        "Open the cash session of the cashier's till; return it"
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        store = cls.store()
        Session.get_current(store.sale_point)
        return cls.describe_session(store)

    @classmethod
    def close_session(cls, end_amount):
        """Close the cash session with the cash counted in the drawer: it
        must be the expected amount"""
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        store = cls.store()
        session = cls.current_session(store)
        if not session:
            raise TillError(gettext('omni_o2o.msg_till_no_session'))
        closing = cls.describe_session(store)
        session.end_amount = inputs.amount(end_amount, 'end_amount')
        session.save()
        Session.close([session])
        return dict(closing, closed=session.rec_name,
            counted=str(session.end_amount))

    @classmethod
    def current_session(cls, store):
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        sessions = Session.search([
                ('point', '=', store.sale_point.id),
                ('state', '=', 'open'),
                ], limit=1)
        return sessions[0] if sessions else None

    @classmethod
    def describe_session(cls, store):
        session = cls.current_session(store)
        if not session:
            return None
        round_ = session.currency.round
        start = session.start_amount or 0
        return {
            'id': session.id,
            'start': str(round_(start)),
            'cash_in': str(round_(session.balance)),
            'expected': str(round_(start + session.balance)),
            }

    @classmethod
    def describe(cls, sale):
        """Return what the page shows of the sale, and prints on the receipt;
        the sale is one of the cashier's till (till_sale)"""
        pool = Pool()
        Points = pool.get('omni.member.points')
        store = cls.store()

        def money(amount):
            return str(sale.currency.round(amount or 0))
        member = sale.member
        coupons = cls.sale_coupons(sale)
        # Without a level's or a coupon's discount, the line's price is the
        # list price: no need to price the goods again
        discounted = coupons or (member and member.member_level)
        lines = []
        for line in sale.lines:
            if discounted and store and line.product:
                list_price = store.gross_price(
                    line.product, abs(line.quantity))
            else:
                list_price = line.unit_gross_price
            lines.append({
                    'id': line.id,
                    'code': line.product.code if line.product else None,
                    'name': line.product.name if line.product else None,
                    'quantity': line.quantity,
                    'unit_price': money(line.unit_gross_price),
                    'list_price': money(list_price),
                    'amount': money(line.gross_amount),
                    })
        # Each of the sale's amounts computes the total: compute it once
        total = sale.on_change_with_total()
        paid = sale.on_change_with_amount_paid()
        return {
            'id': sale.id,
            'number': sale.number,
            'state': sale.state,
            'date': sale.date.isoformat(),
            'store': store.name if store else None,
            'cashier': sale.create_uid.name,
            'lines': lines,
            'coupons': coupons,
            'total': money(total),
            'paid': money(paid),
            'to_pay': money(total - paid),
            'payments': [{'method': p.method.name, 'amount': money(p.amount)}
                for p in sale.payments],
            'member': cls.describe_member(member) if member else None,
            # Members earn their points when the sale is done
            'points_earned': sum(l.points for l in Points.for_origins(
                        [sale], ['earn', 'reverse']))
            if sale.state in {'done', 'posted'} else 0,
            }

    @classmethod
    def sale_coupons(cls, sale):
        """Return the codes redeemed by the sale and their discounts
        ([{"code", "discount"}], omni_coupon)"""
        return []

    @classmethod
    def describe_member(cls, member):
        pool = Pool()
        Points = pool.get('omni.member.points')
        StoredValue = pool.get('omni.member.stored_value')
        return {
            'number': member.member_number,
            'phone': mask_phone(member.phone_key),
            'level': (member.member_level.name
                if member.member_level else None),
            'points': str(Points.balances([member])[member.id]),
            'balance': str(StoredValue.balances([member])[member.id]),
            }
