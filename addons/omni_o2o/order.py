# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import json
import logging
from collections import defaultdict

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Model, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError, SQLConstraintError
from trytond.pool import Pool
from trytond.report import Report
from trytond.rpc import RPC
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateAction, StateView, Wizard

from omni_members.party import mask_phone, phone_key
from omni_retail import inputs
from omni_retail.exceptions import InputError
from omni_retail.tools import (
    channel_gate, is_integrator, is_manager, resume_turns, take_turns)

from .exceptions import (
    OrderError, PickupError, PickupRateLimitError, UnknownProductError)

logger = logging.getLogger(__name__)

PICKUP_ATTEMPTS_PER_MINUTE = 10
# The icon that marks a notification as a new order for the store: the web
# client sounds and announces those (web/custom.js)
NEW_ORDER_ICON = 'omni-new-order'
MAX_COUPONS = 10


class Order(Model):
    "Orders of every channel: intake, pickup, status and the order center"
    __name__ = 'omni.order'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'place': RPC(readonly=False, check_access=False),
                # Its door: the store's staff, a manager or the store's key
                'pickup': RPC(readonly=False, check_access=False),
                'status': RPC(readonly=True),
                'search_center': RPC(readonly=True),
                'new_order_alerts': RPC(readonly=True),
                })

    @classmethod
    def place(cls, payload):
        """Accept the order of payload, reserving its goods at the store
        that fulfils it; return it. A retry returns the same order.

        What the order's promises rest on is done here: one order per
        reference, the member, the sale and its number, the goods reserved
        on the stock levels. Every lock is asked for first, so the call
        restarts at most once and before any work; callers for the same
        goods wait in line instead of failing. The rest of the sale
        workflow (shipments, invoices, points, notifications) is queued."""
        pool = Pool()
        Event = pool.get('omni.order.event')
        Level = pool.get('omni.stock.level')
        ModelAccess = pool.get('ir.model.access')
        Sale = pool.get('sale.sale')
        with check_access():
            ModelAccess.check('sale.sale', 'create')
        resume_turns()
        payload = cls.checked_payload(payload)
        channel = cls.channel(payload.get('channel'), ['online', 'platform'])
        reference = payload.get('reference')
        if not reference:
            raise OrderError(gettext('omni_o2o.msg_order_reference'))
        placed = cls.placed(channel, reference)
        if placed:
            return cls.describe(placed)
        fulfilment = cls.payload_fulfilment(payload)
        products = cls.payload_lines(payload.get('lines'))
        store = cls.fulfilling_store(channel, fulfilment, payload, products)
        warehouse = store.warehouse if store else channel.warehouse
        coupons = cls.coupons(payload['coupons'])
        # The first attempt restarts here: what it read is read again
        take_turns([
                f'omni.order,{channel.id},{reference}',
                f'omni.member,{phone_key(payload.get("member_phone"))}',
                *Level.turns({(p.id, warehouse.id) for p, _ in products}),
                *cls.coupon_turns(coupons),
                ])
        channel.check_listed([p for p, _ in products])
        needs = cls.needs(products, warehouse)
        Level.hold(needs)
        sale = cls.new_sale(channel, payload, fulfilment, products, store)
        cls.apply_coupons(sale, coupons)
        try:
            sale.save()
        except SQLConstraintError as e:
            # Placed meanwhile by a retry: the next attempt returns it
            raise backend.DatabaseOperationalError(str(e)) from e
        Sale.quote([sale])
        Sale.confirm([sale])
        Event.save([Event(sale=sale, state=sale.o2o_state)])
        return cls.describe(sale)

    @classmethod
    def checked_payload(cls, payload):
        "Return the values of payload checked, before any work"
        payload = dict(inputs.mapping(payload, 'order'))
        for name, size in [('channel', 32), ('reference', 64),
                ('fulfilment', 32), ('store', 32), ('member_phone', 32),
                ('member_name', 100)]:
            payload[name] = inputs.text(
                payload.get(name), name, size=size, required=False)
        payload['lines'] = [inputs.mapping(line, 'lines')
            for line in inputs.items(
                payload.get('lines'), 'lines', required=False)]
        coupons = payload.get('coupons')
        payload['coupons'] = [inputs.text(code, 'coupons', size=64)
            for code in inputs.items(
                [coupons] if isinstance(coupons, str) else coupons,
                'coupons', maximum=MAX_COUPONS, required=False)]
        if payload.get('address') is not None:
            payload['address'] = inputs.mapping(payload['address'], 'address')
        if not isinstance(payload.get('paid', True), bool):
            raise InputError(gettext('omni_o2o.msg_order_paid'))
        return payload

    @classmethod
    def placed(cls, channel, reference):
        "Return the order of the channel's reference if placed"
        pool = Pool()
        Sale = pool.get('sale.sale')
        sales = Sale.search([
                ('omni_channel', '=', channel.id),
                ('omni_reference', '=', str(reference)),
                ], limit=1)
        return sales[0] if sales else None

    @classmethod
    def channel(cls, code, kinds):
        pool = Pool()
        Channel = pool.get('omni.channel')
        channels = Channel.search([
                ('code', '=', code),
                ('kind', 'in', kinds),
                ], limit=1)
        if not channels:
            raise OrderError(gettext('omni_o2o.msg_order_channel', code=code))
        return channels[0]

    @classmethod
    def payload_fulfilment(cls, payload):
        fulfilment = payload.get('fulfilment')
        if fulfilment not in {'pickup', 'store_delivery', 'express'}:
            raise OrderError(gettext('omni_o2o.msg_order_fulfilment',
                    fulfilment=fulfilment))
        if payload.get('paid', True) is False and fulfilment != 'pickup':
            raise OrderError(gettext('omni_o2o.msg_order_unpaid'))
        return fulfilment

    @classmethod
    def needs(cls, products, warehouse):
        """Return {(product id, warehouse id): quantity in the product's
        unit} of the goods of [(product, quantity in its sale unit)]"""
        pool = Pool()
        Uom = pool.get('product.uom')
        needs = defaultdict(float)
        for product, quantity in products:
            if product.type == 'goods':
                needs[(product.id, warehouse.id)] += Uom.compute_qty(
                    product.sale_uom, quantity, product.default_uom)
        return dict(needs)

    @classmethod
    def new_sale(cls, channel, payload, fulfilment, products, store):
        "Return the unsaved sale of the payload, its stock held at intake"
        pool = Pool()
        Date = pool.get('ir.date')
        Member = pool.get('omni.member')
        Party = pool.get('party.party')
        Sale = pool.get('sale.sale')
        member = Party(Member.register(payload.get('member_phone'),
                payload.get('member_name'), channel.code)['id'])
        address = payload.get('address') or {}
        with Transaction().set_context(company=channel.company.id):
            today = Date.today()
        # Quoted and confirmed at once: dated now, not by two more writes
        sale = Sale(quotation_date=today, sale_date=today,
            party=member, omni_channel=channel,
            omni_reference=str(payload['reference']), fulfilment=fulfilment,
            omni_store=store, company=channel.company, o2o_state='reserved',
            pay_at_pickup=payload.get('paid', True) is False,
            warehouse=store.warehouse if store else channel.warehouse,
            shipment_method='order', invoice_method='shipment')
        sale.on_change_party()
        sale.shipment_address = cls.shipment_address(member, address)
        sale.invoice_address = sale.invoice_address or sale.shipment_address
        if channel.web_shop:
            sale.web_shop = channel.web_shop
            sale.web_id = sale.omni_reference
        sale.lines = [cls.new_line(sale, product, quantity)
            for product, quantity in products]
        return sale

    @classmethod
    def payload_lines(cls, lines):
        "Return [(product, quantity)] of the payload lines"
        pool = Pool()
        Product = pool.get('product.product')
        if not lines:
            raise OrderError(gettext('omni_o2o.msg_order_no_lines'))
        quantities = []
        for line in lines:
            code = inputs.text(line.get('product'), 'product', size=64)
            quantities.append(
                (code, inputs.quantity(line.get('quantity'), code)))
        products = {}
        for product in Product.search([
                    ('code', 'in', list({c for c, _ in quantities})),
                    ('salable', '=', True),
                    ]):
            products.setdefault(product.code, product)
        for code, _ in quantities:
            if code not in products:
                raise UnknownProductError(gettext(
                        'omni_o2o.msg_order_product', product=code))
        return [(products[c], q) for c, q in quantities]

    @classmethod
    def fulfilling_store(cls, channel, fulfilment, payload, products):
        "Return the store that fulfils the order, or None for express"
        pool = Pool()
        Channel = pool.get('omni.channel')
        if fulfilment == 'express':
            return None
        if fulfilment == 'pickup':
            stores = Channel.search([
                    ('code', '=', payload.get('store')),
                    ('kind', '=', 'store'),
                    ('pickup', '=', True),
                    ], limit=1)
            if not stores:
                raise OrderError(gettext('omni_o2o.msg_order_pickup_store',
                        store=payload.get('store')))
            return stores[0]
        if payload.get('store'):
            return cls.delivering_store(payload['store'])
        return cls.nearest_store(payload.get('address') or {}, products)

    @classmethod
    def delivering_store(cls, code):
        "Return the store of code that delivers"
        pool = Pool()
        Channel = pool.get('omni.channel')
        stores = Channel.search([
                ('code', '=', code),
                ('kind', '=', 'store'),
                ('delivery', '=', True),
                ], limit=1)
        if not stores:
            raise OrderError(gettext('omni_o2o.msg_order_delivery_store',
                    store=code))
        return stores[0]

    @classmethod
    def nearest_store(cls, address, products):
        """Return the delivering store nearest to the address that has every
        product available"""
        pool = Pool()
        Channel = pool.get('omni.channel')
        Level = pool.get('omni.stock.level')
        if 'latitude' not in address or 'longitude' not in address:
            raise OrderError(gettext('omni_o2o.msg_order_coordinates'))
        point = (inputs.coordinate(address['latitude'], 'latitude', 90),
            inputs.coordinate(address['longitude'], 'longitude', 180))
        stores = Channel.search([
                ('kind', '=', 'store'),
                ('delivery', '=', True),
                ])
        levels = Level.get({p.id for p, _ in products},
            {s.warehouse.id for s in stores})
        candidates = []
        for store in stores:
            distance = store.distance(*point)
            if distance is None:
                continue
            if all((level := levels.get((p.id, store.warehouse.id)))
                    and level.available >= q for p, q in products):
                candidates.append((distance, store.priority, store.id, store))
        if not candidates:
            raise OrderError(gettext('omni_o2o.msg_order_no_store'))
        return min(candidates)[-1]

    @classmethod
    def shipment_address(cls, member, address):
        pool = Pool()
        Address = pool.get('party.address')
        if not address and member.addresses:
            return member.addresses[0]
        new = Address(party=member,
            street=address.get('street'), city=address.get('city'),
            postal_code=address.get('postal_code'))
        new.save()
        return new

    @classmethod
    def new_line(cls, sale, product, quantity):
        pool = Pool()
        Line = pool.get('sale.line')
        line = Line(sale=sale, type='line', product=product,
            quantity=quantity)
        line.on_change_product()
        if product.type == 'goods':
            line.intake_reserved = line.quantity
        return line

    @classmethod
    def coupons(cls, codes):
        """Return the coupons of the payload's codes; without a module that
        redeems them (omni_coupon), an order with codes is refused rather
        than sold at full price"""
        if codes:
            raise OrderError(gettext('omni_o2o.msg_order_coupons'))
        return []

    @classmethod
    def coupon_turns(cls, coupons):
        "Return the turns to take on the coupons before redeeming them"
        return []

    @classmethod
    def apply_coupons(cls, sale, coupons):
        "Give the new sale the coupons to redeem when it is quoted"

    @classmethod
    def alert_store(cls, sale):
        """Notify the users of the fulfilling store of the new order, each in
        their language, marked by NEW_ORDER_ICON"""
        pool = Pool()
        Notification = pool.get('res.notification')
        Sale = pool.get('sale.sale')
        User = pool.get('res.user')
        if not sale.omni_store:
            return
        texts = {}
        notifications = []
        for user in User.search([('omni_store', '=', sale.omni_store.id)]):
            language = user.language.code if user.language else None
            if language not in texts:
                with Transaction().set_context(language=language):
                    order = Sale(sale.id)
                    texts[language] = {
                        'label': gettext('omni_o2o.msg_new_order_label',
                            fulfilment=order.fulfilment_string,
                            number=order.number),
                        'description': gettext(
                            'omni_o2o.msg_new_order_description',
                            channel=order.omni_channel.rec_name,
                            member=order.party.rec_name,
                            total=order.total_amount),
                        }
            notifications.append(Notification(user=user,
                    icon=NEW_ORDER_ICON, model='sale.sale',
                    records=json.dumps([sale.id]), **texts[language]))
        Notification.save(notifications)

    @classmethod
    def new_order_alerts(cls, after=None):
        """Return the user's new-order notifications later than the
        notification id after, oldest first, with the sentence to announce
        each in the user's language:
        {"last": id, "alerts": [{"id", "sale", "number", "announcement"}]}.
        Without after, only the id of the last one (no alerts): the client
        announces what arrives from then on."""
        pool = Pool()
        Notification = pool.get('res.notification')
        Sale = pool.get('sale.sale')
        domain = [
            ('user', '=', Transaction().user),
            ('model', '=', 'sale.sale'),
            ('icon', '=', NEW_ORDER_ICON),
            ]
        if after is None:
            last = Notification.search(domain, order=[('id', 'DESC')],
                limit=1)
            return {'last': last[0].id if last else 0, 'alerts': []}
        notifications = Notification.search(
            domain + [('id', '>', int(after))],
            order=[('id', 'ASC')], limit=20)
        alerts = []
        for notification in notifications:
            sales = Sale.search([
                    ('id', 'in', json.loads(notification.records or '[]')),
                    ], limit=1)
            if not sales:
                continue
            sale, = sales
            alerts.append({
                    'id': notification.id,
                    'sale': sale.id,
                    'number': sale.number,
                    'announcement': cls.announcement(sale),
                    })
        return {
            'last': notifications[-1].id if notifications else int(after),
            'alerts': alerts,
            }

    @classmethod
    def announcement(cls, sale):
        "The sentence that announces the new order sale in the store"
        if sale.omni_channel and sale.omni_channel.kind == 'platform':
            kind = 'platform'
        else:
            kind = sale.fulfilment or 'pickup'
        return gettext(f'omni_o2o.msg_new_order_announcement_{kind}',
            number=sale.number)

    @classmethod
    def check_pickup_door(cls, store):
        """Refuse the pickup at store to all but its staff, a manager and a
        key, which the keyed route holds to its own store"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        User = pool.get('res.user')
        if is_manager() or is_integrator():
            return
        ModelAccess.check('sale.sale', 'write')
        if store.warehouse.id not in User.get_omni_warehouses():
            raise AccessError(gettext('omni_o2o.msg_pickup_other_store',
                    store=store.rec_name))

    @classmethod
    def pickup(cls, store_code, pickup_code, payment_method=None):
        """Hand the ready order of pickup_code over at the store; return it.
        An order paid at pickup is paid with the invoice payment method named
        payment_method. Wrong codes are logged and limited per store and
        minute"""
        pool = Pool()
        Attempt = pool.get('omni.order.pickup_attempt')
        Sale = pool.get('sale.sale')
        store = cls.channel(store_code, ['store'])
        with check_access():
            cls.check_pickup_door(store)
        if payment_method is not None:
            payment_method = cls.payment_method(
                payment_method, store.company)
        Attempt.check_rate(store)
        sales = Sale.search([
                ('omni_store', '=', store.id),
                ('o2o_state', '=', 'ready'),
                ('pickup_code', '=', str(pickup_code)),
                ], limit=1)
        if not sales:
            Attempt.log_failure(store, pickup_code)
            raise PickupError(gettext('omni_o2o.msg_pickup_code_wrong',
                    store=store.rec_name))
        Sale.hand_over(sales, payment_method)
        return cls.describe(sales[0])

    @classmethod
    def payment_method(cls, name, company):
        pool = Pool()
        Method = pool.get('account.invoice.payment.method')
        methods = Method.search([
                ('name', '=', name),
                ('company', '=', company.id),
                ], limit=1)
        if not methods:
            raise PickupError(gettext(
                    'omni_o2o.msg_pickup_payment_method_unknown', name=name))
        return methods[0]

    @classmethod
    def status(cls, number):
        "Return the state, fulfilment, store and timeline of the order"
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        Sale = pool.get('sale.sale')
        domain = [('number', '=', inputs.text(number, 'number', size=64))]
        if ModelAccess.check('sale.sale', 'read', raise_exception=False):
            # Users who read orders find those their rules show (store
            # staff: their store's)
            sales = Sale.search(domain, limit=1)
        elif is_integrator():
            with channel_gate():
                sales = Sale.search(domain, limit=1)
        else:
            ModelAccess.check('sale.sale', 'read')
        if not sales:
            raise OrderError(gettext(
                    'omni_o2o.msg_order_unknown', number=number))
        sale, = sales
        return {
            **cls.describe(sale),
            'fulfilment': sale.fulfilment,
            'timeline': [{
                    'state': e.state,
                    'at': e.create_date.isoformat(timespec='seconds'),
                    } for e in sale.omni_events],
            }

    @classmethod
    def search_center(cls, member_phone=None, store=None, limit=80):
        "Return the orders of every channel, newest first"
        pool = Pool()
        Center = pool.get('omni.order.center')
        Member = pool.get('omni.member')
        limit = int(inputs.quantity(limit, 'limit', maximum=1001))
        domain = []
        if member_phone:
            member = Member.lookup(member_phone)
            domain.append(('member', '=', member['id'] if member else -1))
        if store := inputs.text(store, 'store', size=32, required=False):
            domain.append(('store.code', '=', store))
        return [order.describe()
            for order in Center.search(domain, limit=limit)]

    @classmethod
    def describe(cls, sale):
        return {
            'number': sale.number,
            'state': sale.o2o_state or sale.state,
            'store': sale.omni_store.code if sale.omni_store else None,
            'total': str(sale.total_amount),
            'pay_at_pickup': bool(sale.pay_at_pickup),
            'lines': [{
                    'product': l.product.code,
                    'quantity': l.quantity,
                    'unit_price': str(l.unit_price),
                    'amount': str(l.amount),
                    } for l in sale.lines if l.type == 'line'],
            }


class PickupAttempt(ModelSQL, ModelView):
    "Wrong Pickup Code"
    __name__ = 'omni.order.pickup_attempt'

    store = fields.Many2One(
        'omni.channel', "Store", required=True, readonly=True,
        ondelete='CASCADE')
    code = fields.Char("Code Tried", readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def check_rate(cls, store):
        since = dt.datetime.now() - dt.timedelta(minutes=1)
        if cls.search_count([
                    ('store', '=', store.id),
                    ('create_date', '>=', since),
                    ]) >= PICKUP_ATTEMPTS_PER_MINUTE:
            raise PickupRateLimitError(gettext(
                    'omni_o2o.msg_pickup_rate_limit', store=store.rec_name))

    @classmethod
    def log_failure(cls, store, code):
        "Record the wrong code, even though the caller's work rolls back"
        transaction = Transaction()
        logger.info("wrong pickup code %r at %s", code, store.code)
        with transaction.new_transaction() as log_transaction:
            # Saved by the server whoever failed: nobody creates attempts
            cls.save([cls(
                        store=store.id, code=str(code)[:20],
                        user=transaction.user)])
            log_transaction.commit()


class Message(ModelSQL, ModelView):
    """Customer Message

    What was sent to a customer and how; senders plug in by extending
    `deliver`"""
    __name__ = 'omni.order.message'

    sale = fields.Many2One(
        'sale.sale', "Sale", readonly=True, ondelete='CASCADE')
    recipient = fields.Char("Recipient", readonly=True)
    masked_recipient = fields.Function(
        fields.Char("Recipient"), 'get_masked_recipient')
    text = fields.Text("Text", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def get_masked_recipient(cls, messages, name):
        # Straight from the table: the staff who see the masked number may
        # not read the whole one
        message = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*message.select(message.id, message.recipient,
                where=message.id.in_([m.id for m in messages])))
        return {id_: mask_phone(recipient) for id_, recipient in cursor}

    @classmethod
    def send_pickup_codes(cls, sales):
        messages = [cls(sale=s, recipient=s.party.phone_key,
                text=gettext('omni_o2o.msg_pickup_code_text',
                    store=s.omni_store.name, number=s.number,
                    code=s.pickup_code))
            for s in sales]
        cls.save(messages)
        cls.deliver(messages)

    @classmethod
    def deliver(cls, messages):
        "Send the messages; by default they are only logged"
        for message in messages:
            logger.info("message to %s: %s", message.recipient, message.text)


class PickSlip(Report):
    "The slip the store picks an order's goods by"
    __name__ = 'omni.order.pick_slip'


class HandOverStart(ModelView):
    "Hand Over a Pickup"
    __name__ = 'omni.order.hand_over.start'

    store = fields.Many2One(
        'omni.channel', "Store", required=True,
        domain=[('kind', '=', 'store'), ('pickup', '=', True)])
    code = fields.Char("Pickup Code", required=True, strip=True,
        help="The code the customer shows.")
    payment_method = fields.Many2One(
        'account.invoice.payment.method', "Payment Method",
        help="How the customer pays an order not paid online.")

    @classmethod
    def default_store(cls):
        pool = Pool()
        User = pool.get('res.user')
        store = User(Transaction().user).omni_store
        return store.id if store else None


class HandOver(Wizard):
    "Hand Over a Pickup"
    __name__ = 'omni.order.hand_over'
    start = StateView('omni.order.hand_over.start',
        'omni_o2o.hand_over_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Hand Over", 'hand_over', 'tryton-ok', default=True),
            ])
    hand_over = StateAction('omni_o2o.act_store_order_form')

    def do_hand_over(self, action):
        pool = Pool()
        Order = pool.get('omni.order')
        Sale = pool.get('sale.sale')
        method = self.start.payment_method
        order = Order.pickup(self.start.store.code, self.start.code,
            method.name if method else None)
        sale, = Sale.search([('number', '=', order['number'])], limit=1)
        return action, {'res_id': [sale.id]}
