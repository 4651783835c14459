# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import secrets
from collections import defaultdict

from sql import Null
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import Exclude, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import PickupError

FULFILMENTS = [
    (None, ""),
    ('pickup', "Pickup in Store"),
    ('store_delivery', "Delivery from Store"),
    ('express', "Express"),
    ]
O2O_STATES = [
    (None, ""),
    ('reserved', "Reserved"),
    ('ready', "Ready for Pickup"),
    ('picked_up', "Picked Up"),
    ('dispatched', "Out for Delivery"),
    ('delivered', "Delivered"),
    ('expired', "Expired"),
    ('cancelled', "Cancelled"),
    ]
OPEN_STATES = {'reserved', 'ready'}
# An order's queued workflow is taken up by the cron after this long
STALLED_AFTER = dt.timedelta(minutes=2)


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    omni_channel = fields.Many2One(
        'omni.channel', "Channel", ondelete='RESTRICT',
        states={
            'readonly': Eval('state') != 'draft',
            'required': ~Eval('state').in_(['draft', 'cancelled']),
            },
        help="Where the customer ordered.")
    omni_reference = fields.Char(
        "Channel Reference", readonly=True,
        help="The order's number in the channel that sent it.")
    fulfilment = fields.Selection(
        FULFILMENTS, "Fulfilment", readonly=True)
    fulfilment_string = fulfilment.translated('fulfilment')
    omni_store = fields.Many2One(
        'omni.channel', "Store", readonly=True, ondelete='RESTRICT',
        help="The store that fulfils the order.")
    o2o_state = fields.Selection(O2O_STATES, "Order State", readonly=True)
    o2o_state_string = o2o_state.translated('o2o_state')
    pickup_code = fields.Char(
        "Pickup Code", readonly=True, strip=False,
        help="Given to the customer when the order is ready; "
        "checked when they collect it.")
    ready_date = fields.DateTime("Ready Since", readonly=True)
    pay_at_pickup = fields.Boolean(
        "Pay at Pickup", readonly=True,
        help="The customer pays at the store when collecting the order.")
    omni_events = fields.One2Many(
        'omni.order.event', 'sale', "Timeline", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('omni_reference_unique',
                Unique(t, t.omni_channel, t.omni_reference),
                'omni_o2o.msg_order_reference_unique'),
            ('pickup_code_exclude',
                Exclude(t, (t.omni_store, Equal), (t.pickup_code, Equal),
                    where=(t.o2o_state == 'ready') & (t.pickup_code != Null)),
                'omni_o2o.msg_pickup_code_unique'),
            ]
        cls._buttons.update({
                'o2o_ready': {
                    'invisible': ((Eval('o2o_state') != 'reserved')
                        | (Eval('fulfilment') != 'pickup')),
                    'depends': ['o2o_state', 'fulfilment'],
                    },
                'o2o_cancel': {
                    'invisible': ~Eval('o2o_state').in_(list(OPEN_STATES)),
                    'depends': ['o2o_state'],
                    },
                })

    @classmethod
    def default_omni_channel(cls):
        "The store of the user who enters the sale by hand"
        pool = Pool()
        User = pool.get('res.user')
        store = User(Transaction().user).omni_store
        return store.id if store else None

    @classmethod
    def default_warehouse(cls):
        pool = Pool()
        Channel = pool.get('omni.channel')
        channel = cls.default_omni_channel()
        if channel is not None and Channel(channel).warehouse:
            return Channel(channel).warehouse.id
        return super().default_warehouse()

    @fields.depends('omni_channel', 'warehouse', 'price_list')
    def on_change_omni_channel(self):
        if self.omni_channel and self.omni_channel.warehouse:
            self.warehouse = self.omni_channel.warehouse
        self.use_channel_prices()

    @fields.depends('omni_channel', 'price_list')
    def on_change_party(self):
        super().on_change_party()
        self.use_channel_prices()

    @fields.depends('omni_channel', 'price_list')
    def use_channel_prices(self):
        "Sell at the channel's prices, whoever the customer"
        if self.omni_channel and self.omni_channel.price_list:
            self.price_list = self.omni_channel.price_list

    @classmethod
    @ModelView.button
    @Workflow.transition('quotation')
    def quote(cls, sales):
        for sale in sales:
            if sale.omni_channel:
                sale.omni_channel.check_listed([l.product for l in sale.lines
                        if l.product and l.product.type == 'goods'])
        super().quote(sales)

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        for name in ['omni_reference', 'o2o_state', 'pickup_code',
                'ready_date', 'pay_at_pickup', 'omni_events', 'fulfilment',
                'omni_store']:
            default.setdefault(name)
        return super().copy(sales, default=default)

    @classmethod
    def process(cls, sales):
        """Process the orders' workflow, queued after intake: the moves take
        over the stock held at intake, and the store hears of its new
        orders"""
        pool = Pool()
        Order = pool.get('omni.order')
        super().process(sales)
        taken = cls.take_over_held(sales)
        for sale in taken:
            Order.alert_store(sale)

    @classmethod
    def take_over_held(cls, sales):
        """Reserve the goods of the sales by their outgoing moves in place
        of what intake held on the stock levels; return the sales taken
        over. The two cancel out on the levels: their rows are not written,
        so the orders being placed meanwhile do not wait for this."""
        pool = Pool()
        Level = pool.get('omni.stock.level')
        Line = pool.get('sale.line')
        Move = pool.get('stock.move')
        sales = [s for s in sales
            if s.shipments and any(l.intake_reserved for l in s.lines)]
        if not sales:
            return []
        moves = [m for s in sales for sh in s.shipments
            for m in sh.outgoing_moves if m.state in {'draft', 'staging'}]
        lines = [l for s in sales for l in s.lines if l.intake_reserved]
        with Level.batched():
            Move.assign(moves)
            Level.unhold(Line.held_needs(lines))
            Line.write(lines, {'intake_reserved': None})
        return sales

    @classmethod
    def process_held(cls, sales):
        """Process now the orders whose queued workflow has not run yet:
        what the store does next needs their shipments"""
        sales = [s for s in sales if s.state == 'confirmed']
        if sales:
            cls.process(sales)

    @classmethod
    def process_stalled(cls):
        """Process the orders accepted more than STALLED_AFTER ago whose
        queued workflow never ran (a worker killed mid-task, no worker)"""
        pool = Pool()
        Line = pool.get('sale.line')
        since = dt.datetime.now() - STALLED_AFTER
        lines = Line.search([
                ('intake_reserved', '>', 0),
                ('sale.state', '=', 'confirmed'),
                ('sale.create_date', '<', since),
                ])
        sales = cls.browse(sorted({l.sale.id for l in lines}))
        for sale in sales:
            cls.process([sale])

    @property
    def open_shipments(self):
        return [s for s in self.shipments
            if s.state not in {'done', 'cancelled'}]

    @classmethod
    @ModelView.button
    def o2o_ready(cls, sales):
        """Set the goods aside at the store and give the customer a pickup
        code"""
        pool = Pool()
        Message = pool.get('omni.order.message')
        Shipment = pool.get('stock.shipment.out')
        sales = [s for s in sales
            if s.o2o_state == 'reserved' and s.fulfilment == 'pickup']
        cls.process_held(sales)
        shipments = [sh for s in sales for sh in s.open_shipments]
        Shipment.assign_try(shipments)
        Shipment.pick([sh for sh in shipments if sh.state == 'assigned'])
        Shipment.pack([sh for sh in shipments if sh.state == 'picked'])
        for sale in sales:
            if sale.open_shipments and any(
                    sh.state != 'packed' for sh in sale.open_shipments):
                raise PickupError(gettext('omni_o2o.msg_ready_not_packed',
                        sale=sale.rec_name, store=sale.omni_store.rec_name))
        now = dt.datetime.now()
        taken = set()
        for sale in sales:
            sale.pickup_code = sale.new_pickup_code(taken)
            sale.ready_date = now
            taken.add((sale.omni_store, sale.pickup_code))
        cls.set_o2o_state(sales, 'ready')
        Message.send_pickup_codes(sales)

    def new_pickup_code(self, taken=()):
        """Return a random 6-digit code no open pickup of the store has, nor
        the (store, code) pairs taken"""
        codes = {s.pickup_code for s in self.search([
                    ('omni_store', '=', self.omni_store.id),
                    ('o2o_state', '=', 'ready'),
                    ])}
        codes |= {c for store, c in taken if store == self.omni_store}
        while True:
            code = f'{secrets.randbelow(10 ** 6):06d}'
            if code not in codes:
                return code

    @classmethod
    def hand_over(cls, sales, payment_method=None):
        """Complete the shipments of the ready pickups the customers
        collected, taking with payment_method what is due on those paid at
        pickup"""
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        Lang = pool.get('ir.lang')
        to_collect = [s for s in sales if s.pay_at_pickup]
        if to_collect and not payment_method:
            sale = to_collect[0]
            raise PickupError(gettext('omni_o2o.msg_pickup_payment_method',
                    sale=sale.rec_name,
                    amount=Lang.get().currency(
                        sale.total_amount, sale.currency)))
        cls.process_held(sales)
        Shipment.do([sh for s in sales for sh in s.open_shipments])
        for sale in sales:
            sale.pickup_code = None
        cls.set_o2o_state(sales, 'picked_up')
        if to_collect:
            cls.process(to_collect)
            cls.collect(to_collect, payment_method)
        cls.__queue__.process([s for s in sales if not s.pay_at_pickup])

    @classmethod
    def collect(cls, sales, payment_method):
        "Post the invoices of the sales and pay them with payment_method"
        pool = Pool()
        Date = pool.get('ir.date')
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        invoices = [i for s in sales for i in s.invoices
            if i.state in {'draft', 'validated'}]
        Invoice.post(invoices)
        today = Date.today()
        for invoice in invoices:
            lines = invoice.pay_invoice(
                invoice.amount_to_pay, payment_method, today,
                description=invoice.origins)
            MoveLine.reconcile(list(invoice.lines_to_pay) + lines)

    @classmethod
    def dispatch(cls, sales):
        "Hand the open orders' goods over to the delivery rider"
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        sales = [s for s in sales if s.o2o_state in OPEN_STATES]
        cls.process_held(sales)
        shipments = [sh for s in sales for sh in s.open_shipments]
        Shipment.assign_try(shipments)
        Shipment.pick([sh for sh in shipments if sh.state == 'assigned'])
        Shipment.pack([sh for sh in shipments if sh.state == 'picked'])
        Shipment.do([sh for sh in shipments if sh.state == 'packed'])
        for sale in sales:
            if sale.open_shipments:
                raise PickupError(gettext('omni_o2o.msg_dispatch_not_packed',
                        sale=sale.rec_name))
            sale.pickup_code = None
        cls.set_o2o_state(sales, 'dispatched')
        cls.__queue__.process(sales)

    @classmethod
    @ModelView.button
    def o2o_cancel(cls, sales):
        "Cancel the open orders: release their stock and give back payments"
        cls.release(sales, 'cancelled')

    @classmethod
    def expire(cls):
        "Expire the pickups waiting longer than their channel allows"
        now = dt.datetime.now()
        sales = cls.search([
                ('fulfilment', '=', 'pickup'),
                ('o2o_state', '=', 'ready'),
                ])
        cls.release([s for s in sales
                if s.ready_date + dt.timedelta(
                    days=s.omni_store.pickup_days) <= now], 'expired')

    @classmethod
    def release(cls, sales, state):
        pool = Pool()
        Line = pool.get('sale.line')
        Shipment = pool.get('stock.shipment.out')
        sales = [s for s in sales if s.o2o_state in OPEN_STATES]
        cls.process_held(sales)
        shipments = [sh for s in sales for sh in s.open_shipments]
        Shipment.cancel(shipments)
        # The sale is complete without the cancelled goods
        for move in (m for sh in shipments for m in sh.outgoing_moves):
            Line.write([move.origin], {
                    'moves_ignored': [('add', [move.id])],
                    })
        for sale in sales:
            sale.pickup_code = None
        cls.give_back(sales)
        cls.set_o2o_state(sales, state)
        cls.__queue__.process(sales)

    @classmethod
    def give_back(cls, sales):
        """Give the customers of the released sales back what they paid
        with or earned; extended to give back more (omni_coupon's codes)"""
        cls.refund_member_payments(sales)
        cls.reverse_points(sales)

    @classmethod
    def refund_member_payments(cls, sales):
        "Give members back the points and stored value they paid with"
        pool = Pool()
        Points = pool.get('omni.member.points')
        StoredValue = pool.get('omni.member.stored_value')
        Points.add([Points(member=s.party, kind='refund', origin=s,
                    points=s.member_points)
                for s in sales if s.member_points])
        StoredValue.add([StoredValue(member=s.party, kind='refund', origin=s,
                    amount=s.member_stored_value)
                for s in sales if s.member_stored_value])

    @classmethod
    def reverse_points(cls, sales):
        """Take back, once, the points the released orders earned (those
        spent since stay spent)"""
        pool = Pool()
        Points = pool.get('omni.member.points')
        reversed_ = {l.origin for l in Points.for_origins(sales, ['reverse'])}
        earned = defaultdict(int)
        for line in Points.for_origins(sales, ['earn']):
            if line.origin not in reversed_:
                earned[line.origin] += line.points
        balances = Points.balances(list({s.party for s in earned}))
        lines = []
        for sale, points in earned.items():
            points = min(points, balances[sale.party.id])
            if points > 0:
                balances[sale.party.id] -= points
                lines.append(Points(member=sale.party, kind='reverse',
                        origin=sale, points=-points))
        if lines:
            Points.add(lines)

    def earns_points(self):
        # A released order earns nothing, whenever its workflow runs
        return super().earns_points() and self.o2o_state not in {
            'cancelled', 'expired'}

    @classmethod
    def set_o2o_state(cls, sales, state):
        pool = Pool()
        Event = pool.get('omni.order.event')
        for sale in sales:
            sale.o2o_state = state
        cls.save(sales)
        Event.save([Event(sale=s, state=state) for s in sales])


class SaleLine(metaclass=PoolMeta):
    __name__ = 'sale.line'

    intake_reserved = fields.Float(
        "Held at Intake", readonly=True,
        help="The quantity reserved on the store's stock level when the "
        "order was accepted, until its moves take over.")

    @classmethod
    def held_needs(cls, lines):
        """Return {(product id, warehouse id): quantity in the product's
        unit} held at intake for the lines"""
        pool = Pool()
        Uom = pool.get('product.uom')
        needs = defaultdict(float)
        for line in lines:
            if line.intake_reserved:
                needs[(line.product.id, line.sale.warehouse.id)] += (
                    Uom.compute_qty(line.unit, line.intake_reserved,
                        line.product.default_uom))
        return dict(needs)

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('intake_reserved')
        return super().copy(lines, default=default)


class Event(ModelSQL, ModelView):
    "Order Event"
    __name__ = 'omni.order.event'

    sale = fields.Many2One(
        'sale.sale', "Sale", required=True, readonly=True,
        ondelete='CASCADE')
    state = fields.Selection(
        O2O_STATES, "State", required=True, readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('sale')
        cls._order = [('create_date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_user(cls):
        return Transaction().user

