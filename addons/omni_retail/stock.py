# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import logging
import threading
from collections import defaultdict
from contextlib import contextmanager

from sql import Conflict
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, Model, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import StockShortageError, TransferError, UnknownCodeError
from .tools import holds_turns, stock_integrity

logger = logging.getLogger(__name__)

# The level changes of the Level.batched() block running in this thread
_batch = threading.local()

# The move fields whose change can change a stock level
LEVEL_FIELDS = {
    'state', 'quantity', 'internal_quantity', 'unit', 'product',
    'from_location', 'to_location'}


class Level(ModelSQL, ModelView):
    __name__ = 'omni.stock.level'

    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='CASCADE')
    warehouse = fields.Many2One(
        'stock.location', "Warehouse", required=True, readonly=True,
        ondelete='CASCADE', domain=[('type', '=', 'warehouse')])
    on_hand = fields.Float(
        "On Hand", required=True, readonly=True,
        help="Goods physically in the warehouse.")
    reserved = fields.Float(
        "Reserved", required=True, readonly=True,
        help="Goods held for accepted orders not yet shipped.")
    safety = fields.Float(
        "Safety Stock", required=True,
        help="Goods kept back from sale.")
    available = fields.Function(fields.Float(
            "Available",
            help="On hand less reserved and safety stock: "
            "what channels may still sell."),
        'get_available', searcher='search_available')
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'get_unit')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('product_warehouse_unique', Unique(t, t.product, t.warehouse),
                'omni_retail.msg_stock_level_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.warehouse, Index.Equality()),
                (t.product, Index.Equality())))
        cls._order = [
            ('warehouse', 'ASC'), ('product', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_on_hand(cls):
        return 0

    @classmethod
    def default_reserved(cls):
        return 0

    @classmethod
    def default_safety(cls):
        return 0

    @staticmethod
    def _available_column(table):
        return table.on_hand - table.reserved - table.safety

    def get_available(self, name):
        return self.on_hand - self.reserved - self.safety

    @classmethod
    def search_available(cls, name, clause):
        table = cls.__table__()
        _, operator, value = clause
        Operator = fields.SQL_OPERATORS[operator]
        return [('id', 'in', table.select(table.id,
                    where=Operator(cls._available_column(table), value)))]

    @classmethod
    def order_available(cls, tables):
        table, _ = tables[None]
        return [cls._available_column(table)]

    def get_unit(self, name):
        return self.product.default_uom

    def get_rec_name(self, name):
        return f'{self.product.rec_name} @ {self.warehouse.rec_name}'

    @classmethod
    def apply(cls, deltas):
        """Add deltas {(product, warehouse): (on hand, reserved)} to levels,
        in product order so that concurrent writers do not deadlock"""
        pending = getattr(_batch, 'deltas', None)
        if pending is not None:
            pending.update(_add(pending, deltas))
            return
        transaction = Transaction()
        table = cls.__table__()
        cursor = transaction.connection.cursor()
        deltas = {k: v for k, v in deltas.items() if any(v)}
        cls._ensure(deltas.keys())
        for (product, warehouse), (on_hand, reserved) in sorted(
                deltas.items()):
            cursor.execute(*table.update(
                    [table.on_hand, table.reserved,
                        table.write_date, table.write_uid],
                    [table.on_hand + on_hand, table.reserved + reserved,
                        CurrentTimestamp(), transaction.user],
                    where=(table.product == product)
                    & (table.warehouse == warehouse)))
            if cursor.rowcount != 1:
                # The row was inserted by a transaction this one cannot see
                raise backend.DatabaseOperationalError(
                    "stock level row not visible")

    @classmethod
    @contextmanager
    def batched(cls):
        """Apply the level changes of the block at once when it ends: changes
        that cancel out (a reservation handed over to the moves that take
        its place) leave the rows untouched, so not locked"""
        if getattr(_batch, 'deltas', None) is not None:
            yield
            return
        _batch.deltas = {}
        try:
            yield
            deltas = _batch.deltas
        finally:
            _batch.deltas = None
        cls.apply(deltas)

    @classmethod
    def turns(cls, keys):
        """Return the names of the turns (omni_retail.tools.take_turns) on
        the levels of (product, warehouse) keys"""
        return [f'{cls.__name__},{p},{w}' for p, w in sorted(keys)]

    @classmethod
    def hold(cls, needs):
        """Reserve needs {(product, warehouse): quantity} on the levels for
        an order whose moves come later, all or nothing: raise
        StockShortageError if a level is short. The caller holds its turns
        on the levels."""
        cls.refuse_short(needs)
        cls.apply({k: (0, q) for k, q in needs.items()})

    @classmethod
    def unhold(cls, needs):
        "Give back the reservation of needs made by hold"
        cls.apply({k: (0, -q) for k, q in needs.items()})

    @classmethod
    def _ensure(cls, keys):
        "Create the missing level rows of (product, warehouse) keys"
        if not keys:
            return
        transaction = Transaction()
        table = cls.__table__()
        cursor = transaction.connection.cursor()
        products = sorted({p for p, _ in keys})
        cursor.execute(*table.select(table.product, table.warehouse,
                where=fields.SQL_OPERATORS['in'](table.product, products)))
        existing = set(cursor)
        missing = [k for k in sorted(keys) if k not in existing]
        if missing:
            cursor.execute(*table.insert(
                    [table.product, table.warehouse, table.on_hand,
                        table.reserved, table.safety,
                        table.create_date, table.create_uid],
                    [[p, w, 0, 0, 0, CurrentTimestamp(), transaction.user]
                        for p, w in missing],
                    on_conflict=Conflict(table,
                        indexed_columns=[table.product, table.warehouse])))

    @classmethod
    def get(cls, products, warehouses):
        "Return {(product id, warehouse id): level} of existing levels"
        levels = cls.search([
                ('product', 'in', [int(p) for p in products]),
                ('warehouse', 'in', [int(w) for w in warehouses]),
                ], order=[('product', 'ASC'), ('warehouse', 'ASC')])
        return {(l.product.id, l.warehouse.id): l for l in levels}

    @classmethod
    def check_available(cls, needs):
        """Lock the levels of needs {(product, warehouse): quantity} and
        raise StockShortageError if one is short"""
        if not needs:
            return
        # Refused before the lock, as the transaction restarts with the
        # levels locked first: what is short already does not queue
        levels = cls.refuse_short(needs)
        if not holds_turns(cls.turns(needs)):
            cls.lock([levels[k] for k in sorted(needs) if k in levels])

    @classmethod
    def refuse_short(cls, needs, levels=None):
        """Raise StockShortageError if a level of levels is short of needs;
        return levels, read here if not given"""
        pool = Pool()
        Product = pool.get('product.product')
        Location = pool.get('stock.location')
        if levels is None:
            with stock_integrity():
                levels = cls.get(
                    {p for p, _ in needs}, {w for _, w in needs})
        for (product, warehouse), quantity in sorted(needs.items()):
            level = levels.get((product, warehouse))
            available = level.available if level else 0
            if available < quantity:
                error = StockShortageError(gettext(
                        'omni_retail.msg_stock_short',
                        product=Product(product).rec_name,
                        warehouse=Location(warehouse).rec_name,
                        available=available,
                        quantity=quantity))
                error.product, error.available = Product(product), available
                raise error
        return levels

    @classmethod
    def computed_quantities(cls, warehouses):
        """Return stock Tryton's own {(product, warehouse): (on hand, on hand
        less reserved)} computed from the moves of the warehouses"""
        pool = Pool()
        Date = pool.get('ir.date')
        Product = pool.get('product.product')
        today = Date.today()
        warehouse_ids = [w.id for w in warehouses]
        result = defaultdict(lambda: [0, 0])
        for index, assign in enumerate([False, True]):
            with Transaction().set_context(
                    stock_date_end=today, stock_assign=assign,
                    forecast=False):
                quantities = Product.products_by_location(
                    warehouse_ids, with_childs=True, grouping=('product',))
            for (warehouse, product), quantity in quantities.items():
                result[(product, warehouse)][index] = quantity
        return {k: tuple(v) for k, v in result.items()}

    @classmethod
    def held(cls):
        """Return {(product, warehouse): quantity} reserved by hold for
        orders whose moves do not exist yet"""
        return {}

    @classmethod
    def reconcile(cls, repair=False):
        """Compare every level with stock Tryton's computed quantities.

        Return the drifts as [(level key, level (on hand, reserved),
        computed (on hand, reserved))]; with repair, set the levels to the
        computed quantities."""
        pool = Pool()
        Location = pool.get('stock.location')
        warehouses = Location.search([('type', '=', 'warehouse')])
        computed = {
            k: (on_hand, on_hand - after_reserve)
            for k, (on_hand, after_reserve)
            in cls.computed_quantities(warehouses).items()}
        for key, quantity in cls.held().items():
            on_hand, reserved = computed.get(key, (0, 0))
            computed[key] = (on_hand, reserved + quantity)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.product, table.warehouse, table.on_hand, table.reserved))
        levels = {(p, w): (o, r) for p, w, o, r in cursor}
        drifts = []
        for key in sorted(computed.keys() | levels.keys()):
            mine = levels.get(key, (0, 0))
            theirs = computed.get(key, (0, 0))
            if any(abs(a - b) > 1e-6 for a, b in zip(mine, theirs)):
                drifts.append((key, mine, theirs))
        if repair and drifts:
            cls.apply({key: (theirs[0] - mine[0], theirs[1] - mine[1])
                    for key, mine, theirs in drifts})
        return drifts

    @classmethod
    def reconcile_cron(cls):
        "Daily: repair and log any drift between levels and moves"
        drifts = cls.reconcile(repair=True)
        if drifts:
            logger.warning(
                "repaired %d drifted stock levels: %s", len(drifts),
                drifts[:20])


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'reserve': RPC(readonly=False, instantiate=0),
                })

    @classmethod
    def reserve(cls, moves):
        """Assign the outgoing moves if every one is available, else refuse
        them all with a StockShortageError.

        The level rows are locked in product order first: concurrent orders
        for the same goods queue instead of both taking the last unit."""
        pool = Pool()
        Level = pool.get('omni.stock.level')
        Level.check_available(cls.warehouse_needs(moves))
        cls.assign(moves)

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Level = pool.get('omni.stock.level')
        moves = super().create(vlist)
        Level.apply(cls.level_deltas(moves))
        return moves

    @classmethod
    def write(cls, *args):
        pool = Pool()
        Level = pool.get('omni.stock.level')
        actions = iter(args)
        touched = set()
        for moves, values in zip(actions, actions):
            if LEVEL_FIELDS & values.keys():
                touched.update(m.id for m in moves)
        touched = sorted(touched)
        before = cls.level_deltas(cls.browse(touched), sign=-1)
        super().write(*args)
        after = cls.level_deltas(cls.browse(touched))
        Level.apply(_add(before, after))

    @classmethod
    def delete(cls, moves):
        pool = Pool()
        Level = pool.get('omni.stock.level')
        deltas = cls.level_deltas(moves, sign=-1)
        super().delete(moves)
        Level.apply(deltas)

    @classmethod
    def level_deltas(cls, moves, sign=1):
        """Return {(product, warehouse): (on hand, reserved)} that the moves
        in their current state add to the levels"""
        warehouse_of = _warehouses_of(
            {l for m in moves for l in [m.from_location, m.to_location]})
        deltas = defaultdict(lambda: (0, 0))
        for move in moves:
            source = warehouse_of[move.from_location.id]
            target = warehouse_of[move.to_location.id]
            if source == target:
                continue
            quantity = sign * (move.internal_quantity or 0)
            product = move.product.id
            if source and move.state == 'done':
                deltas[(product, source)] = _plus(
                    deltas[(product, source)], (-quantity, 0))
            elif source and move.state == 'assigned':
                deltas[(product, source)] = _plus(
                    deltas[(product, source)], (0, quantity))
            if target and move.state == 'done':
                deltas[(product, target)] = _plus(
                    deltas[(product, target)], (quantity, 0))
        return dict(deltas)

    @classmethod
    def warehouse_needs(cls, moves):
        "Return {(product, warehouse): quantity} the moves take out"
        warehouse_of = _warehouses_of(
            {l for m in moves for l in [m.from_location, m.to_location]})
        needs = defaultdict(float)
        for move in moves:
            source = warehouse_of[move.from_location.id]
            if source and source != warehouse_of[move.to_location.id]:
                needs[(move.product.id, source)] += move.internal_quantity
        return dict(needs)


class ShipmentInternal(metaclass=PoolMeta):
    __name__ = 'stock.shipment.internal'

    @classmethod
    def validate_fields(cls, shipments, field_names):
        super().validate_fields(shipments, field_names)
        if field_names and not (
                field_names & {'from_location', 'to_location'}):
            return
        for shipment in shipments:
            if shipment.from_location == shipment.to_location:
                raise TransferError(gettext(
                        'omni_retail.msg_transfer_same_location',
                        location=shipment.from_location.rec_name))


def _plus(a, b):
    return (a[0] + b[0], a[1] + b[1])


def _add(*deltas):
    total = defaultdict(lambda: (0, 0))
    for delta in deltas:
        for key, value in delta.items():
            total[key] = _plus(total[key], value)
    return dict(total)


def _warehouses_of(locations):
    "Return {location id: warehouse id or None}"
    pool = Pool()
    Location = pool.get('stock.location')
    ids = list({int(l) for l in locations})
    return {l.id: l.warehouse.id if l.warehouse else None
        for l in Location.browse(ids)}


class Stock(Model):
    "Shared stock of the chain, for external systems"
    __name__ = 'omni.stock'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'availability': RPC(readonly=True),
                })

    @classmethod
    def availability(cls, product_codes, store_codes=None):
        """Return {product code: {store code: available}} for the stores
        (channel codes; None: every store)"""
        pool = Pool()
        Channel = pool.get('omni.channel')
        Level = pool.get('omni.stock.level')
        Product = pool.get('product.product')

        products = _ids_by_code(Product, product_codes,
            'omni_retail.msg_unknown_product_codes')
        domain = [('kind', '=', 'store')]
        if store_codes is not None:
            domain.append(('code', 'in', list(store_codes)))
        stores = Channel.search(domain)
        if store_codes is not None:
            _check_codes(store_codes, {s.code for s in stores},
                'omni_retail.msg_unknown_store_codes')
        store_of = {s.warehouse.id: s.code for s in stores}
        result = {code: dict.fromkeys(store_of.values(), 0)
            for code in products}
        code_of = {id_: code for code, id_ in products.items()}
        if not code_of or not store_of:
            return result
        # One read of the levels: a lookup stays as fast however long the
        # stock history grows. Every store's sellable quantity is open to
        # whoever may ask, as the mall shows it to any customer; the
        # levels' detail stays with each store's staff (doc/roles.md)
        level = Level.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*level.select(
                level.product, level.warehouse,
                Level._available_column(level),
                where=level.product.in_(list(code_of))
                & level.warehouse.in_(list(store_of))))
        for product, warehouse, available in cursor:
            result[code_of[product]][store_of[warehouse]] = available
        return result


def _ids_by_code(Model, codes, message):
    "Return {code: id} of the records of codes; refuse unknown codes"
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(table.code, table.id,
            where=table.id.in_(Model.search(
                    [('code', 'in', list(codes))], order=[], query=True))))
    ids = dict(cursor)
    _check_codes(codes, ids.keys(), message)
    return ids


def _check_codes(codes, known, message):
    unknown = set(codes) - set(known)
    if unknown:
        raise UnknownCodeError(gettext(message,
                codes=', '.join(sorted(unknown))))


class LevelReconcile(Wizard):
    "Compare stock levels with the stock moves, and repair drift"
    __name__ = 'omni.stock.level.reconcile'
    start = StateView('omni.stock.level.reconcile.start',
        'omni_retail.level_reconcile_start_view_form', [
            Button("Close", 'end', 'tryton-close'),
            Button("Repair", 'repair', 'tryton-ok', default=True,
                states={'invisible': ~Eval('drifts')}),
            ])
    repair = StateTransition()

    def default_start(self, fields):
        pool = Pool()
        Level = pool.get('omni.stock.level')
        return {'drifts': _format_drifts(Level.reconcile())}

    def transition_repair(self):
        pool = Pool()
        Level = pool.get('omni.stock.level')
        Level.reconcile(repair=True)
        return 'end'


class LevelReconcileStart(ModelView):
    __name__ = 'omni.stock.level.reconcile.start'
    drifts = fields.Text("Drifts", readonly=True)


def _format_drifts(drifts):
    pool = Pool()
    Product = pool.get('product.product')
    Location = pool.get('stock.location')
    lines = []
    for (product, warehouse), mine, theirs in drifts:
        lines.append(gettext('omni_retail.msg_stock_level_drift',
                product=Product(product).rec_name,
                warehouse=Location(warehouse).rec_name,
                on_hand=mine[0], reserved=mine[1],
                moves_on_hand=theirs[0], moves_reserved=theirs[1]))
    return '\n'.join(lines)
