# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import ChannelValidationError
from .tools import shared_answer

KINDS = [
    ('store', "Store"),
    ('online', "Online Mall"),
    ('platform', "Delivery Platform"),
    ]


class Channel(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'omni.channel'
    # Asked at every scan of a till
    _store_of_point = Cache('omni.channel.store_of_point', context=False)

    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False)
    company = fields.Many2One('company.company', "Company", required=True)
    warehouse = fields.Many2One(
        'stock.location', "Warehouse", required=True,
        domain=[('type', '=', 'warehouse')],
        help="The stock this channel sells from.")
    sale_point = fields.Many2One(
        'sale.point', "Point of Sale", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'invisible': Eval('kind') != 'store',
            'required': Eval('kind') == 'store',
            })
    web_shop = fields.Many2One(
        'web.shop', "Web Shop", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'invisible': Eval('kind') != 'online',
            'required': Eval('kind') == 'online',
            })
    address = fields.Many2One(
        'party.address', "Address", ondelete='RESTRICT')
    latitude = fields.Numeric(
        "Latitude", digits=(9, 6),
        domain=['OR',
            ('latitude', '=', None),
            [('latitude', '>=', -90), ('latitude', '<=', 90)],
            ])
    longitude = fields.Numeric(
        "Longitude", digits=(9, 6),
        domain=['OR',
            ('longitude', '=', None),
            [('longitude', '>=', -180), ('longitude', '<=', 180)],
            ])
    priority = fields.Integer(
        "Allocation Priority", required=True,
        help="Channels with a lower number are served first "
        "when stock is allocated.")
    pickup = fields.Boolean(
        "Pickup in Store",
        help="Customers may collect online orders here.")
    delivery = fields.Boolean(
        "Delivery from Store",
        help="Orders may be delivered to customers from here.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Unique(t, t.code),
                'omni_retail.msg_channel_code_unique'),
            ('sale_point_unique', Unique(t, t.sale_point),
                'omni_retail.msg_channel_sale_point_unique'),
            ('web_shop_unique', Unique(t, t.web_shop),
                'omni_retail.msg_channel_web_shop_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.kind, Index.Equality(cardinality='low')),
                where=t.active == True))  # noqa: E712
        cls._order = [('priority', 'ASC'), ('code', 'ASC'), ('id', 'ASC')]

    @classmethod
    def store_of_point(cls, point):
        "Return the store whose till is point, or None"
        store_id = cls._store_of_point.get(point.id, -1)
        if store_id == -1:
            with shared_answer():
                stores = cls.search([('sale_point', '=', point.id)], limit=1)
            store_id = stores[0].id if stores else None
            cls._store_of_point.set(point.id, store_id)
        return cls(store_id) if store_id is not None else None

    @classmethod
    def on_modification(cls, mode, channels, field_names=None):
        super().on_modification(mode, channels, field_names=field_names)
        if mode != 'write' or 'sale_point' in field_names:
            cls._store_of_point.clear()

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_kind(cls):
        return 'store'

    @classmethod
    def default_priority(cls):
        return 10

    @classmethod
    def default_pickup(cls):
        return False

    @classmethod
    def default_delivery(cls):
        return False

    @fields.depends('kind', 'sale_point', 'web_shop', 'pickup', 'delivery')
    def on_change_kind(self):
        if self.kind != 'store':
            self.sale_point = None
            self.pickup = self.delivery = False
        if self.kind != 'online':
            self.web_shop = None

    @fields.depends('sale_point', 'warehouse')
    def on_change_sale_point(self):
        if self.sale_point and not self.warehouse:
            location = self.sale_point.storage_location
            self.warehouse = location.warehouse if location else None

    def get_rec_name(self, name):
        return f'[{self.code}] {self.name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('code', operator, operand, *extra),
            ('name', operator, operand, *extra),
            ]

    @classmethod
    def validate_fields(cls, channels, field_names):
        super().validate_fields(channels, field_names)
        cls.check_sale_point_warehouse(channels, field_names)

    @classmethod
    def check_sale_point_warehouse(cls, channels, field_names=None):
        "Check that a store's till sells from the store's own warehouse"
        if field_names and not (field_names & {'sale_point', 'warehouse'}):
            return
        for channel in channels:
            if not channel.sale_point:
                continue
            location = channel.sale_point.storage_location
            if location.warehouse != channel.warehouse:
                raise ChannelValidationError(gettext(
                        'omni_retail.msg_channel_sale_point_warehouse',
                        channel=channel.rec_name,
                        sale_point=channel.sale_point.rec_name,
                        location=location.rec_name,
                        warehouse=channel.warehouse.rec_name))
