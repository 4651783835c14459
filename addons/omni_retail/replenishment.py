# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import logging
import math

from sql.aggregate import Sum

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import ChannelValidationError
from .tools import check_manager

logger = logging.getLogger(__name__)


class Channel(metaclass=PoolMeta):
    __name__ = 'omni.channel'

    sales_window = fields.Integer(
        "Sales Window", required=True,
        domain=[('sales_window', '>', 0)],
        help="The days of sales whose average gives the daily velocity.")
    lead_time = fields.Integer(
        "Lead Time", required=True,
        domain=[('lead_time', '>=', 0)],
        help="The days between an order for goods and their arrival.")
    review_period = fields.Integer(
        "Review Period", required=True,
        domain=[('review_period', '>=', 0)],
        help="The days between two orders for the same goods.")
    replenish_from = fields.Many2One(
        'stock.location', "Replenish From",
        domain=[('type', '=', 'warehouse')],
        states={
            'invisible': Eval('kind') != 'store',
            },
        help="The warehouse that ships the goods to this store.\n"
        "Empty: the goods are purchased for the store.")

    @classmethod
    def default_sales_window(cls):
        return 28

    @classmethod
    def default_lead_time(cls):
        return 2

    @classmethod
    def default_review_period(cls):
        return 7

    @classmethod
    def validate_fields(cls, channels, field_names):
        super().validate_fields(channels, field_names)
        if field_names and not (field_names & {'replenish_from', 'warehouse'}):
            return
        for channel in channels:
            if channel.replenish_from == channel.warehouse:
                raise ChannelValidationError(gettext(
                        'omni_retail.msg_channel_replenish_from_itself',
                        channel=channel.rec_name))


class OrderPoint(metaclass=PoolMeta):
    __name__ = 'stock.order_point'

    omni_velocity = fields.Boolean(
        "From Sales Velocity", readonly=True,
        help="Kept by the replenishment from the store's sales.")

    @classmethod
    def default_omni_velocity(cls):
        return False


class Replenishment(ModelSQL, ModelView):
    """Replenishment

    The figures behind the order point of a product at a store: its daily
    sales, lead time and review period"""
    __name__ = 'omni.stock.replenishment'

    store = fields.Many2One(
        'omni.channel', "Store", required=True, readonly=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='CASCADE')
    sold = fields.Float("Sold", readonly=True,
        help="The quantity sold over the sales window, every channel.")
    velocity = fields.Float("Daily Sales", digits=(16, 2), readonly=True)
    safety = fields.Float("Safety Stock", readonly=True)
    reorder_point = fields.Float("Reorder Point", readonly=True,
        help="Daily sales × lead time + safety stock: order below it.")
    target = fields.Float("Order Up To", readonly=True,
        help="Daily sales × (lead time + review period) + safety stock.")
    projected = fields.Float("Projected", readonly=True,
        help="The stock forecast at the end of the lead time: on hand, "
        "goods on their way in and planned to leave.")
    quantity = fields.Float("Suggested Quantity", readonly=True)
    method = fields.Selection([
            ('purchase', "Purchase Request"),
            ('transfer', "Transfer from Warehouse"),
            ('manual', "Manual Order Point"),
            ], "Method", readonly=True,
        help="Manual: the store's own order point for the product is kept.")
    order_point = fields.Many2One(
        'stock.order_point', "Order Point", readonly=True,
        ondelete='SET NULL')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('quantity', 'DESC'), ('store', 'ASC'), ('product', 'ASC'),
            ('id', 'ASC')]
        cls.__rpc__.update({
                # A manager's door (check_manager): the figures and order
                # points of every store are replaced
                'replenish': RPC(readonly=False, check_access=False),
                })
        cls._buttons.update({
                'supply': {},
                })

    @classmethod
    def replenish(cls):
        "Compute the figures and supply what they call for"
        check_manager()
        cls.supply(cls.compute())

    @classmethod
    def compute(cls):
        """Replace the figures by today's and keep the velocity order points
        of every store in line with them"""
        pool = Pool()
        Channel = pool.get('omni.channel')
        Level = pool.get('omni.stock.level')
        OrderPoint = pool.get('stock.order_point')
        stores = Channel.search([('kind', '=', 'store')])
        cls.delete(cls.search([]))
        kept = OrderPoint.search([('omni_velocity', '=', True)])
        figures = []
        for store in stores:
            sold = cls.sold_quantities(store)
            levels = Level.get(
                {p for p, _ in sold}, {store.warehouse.id}) if sold else {}
            projected = cls.projected_quantities(store, [p for p, _ in sold])
            for product_id, quantity in sold:
                level = levels.get((product_id, store.warehouse.id))
                figures.append(cls.figure(store, product_id, quantity,
                        level.safety if level else 0,
                        projected.get(product_id, 0)))
        points = cls.velocity_order_points(figures)
        # In slices: SQLite checks the order points' exclusion constraint
        # with one query whose depth grows with their number
        for sub_points in grouped_slice([p for p in points if p], 10):
            OrderPoint.save(list(sub_points))
        for figure, point in zip(figures, points):
            figure.order_point = point
            if point and not point.omni_velocity:
                figure.method = 'manual'
        current = set(points)
        OrderPoint.delete([p for p in kept if p not in current])
        cls.save(figures)
        logger.info("replenishment: %s products at %s stores",
            len(figures), len(stores))
        return figures

    @classmethod
    def sold_quantities(cls, store):
        """Return [(product id, quantity)] that left the store for customers
        over its sales window, whichever channel sold them"""
        pool = Pool()
        Date = pool.get('ir.date')
        Location = pool.get('stock.location')
        Move = pool.get('stock.move')
        move = Move.__table__()
        source = Location.__table__()
        target = Location.__table__()
        warehouse = store.warehouse
        since = Date.today() - dt.timedelta(days=store.sales_window)
        query = (move
            .join(source, condition=source.id == move.from_location)
            .join(target, condition=target.id == move.to_location)
            .select(move.product, Sum(move.internal_quantity),
                where=(move.state == 'done')
                & (target.type == 'customer')
                & (source.left >= warehouse.left)
                & (source.right <= warehouse.right)
                & (move.effective_date > since),
                group_by=[move.product]))
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return [(p, q) for p, q in cursor if q > 0]

    @classmethod
    def projected_quantities(cls, store, product_ids):
        "Return {product id: forecast quantity} at the end of the lead time"
        pool = Pool()
        Date = pool.get('ir.date')
        Product = pool.get('product.product')
        if not product_ids:
            return {}
        end = Date.today() + dt.timedelta(days=store.lead_time)
        with Transaction().set_context(forecast=True, stock_date_end=end):
            quantities = Product.products_by_location(
                [store.warehouse.id], with_childs=True,
                grouping_filter=(list(product_ids),))
        return {p: q for (_, p), q in quantities.items()}

    @classmethod
    def figure(cls, store, product_id, sold, safety, projected):
        "Return the replenishment of the product at the store"
        pool = Pool()
        Product = pool.get('product.product')
        product = Product(product_id)
        velocity = sold / store.sales_window
        reorder_point = math.ceil(velocity * store.lead_time + safety)
        target = max(math.ceil(
                velocity * (store.lead_time + store.review_period) + safety),
            reorder_point, 1)
        quantity = 0
        if projected < reorder_point:
            quantity = product.default_uom.ceil(target - projected)
        return cls(store=store, product=product, sold=sold,
            velocity=round(velocity, 2), safety=safety,
            reorder_point=reorder_point, target=target, projected=projected,
            quantity=quantity,
            method='transfer' if store.replenish_from else 'purchase')

    @classmethod
    def velocity_order_points(cls, figures):
        """Return the order point of each figure: the velocity one, new or
        updated, or the store's own (left untouched), None for goods that
        cannot have one"""
        pool = Pool()
        OrderPoint = pool.get('stock.order_point')
        existing = {(p.product.id, p.location.id): p
            for p in OrderPoint.search([])}
        points = []
        for figure in figures:
            store = figure.store
            location = (store.warehouse.storage_location
                if store.replenish_from else store.warehouse)
            point = existing.get((figure.product.id, location.id))
            if point and not point.omni_velocity:
                points.append(point)
                continue
            if (figure.product.consumable
                    or (not store.replenish_from
                        and not figure.product.purchasable)):
                points.append(None)
                continue
            point = point or OrderPoint(product=figure.product,
                location=location, company=store.company, omni_velocity=True)
            point.type = 'internal' if store.replenish_from else 'purchase'
            point.provisioning_location = (
                store.replenish_from.storage_location
                if store.replenish_from else None)
            point.min_quantity = figure.reorder_point
            point.target_quantity = figure.target
            points.append(point)
        return points

    @classmethod
    @ModelView.button
    def supply(cls, replenishments):
        """Make the purchase requests and the internal shipments the order
        points call for, with Tryton's stock supply"""
        pool = Pool()
        Request = pool.get('purchase.request')
        Shipment = pool.get('stock.shipment.internal')
        purchases = [r for r in replenishments if r.method == 'purchase']
        if purchases:
            Request.generate_requests(
                products=list({r.product for r in purchases}),
                warehouses=list({r.store.warehouse for r in purchases}))
        transfers = [r for r in replenishments if r.method == 'transfer']
        if transfers:
            Shipment.generate_internal_shipment(clean=True,
                warehouses=list({r.store.warehouse for r in transfers}))
