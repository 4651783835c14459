# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import hashlib
import hmac
import json
import time
from collections import defaultdict
from http import HTTPStatus

from trytond.i18n import gettext
from trytond.model import Model, ModelSQL, Unique, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from omni_o2o.exceptions import UnknownProductError
from omni_retail import inputs
from omni_retail.exceptions import PriceError, StockShortageError

from .exceptions import PlatformError

SIGNATURE_HEADER = 'X-Omni-Signature'
TIMESTAMP_HEADER = 'X-Omni-Timestamp'
CLOCK_SKEW = 5 * 60
ADAPTERS = [
    ('generic', "Generic"),
    ]


class PlatformSecret(ModelSQL):
    "Webhook secret of a platform channel, read by the server alone"
    __name__ = 'omni.platform.secret'

    channel = fields.Many2One(
        'omni.channel', "Channel", required=True, ondelete='CASCADE')
    secret = fields.Char("Secret", required=True, strip=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('channel_unique', Unique(t, t.channel),
                'omni_platform.msg_platform_secret_unique'),
            ]


class Platform(Model):
    """Delivery platforms' webhooks

    Each call is signed by the platform; an order is placed once whatever
    the number of deliveries; a refusal writes nothing"""
    __name__ = 'omni.platform'

    @classmethod
    def receive_order(cls, code, body, headers):
        "Place the order of body; return its description"
        pool = Pool()
        Order = pool.get('omni.order')
        channel = cls.verified_channel(code, body, headers)
        data = cls.loads(body)
        payload = getattr(cls, f'{channel.platform_adapter}_order')(
            channel, data)
        with Transaction().set_context(company=channel.company.id):
            try:
                placed = Order.placed(channel, payload['reference'])
                if placed:
                    return Order.describe(placed)
                cls.refuse_short(channel, payload)
                return Order.place(payload)
            except StockShortageError as error:
                raise PlatformError(HTTPStatus.CONFLICT, error.message) from (
                    error)
            except (UnknownProductError, PriceError) as error:
                raise PlatformError(
                    HTTPStatus.UNPROCESSABLE_ENTITY, error.message) from error

    @classmethod
    def refuse_short(cls, channel, payload):
        "Refuse at once an order its store is already short of"
        pool = Pool()
        Level = pool.get('omni.stock.level')
        Order = pool.get('omni.order')
        needs = defaultdict(float)
        for product, quantity in Order.payload_lines(payload['lines']):
            needs[(product.id, channel.warehouse.id)] += quantity
        Level.refuse_short(needs, Level.get(
                {p for p, _ in needs}, {channel.warehouse.id}))

    @classmethod
    def receive_status(cls, code, body, headers):
        "Follow the platform's news of an order; return its description"
        pool = Pool()
        Order = pool.get('omni.order')
        channel = cls.verified_channel(code, body, headers)
        reference, status = getattr(
            cls, f'{channel.platform_adapter}_status')(
            channel, cls.loads(body))
        sale = Order.placed(channel, reference)
        if not sale:
            raise PlatformError(HTTPStatus.NOT_FOUND, gettext(
                    'omni_platform.msg_platform_order_unknown',
                    order=reference))
        with Transaction().set_context(company=channel.company.id):
            cls.follow(sale, status)
        return Order.describe(sale)

    @classmethod
    def follow(cls, sale, status):
        "Move the order to the platform's status, once"
        pool = Pool()
        Sale = pool.get('sale.sale')
        done = {
            'cancelled': {'cancelled'},
            'rider_picked_up': {'dispatched', 'delivered'},
            'delivered': {'delivered'},
            }[status]
        if sale.o2o_state in done:
            return
        if status == 'cancelled' and sale.o2o_state in {'reserved', 'ready'}:
            Sale.o2o_cancel([sale])
        elif status in {'rider_picked_up', 'delivered'} and (
                sale.o2o_state in {'reserved', 'ready', 'dispatched'}):
            Sale.dispatch([sale])
            if status == 'delivered':
                Sale.set_o2o_state([sale], 'delivered')
        else:
            raise PlatformError(HTTPStatus.CONFLICT, gettext(
                    'omni_platform.msg_platform_status_conflict',
                    order=sale.omni_reference, status=status,
                    state=sale.o2o_state_string))

    @classmethod
    def availability(cls, code, query, headers):
        """Return what the platform's store has available of the products
        the platform lists: {"store": code, "products": {code: quantity}}"""
        pool = Pool()
        Level = pool.get('omni.stock.level')
        Product = pool.get('product.product')
        channel = cls.verified_channel(code, query, headers)
        store = channel.serving_store
        products = [p for p in Product.search([
                    ('salable', '=', True),
                    ('type', '=', 'goods'),
                    ])
            if channel.is_listed(p)]
        levels = Level.get({p.id for p in products},
            {channel.warehouse.id})
        available = {p: l.available for (p, _), l in levels.items()}
        return {
            'store': store.code if store else None,
            'products': {p.code: max(available.get(p.id, 0), 0)
                for p in products},
            }

    @classmethod
    def verified_channel(cls, code, body, headers):
        """Return the platform channel of code if the call bears its
        signature of body and a fresh timestamp"""
        pool = Pool()
        Channel = pool.get('omni.channel')
        channels = Channel.search([
                ('code', '=', code),
                ('kind', '=', 'platform'),
                ], limit=1)
        secret = channels[0].webhook_secret if channels else None
        if not secret:
            raise PlatformError(HTTPStatus.NOT_FOUND, gettext(
                    'omni_platform.msg_platform_unknown', channel=code))
        channel, = channels
        try:
            timestamp = int(headers.get(TIMESTAMP_HEADER, ''))
        except ValueError:
            timestamp = None
        if timestamp is None or abs(time.time() - timestamp) > CLOCK_SKEW:
            raise PlatformError(HTTPStatus.UNAUTHORIZED, gettext(
                    'omni_platform.msg_platform_timestamp'))
        if not hmac.compare_digest(
                headers.get(SIGNATURE_HEADER, '').encode('utf-8'),
                sign(secret, body, timestamp).encode('utf-8')):
            raise PlatformError(HTTPStatus.UNAUTHORIZED, gettext(
                    'omni_platform.msg_platform_signature'))
        return channel

    @classmethod
    def loads(cls, body):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise PlatformError(HTTPStatus.BAD_REQUEST, gettext(
                    'omni_platform.msg_platform_body'))
        return data

    @classmethod
    def generic_order(cls, channel, data):
        """Return the order payload of a generic platform order:
        {"order_id", "customer": {"phone", "name"}, "address": {...},
        "lines": [{"sku", "quantity"}], "note"}"""
        store = channel.serving_store
        lines = data.get('lines')
        customer = data.get('customer')
        if (not data.get('order_id') or not isinstance(lines, list)
                or not all(isinstance(l, dict) for l in lines)
                or not isinstance(customer, dict)):
            raise PlatformError(HTTPStatus.BAD_REQUEST, gettext(
                    'omni_platform.msg_platform_order_fields'))
        return {
            'channel': channel.code,
            'reference': inputs.text(data['order_id'], 'order_id', size=64),
            'fulfilment': 'store_delivery',
            'store': store.code if store else None,
            'member_phone': customer.get('phone'),
            'member_name': customer.get('name'),
            'address': data.get('address') or {},
            'lines': [{
                    'product': inputs.text(l.get('sku'), 'sku', size=64),
                    'quantity': l.get('quantity'),
                    } for l in lines],
            }

    @classmethod
    def generic_status(cls, channel, data):
        "Return (order reference, status) of a generic status message"
        status = data.get('status')
        if not data.get('order_id') or status not in {
                'cancelled', 'rider_picked_up', 'delivered'}:
            raise PlatformError(HTTPStatus.BAD_REQUEST, gettext(
                    'omni_platform.msg_platform_status_fields'))
        return inputs.text(data['order_id'], 'order_id', size=64), status


def sign(secret, body, timestamp):
    """Return the signature header value of body sent at timestamp (the
    timestamp header's value): the HMAC-SHA256 with secret of
    "<timestamp>.<body>", so that a call cannot be replayed later"""
    if isinstance(body, str):
        body = body.encode()
    digest = hmac.new(secret.encode(), f'{timestamp}.'.encode() + body,
        hashlib.sha256).hexdigest()
    return f'sha256={digest}'


def signed_headers(secret, body, timestamp=None):
    "Return the headers of a platform's call of body signed now or then"
    timestamp = str(int(time.time() if timestamp is None else timestamp))
    return {
        SIGNATURE_HEADER: sign(secret, body, timestamp),
        TIMESTAMP_HEADER: timestamp,
        }
