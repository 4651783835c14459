# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
from collections import defaultdict

from sql import Null
from sql.aggregate import Max

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import sqlite_apply_types
from trytond.transaction import Transaction

from .exceptions import StockAlertError
from .product import ProductOrCategoryMixin
from .tools import check_manager

KINDS = [
    ('below_minimum', "Below Minimum"),
    ('above_maximum', "Above Maximum"),
    ('slow_mover', "Slow Mover"),
    ('near_expiry', "Near Expiry"),
    ]
OPEN = ['open', 'acknowledged']


class Channel(metaclass=PoolMeta):
    __name__ = 'omni.channel'

    slow_mover_days = fields.Integer(
        "Slow Mover Days",
        domain=['OR',
            ('slow_mover_days', '=', None),
            ('slow_mover_days', '>', 0),
            ],
        states={
            'invisible': Eval('kind') != 'store',
            },
        help="Goods on hand that sold nothing for these days are slow "
        "movers.")

    near_expiry_days = fields.Integer(
        "Near Expiry Days",
        domain=['OR',
            ('near_expiry_days', '=', None),
            ('near_expiry_days', '>=', 0),
            ],
        states={
            'invisible': Eval('kind') != 'store',
            },
        help="Goods in lots expiring within these days are near expiry.")

    @classmethod
    def default_slow_mover_days(cls):
        return 30

    @classmethod
    def default_near_expiry_days(cls):
        return 7


class Threshold(ProductOrCategoryMixin, ModelSQL, ModelView):
    "Stock Threshold"
    __name__ = 'omni.stock.threshold'
    _product_or_category_error = (
        StockAlertError, 'omni_retail.msg_threshold_product_or_category')

    store = fields.Many2One(
        'omni.channel', "Store", domain=[('kind', '=', 'store')],
        ondelete='CASCADE', help="Empty for every store.")
    minimum = fields.Float(
        "Minimum", domain=['OR',
            ('minimum', '=', None),
            ('minimum', '>=', 0),
            ])
    maximum = fields.Float(
        "Maximum", domain=['OR',
            ('maximum', '=', None),
            ('maximum', '>=', Eval('minimum', 0)),
            ])
    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.category.help = "The default of the category's products."

    @classmethod
    def for_levels(cls, levels, stores):
        """Return {(store id, product id): (minimum, maximum)} of the levels:
        the product's own threshold before its category's, a store's
        before every store's"""
        thresholds = cls.search([])
        ranked = {}
        for threshold in thresholds:
            key = ('product', threshold.product.id) if threshold.product else (
                'category', threshold.category.id)
            ranked[(key, threshold.store.id if threshold.store else None)] = (
                threshold.minimum, threshold.maximum)
        result = {}
        for level in levels:
            store = stores[level.warehouse.id]
            product = level.product
            keys = [('product', product.id)] + [
                ('category', c.id) for c in product.categories_all]
            for key in keys:
                found = ranked.get((key, store.id), ranked.get((key, None)))
                if found:
                    result[(store.id, product.id)] = found
                    break
        return result


class Alert(Workflow, ModelSQL, ModelView):
    "Stock Alert"
    __name__ = 'omni.stock.alert'

    store = fields.Many2One(
        'omni.channel', "Store", required=True, readonly=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='CASCADE')
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    kind_string = kind.translated('kind')
    quantity = fields.Float("On Hand", readonly=True)
    threshold = fields.Float(
        "Threshold", readonly=True,
        help="The minimum, the maximum or the days without a sale.")
    state = fields.Selection([
            ('open', "Open"),
            ('acknowledged', "Acknowledged"),
            ('resolved', "Resolved"),
            ], "State", required=True, readonly=True, sort=False)
    resolved_date = fields.DateTime("Resolved", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                # A manager's door (check_manager): the computation reads and
                # writes every store's alerts and suggestions
                'compute': RPC(readonly=False, check_access=False),
                })
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'acknowledged'),
            ('open', 'resolved'),
            ('acknowledged', 'resolved'),
            }
        cls._buttons.update({
                'acknowledge': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'resolve': {
                    'invisible': ~Eval('state').in_(OPEN),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    @ModelView.button
    @Workflow.transition('acknowledged')
    def acknowledge(cls, alerts):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('resolved')
    def resolve(cls, alerts):
        cls.write(alerts, {'resolved_date': dt.datetime.now()})

    @classmethod
    def compute(cls):
        """Open the alerts the stock levels call for, resolve those they no
        longer do, notify each store of its new ones and propose the
        transfers between stores they call for"""
        check_manager()
        pool = Pool()
        Channel = pool.get('omni.channel')
        Level = pool.get('omni.stock.level')
        Suggestion = pool.get('omni.stock.transfer_suggestion')
        Threshold = pool.get('omni.stock.threshold')
        stores = {s.warehouse.id: s for s in Channel.search([
                    ('kind', '=', 'store'),
                    ('warehouse', '!=', None),
                    ])}
        levels = Level.search([('warehouse', 'in', list(stores))])
        thresholds = Threshold.for_levels(levels, stores)
        last_sales = cls.last_sales(stores)
        wanted = {}
        for level in levels:
            store = stores[level.warehouse.id]
            for kind, threshold in cls.kinds(level, store,
                    thresholds.get((store.id, level.product.id)),
                    last_sales.get((level.warehouse.id, level.product.id))):
                wanted[(store.id, level.product.id, kind)] = (
                    level.on_hand, threshold)
        for (warehouse, product), quantity in cls.near_expiry(stores).items():
            store = stores[warehouse]
            wanted[(store.id, product, 'near_expiry')] = (
                quantity, store.near_expiry_days)
        current = {(a.store.id, a.product.id, a.kind): a
            for a in cls.search([('state', 'in', OPEN)])}
        cls.resolve([a for k, a in current.items() if k not in wanted])
        new = [cls(store=s, product=p, kind=k, quantity=q, threshold=t)
            for (s, p, k), (q, t) in wanted.items() if (s, p, k) not in current]
        cls.save(new)
        cls.notify(new)
        Suggestion.propose(levels, stores, thresholds, wanted.keys())
        return len(new)

    @classmethod
    def kinds(cls, level, store, threshold, last_sale):
        "Yield (kind, threshold) of the alerts the level calls for"
        minimum, maximum = threshold or (None, None)
        if minimum is not None and level.on_hand < minimum:
            yield 'below_minimum', minimum
        if maximum is not None and level.on_hand > maximum:
            yield 'above_maximum', maximum
        days = store.slow_mover_days
        if days and level.on_hand > 0:
            since = last_sale or level.create_date
            if since and since < dt.datetime.now() - dt.timedelta(days=days):
                yield 'slow_mover', days

    @classmethod
    def near_expiry(cls, stores):
        """Return {(warehouse id, product id): quantity} of the goods on hand
        in lots that expire within each store's near expiry days"""
        pool = Pool()
        Date = pool.get('ir.date')
        Lot = pool.get('stock.lot')
        Product = pool.get('product.product')
        today = Date.today()
        result = defaultdict(float)
        days = {w: s.near_expiry_days for w, s in stores.items()
            if s.near_expiry_days is not None}
        if not days:
            return result
        lots = {l.id: l.expiration_date for l in Lot.search([
                    ('expiration_date', '<=',
                        today + dt.timedelta(days=max(days.values()))),
                    ])}
        if not lots:
            return result
        with Transaction().set_context(stock_date_end=today):
            quantities = Product.products_by_location(
                list(days), with_childs=True, grouping=('product', 'lot'),
                grouping_filter=(None, list(lots)))
        for (warehouse, product, lot), quantity in quantities.items():
            if (quantity > 0 and lots[lot]
                    <= today + dt.timedelta(days=days[warehouse])):
                result[(warehouse, product)] += quantity
        return result

    @classmethod
    def last_sales(cls, stores):
        """Return {(warehouse id, product id): datetime} of the last goods
        that left each warehouse for a customer"""
        pool = Pool()
        Location = pool.get('stock.location')
        Move = pool.get('stock.move')
        move = Move.__table__()
        source = Location.__table__()
        target = Location.__table__()
        warehouse = Location.__table__()
        query = (move
            .join(source, condition=source.id == move.from_location)
            .join(target, condition=target.id == move.to_location)
            .join(warehouse, condition=(warehouse.left <= source.left)
                & (source.right <= warehouse.right))
            .select(warehouse.id, move.product,
                Max(move.effective_date).as_('last_sale'),
                where=(move.state == 'done')
                & (target.type == 'customer')
                & (move.effective_date != Null)
                & fields.SQL_OPERATORS['in'](warehouse.id, list(stores)),
                group_by=[warehouse.id, move.product]))
        if backend.name == 'sqlite':
            sqlite_apply_types(query, [None, None, 'DATE'])
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return {(w, p): dt.datetime.combine(d, dt.time())
            for w, p, d in cursor}

    @classmethod
    def notify(cls, alerts):
        "Tell the users of each store about its new alerts"
        pool = Pool()
        Notification = pool.get('res.notification')
        User = pool.get('res.user')
        by_store = defaultdict(list)
        for alert in alerts:
            by_store[alert.store].append(alert)
        notifications = []
        for store, store_alerts in by_store.items():
            for user in User.search([('omni_store', '=', store.id)]):
                notifications.append(Notification(user=user,
                        label=gettext('omni_retail.msg_stock_alert_label',
                            count=len(store_alerts), store=store.rec_name),
                        description=', '.join(
                            f'{a.product.rec_name}: {a.kind_string}'
                            for a in store_alerts[:5]),
                        model='omni.stock.alert',
                        records=str([a.id for a in store_alerts])))
        Notification.save(notifications)


class Stock(metaclass=PoolMeta):
    __name__ = 'omni.stock'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'alerts': RPC(readonly=True),
                })

    @classmethod
    def alerts(cls, store_codes=None, kinds=None):
        """Return the open and acknowledged alerts of the stores and kinds
        (all by default)"""
        pool = Pool()
        Alert = pool.get('omni.stock.alert')
        Channel = pool.get('omni.channel')
        ModelAccess = pool.get('ir.model.access')
        ModelAccess.check('omni.stock.alert', 'read')
        domain = [('state', 'in', OPEN)]
        if store_codes:
            stores = Channel.search([
                    ('code', 'in', list(store_codes)),
                    ('kind', '=', 'store'),
                    ])
            missing = set(store_codes) - {s.code for s in stores}
            if missing:
                raise StockAlertError(gettext(
                        'omni_retail.msg_stock_alert_store',
                        store=', '.join(sorted(missing))))
            domain.append(('store', 'in', [s.id for s in stores]))
        if kinds:
            unknown = set(kinds) - {k for k, _ in KINDS}
            if unknown:
                raise StockAlertError(gettext(
                        'omni_retail.msg_stock_alert_kind',
                        kind=', '.join(sorted(unknown)),
                        kinds=', '.join(k for k, _ in KINDS)))
            domain.append(('kind', 'in', list(kinds)))
        return [{
                'product': a.product.code,
                'store': a.store.code,
                'kind': a.kind,
                'quantity': a.quantity,
                'threshold': a.threshold,
                'state': a.state,
                } for a in Alert.search(domain)]


class TransferSuggestion(Workflow, ModelSQL, ModelView):
    """Transfer Suggestion

    Goods one store has too many of, or does not sell, that another store
    lacks"""
    __name__ = 'omni.stock.transfer_suggestion'

    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='CASCADE')
    from_store = fields.Many2One(
        'omni.channel', "From Store", required=True, readonly=True,
        ondelete='CASCADE')
    to_store = fields.Many2One(
        'omni.channel', "To Store", required=True, readonly=True,
        ondelete='CASCADE')
    quantity = fields.Float("Quantity", required=True, readonly=True)
    reason = fields.Selection([(None, "")] + KINDS, "Reason", readonly=True,
        help="Why the sending store can spare the goods.")
    shipment = fields.Many2One(
        'stock.shipment.internal', "Shipment", readonly=True)
    state = fields.Selection([
            ('proposed', "Proposed"),
            ('shipped', "Shipment Created"),
            ('dismissed', "Dismissed"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('product', 'ASC'), ('quantity', 'DESC'), ('id', 'ASC')]
        cls._transitions |= {
            ('proposed', 'shipped'),
            ('proposed', 'dismissed'),
            }
        cls._buttons.update({
                'create_shipment': {
                    'invisible': Eval('state') != 'proposed',
                    'depends': ['state'],
                    },
                'dismiss': {
                    'invisible': Eval('state') != 'proposed',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'proposed'

    @classmethod
    def propose(cls, levels, stores, thresholds, alerts):
        """Replace the proposed suggestions by those the alerts call for:
        the spare goods of stores above their maximum or not selling, to
        the stores below their minimum"""
        pool = Pool()
        Product = pool.get('product.product')
        cls.delete(cls.search([('state', '=', 'proposed')]))
        on_hand = {(stores[l.warehouse.id].id, l.product.id): l.on_hand
            for l in levels}
        # Goods on their way count as arrived and as left
        on_the_way = defaultdict(float)
        for suggestion in cls.search([
                    ('state', '=', 'shipped'),
                    ('shipment.state', 'not in', ['done', 'cancelled']),
                    ]):
            product = suggestion.product.id
            on_the_way[(suggestion.to_store.id, product)] += (
                suggestion.quantity)
            on_the_way[(suggestion.from_store.id, product)] -= (
                suggestion.quantity)
        spare, short = defaultdict(dict), defaultdict(list)
        for store, product, kind in alerts:
            minimum, maximum = thresholds.get((store, product), (None, None))
            quantity = (on_hand[(store, product)]
                + on_the_way[(store, product)])
            if kind == 'below_minimum':
                short[product].append([minimum - quantity, store])
                continue
            if kind == 'above_maximum':
                offer = [quantity - maximum, store, kind]
            elif kind == 'slow_mover':
                offer = [quantity - (minimum or 0), store, kind]
            else:
                continue
            # A store offers its goods once, for its largest reason
            spare[product][store] = max(
                spare[product].get(store, offer), offer)
        suggestions = []
        for product, needs in short.items():
            offers = sorted(
                (o for o in spare[product].values() if o[0] > 0),
                reverse=True)
            for need in sorted(needs, reverse=True):
                for offer in offers:
                    quantity = Product(product).default_uom.floor(
                        min(need[0], offer[0]))
                    if quantity <= 0 or offer[1] == need[1]:
                        continue
                    suggestions.append(cls(product=product,
                            from_store=offer[1], to_store=need[1],
                            quantity=quantity, reason=offer[2]))
                    need[0] -= quantity
                    offer[0] -= quantity
        cls.save(suggestions)
        return suggestions

    @classmethod
    @ModelView.button
    @Workflow.transition('shipped')
    def create_shipment(cls, suggestions):
        """Ship the suggested goods between the stores, reserved at the
        sending store"""
        pool = Pool()
        Move = pool.get('stock.move')
        Shipment = pool.get('stock.shipment.internal')
        shipments = []
        for suggestion in suggestions:
            source = suggestion.from_store.warehouse.storage_location
            target = suggestion.to_store.warehouse.storage_location
            product = suggestion.product
            suggestion.shipment = Shipment(
                from_location=source, to_location=target,
                moves=[Move(product=product, unit=product.default_uom,
                        quantity=suggestion.quantity,
                        from_location=source, to_location=target)])
            shipments.append(suggestion.shipment)
        Shipment.save(shipments)
        Shipment.wait(shipments)
        Move.reserve([m for s in shipments for m in s.assign_moves
                if m.assignation_required])
        Shipment.assign(shipments)
        cls.save(suggestions)

    @classmethod
    @ModelView.button
    @Workflow.transition('dismissed')
    def dismiss(cls, suggestions):
        pass
