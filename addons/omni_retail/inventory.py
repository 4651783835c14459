# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Stocktake (盘点) on stock.inventory: barcode counting, blind count,
variances, manager approval"""
import datetime as dt
from decimal import Decimal

from sql import Literal, Null
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.modules.product import price_digits
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, Id
from trytond.rpc import RPC
from trytond.transaction import Transaction, check_access

from .exceptions import StocktakeError
from .tools import is_manager, lock_and_touch

# What a counter of a blind stocktake may not read
BLIND_LINE_FIELDS = {
    'expected_quantity', 'omni_variance_quantity', 'omni_variance_value',
    'omni_variance_percent'}
BLIND_INVENTORY_FIELDS = {
    'omni_expected_value', 'omni_variance_value', 'omni_variance_abs'}
# The line fields whose change calls for a new approval
COUNT_FIELDS = {'quantity', 'product'}
# The stocktake fields whose change calls for a new approval
SCOPE_FIELDS = {'location', 'date', 'empty_quantity'}
# What only a manager may change on a stocktake
MANAGER_FIELDS = {'omni_blind', 'omni_approved_by', 'omni_approved_at'}

_manager = Id('omni_retail', 'group_omni_manager').in_(
    Eval('context', {}).get('groups', []))


class Configuration(metaclass=PoolMeta):
    __name__ = 'stock.configuration'

    omni_blind_count = fields.Boolean(
        "Blind Count",
        help="New stocktakes hide the expected quantities from counters.")
    omni_approval_value = fields.Numeric(
        "Approval above Value", digits=(16, 2),
        domain=['OR',
            ('omni_approval_value', '=', None),
            ('omni_approval_value', '>=', 0),
            ],
        help="A stocktake whose variances add up to more than this value "
        "at cost (gains and losses alike) needs a manager's approval.\n"
        "Empty: no limit.")
    omni_approval_percent = fields.Float(
        "Approval above Percentage", digits=(16, 4),
        domain=['OR',
            ('omni_approval_percent', '=', None),
            ('omni_approval_percent', '>=', 0),
            ],
        help="A stocktake whose variances add up to more than this share "
        "of the value of the expected stock needs a manager's approval.\n"
        "Empty: no limit.")

    @classmethod
    def default_omni_blind_count(cls):
        return False


class Inventory(metaclass=PoolMeta):
    __name__ = 'stock.inventory'

    omni_blind = fields.Boolean(
        "Blind Count",
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="Counters do not see the expected quantities.")
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')
    omni_expected_value = fields.Function(fields.Numeric(
            "Expected Value", digits='currency',
            help="The value at cost of the expected quantities."),
        'get_omni_variance')
    omni_variance_value = fields.Function(fields.Numeric(
            "Variance Value", digits='currency',
            help="Gains less losses at cost (盘盈 − 盘亏)."),
        'get_omni_variance')
    omni_variance_abs = fields.Function(fields.Numeric(
            "Absolute Variance Value", digits='currency',
            help="Gains and losses at cost, both counted as positive."),
        'get_omni_variance')
    omni_approval_required = fields.Function(fields.Boolean(
            "Approval Required",
            help="The variances exceed the limit of the stock configuration: "
            "only a manager may confirm the stocktake."),
        'get_omni_approval_required')
    omni_approved_by = fields.Many2One(
        'res.user', "Approved by", readonly=True, ondelete='RESTRICT')
    omni_approved_at = fields.DateTime("Approved at", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                # Its door checks the user's rights on the stocktake
                'count_barcode': RPC(
                    readonly=False, instantiate=0, check_access=False),
                'start_stocktake': RPC(readonly=False),
                })
        cls._buttons.update({
                'omni_approve': {
                    'invisible': ((Eval('state') != 'draft')
                        | ~Eval('omni_approval_required')
                        | Bool(Eval('omni_approved_by'))),
                    'depends': [
                        'state', 'omni_approval_required', 'omni_approved_by'],
                    },
                })

    @classmethod
    def default_omni_blind(cls):
        pool = Pool()
        Configuration = pool.get('stock.configuration')
        return bool(Configuration(1).omni_blind_count)

    def get_currency(self, name):
        return self.company.currency if self.company else None

    @classmethod
    def get_omni_variance(cls, inventories, names):
        result = {n: {} for n in names}
        for inventory in inventories:
            expected = variance = absolute = Decimal(0)
            for line in inventory.lines:
                cost = line.omni_cost()
                expected += Decimal(str(line.expected_quantity or 0)) * cost
                value = line.omni_variance_value or 0
                variance += value
                absolute += abs(value)
            values = {
                'omni_expected_value': expected,
                'omni_variance_value': variance,
                'omni_variance_abs': absolute,
                }
            for name in names:
                value = values[name]
                if inventory.currency:
                    value = inventory.currency.round(value)
                result[name][inventory.id] = value
        return result

    def get_omni_approval_required(self, name):
        pool = Pool()
        Configuration = pool.get('stock.configuration')
        configuration = Configuration(1)
        return self.omni_exceeded(
            configuration.omni_approval_value,
            configuration.omni_approval_percent) is not None

    def omni_exceeded(self, limit_value, limit_percent):
        "Return the limit the variances exceed as a formatted text or None"
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        absolute = self.omni_variance_abs
        if limit_value is not None and absolute > limit_value:
            return lang.currency(limit_value, self.currency)
        if limit_percent is not None and absolute:
            expected = self.omni_expected_value
            if not expected or absolute / expected > Decimal(
                    str(limit_percent)):
                return lang.format('%.2f', limit_percent * 100) + ' %'

    @classmethod
    def read(cls, ids, fields_names):
        result = super().read(ids, fields_names)
        if BLIND_INVENTORY_FIELDS & set(fields_names):
            _blank_blind(cls, result, BLIND_INVENTORY_FIELDS)
        return result

    @classmethod
    def copy(cls, inventories, default=None):
        default = default.copy() if default else {}
        default.setdefault('omni_approved_by', None)
        default.setdefault('omni_approved_at', None)
        default.setdefault('lines.omni_cost_price', None)
        return super().copy(inventories, default=default)

    @classmethod
    @ModelView.button
    def omni_approve(cls, inventories):
        "Let the stocktakes be confirmed whatever their variances"
        if not is_manager():
            raise StocktakeError(gettext(
                    'omni_retail.msg_stocktake_approve_manager'))
        for inventory in inventories:
            if inventory.state != 'draft':
                raise StocktakeError(gettext(
                        'omni_retail.msg_stocktake_not_draft',
                        inventory=inventory.rec_name))
        cls.write(inventories, {
                'omni_approved_by': Transaction().user,
                'omni_approved_at': dt.datetime.now(),
                })

    @classmethod
    def check_modification(cls, mode, inventories, values=None,
            external=False):
        super().check_modification(
            mode, inventories, values=values, external=external)
        # Approving and counting blind are a manager's say, not a counter's
        if (mode == 'write' and external and not is_manager()
                and MANAGER_FIELDS & set(values or {})):
            raise StocktakeError(gettext(
                    'omni_retail.msg_stocktake_approve_manager'))

    @classmethod
    def on_modification(cls, mode, inventories, field_names=None):
        super().on_modification(mode, inventories, field_names=field_names)
        if mode == 'write' and SCOPE_FIELDS & set(field_names or []):
            # Another scope counts other goods: a new approval is needed
            cls.omni_reset_approval(inventories)

    @classmethod
    def omni_reset_approval(cls, inventories):
        approved = [i for i in inventories
            if i.omni_approved_by and i.state == 'draft']
        if approved:
            # Whoever changed the count, the approval goes
            cls.write(approved, {
                    'omni_approved_by': None,
                    'omni_approved_at': None,
                    })

    @classmethod
    def omni_check_approval(cls, inventories):
        """Refuse the stocktakes above the variance limits that no manager
        approved; a manager confirming approves them"""
        pool = Pool()
        Configuration = pool.get('stock.configuration')
        Lang = pool.get('ir.lang')
        configuration = Configuration(1)
        manager = is_manager()
        to_approve = []
        for inventory in inventories:
            if inventory.omni_approved_by:
                continue
            limit = inventory.omni_exceeded(
                configuration.omni_approval_value,
                configuration.omni_approval_percent)
            if limit is None:
                continue
            if not manager:
                lang = Lang.get()
                raise StocktakeError(gettext(
                        'omni_retail.msg_stocktake_approval_required',
                        inventory=inventory.rec_name,
                        variance=lang.currency(
                            inventory.omni_variance_abs, inventory.currency),
                        limit=limit))
            to_approve.append(inventory)
        if to_approve:
            cls.write(to_approve, {
                    'omni_approved_by': Transaction().user,
                    'omni_approved_at': dt.datetime.now(),
                    })

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def confirm(cls, inventories):
        pool = Pool()
        Line = pool.get('stock.inventory.line')
        # Count against the stock of the moment: the levels become the
        # counted quantities
        cls.complete_lines(inventories, fill=False)
        cls.omni_check_approval(inventories)
        to_write = []
        for inventory in inventories:
            for line in inventory.lines:
                to_write.extend(
                    ([line], {'omni_cost_price': line.omni_cost()}))
        if to_write:
            Line.write(*to_write)
        super().confirm(inventories)

    @classmethod
    def omni_product(cls, barcode):
        "Return the goods of the barcode or product code"
        pool = Pool()
        Product = pool.get('product.product')
        products = [p for p in Product.omni_by_code(barcode)
            if p.type == 'goods']
        if not products:
            raise StocktakeError(gettext(
                    'omni_retail.msg_stocktake_unknown_barcode',
                    barcode=barcode))
        if len(products) > 1:
            raise StocktakeError(gettext(
                    'omni_retail.msg_stocktake_barcode_ambiguous',
                    barcode=barcode,
                    products=', '.join(p.rec_name for p in products)))
        product, = products
        return product

    @classmethod
    def start_stocktake(cls, store_code, blind=None):
        """Open a draft stocktake of the storage of the store of code (blind
        as configured unless blind is given); return {'id', 'number'}"""
        pool = Pool()
        Channel = pool.get('omni.channel')
        stores = Channel.search([
                ('code', '=', store_code),
                ('kind', '=', 'store'),
                ('warehouse', '!=', None),
                ], limit=1)
        if not stores:
            raise StocktakeError(gettext(
                    'omni_retail.msg_stocktake_unknown_store',
                    store=store_code))
        store, = stores
        values = {
            'location': store.warehouse.storage_location.id,
            'company': store.company.id,
            }
        if blind is not None:
            values['omni_blind'] = bool(blind)
        inventory, = cls.create([values])
        return {'id': inventory.id, 'number': inventory.number}

    @classmethod
    def count_barcode(cls, inventory, barcode, quantity=1):
        """Add quantity (1 for a scan) to the count of the goods of barcode
        (or product code) in the draft stocktake; return {'product': code,
        'quantity': counted so far}"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        Line = pool.get('stock.inventory.line')
        # The rights and rules of the user, then the work as stock itself
        with check_access():
            ModelAccess.check(cls.__name__, 'write')
            cls.read([inventory.id], ['state'])
        return inventory._count_barcode(barcode, quantity, Line)

    def _count_barcode(self, barcode, quantity, Line):
        if not isinstance(quantity, (int, float, Decimal)) or isinstance(
                quantity, bool):
            raise StocktakeError(gettext(
                    'omni_retail.msg_stocktake_quantity', quantity=quantity))
        lock_and_touch(self.__class__, [self])
        if self.state != 'draft':
            raise StocktakeError(gettext(
                    'omni_retail.msg_stocktake_not_draft',
                    inventory=self.rec_name))
        product = self.omni_product(barcode)
        lines = Line.search([
                ('inventory', '=', self.id),
                ('product', '=', product.id),
                ], limit=1)
        if lines:
            line, = lines
        else:
            line = Line(inventory=self, product=product, quantity=None)
            line.on_change_product()
            line.update_for_complete(0)
        total = product.default_uom.round(
            (line.quantity or 0) + float(quantity))
        if total < 0:
            raise StocktakeError(gettext(
                    'omni_retail.msg_stocktake_negative',
                    product=product.rec_name, inventory=self.rec_name,
                    quantity=total))
        if line.quantity != total or not lines:
            line.quantity = total
            line.save()
        if not lines:
            self.__class__.complete_lines([self], fill=False)
        return {'product': product.code, 'quantity': total}


class InventoryLine(metaclass=PoolMeta):
    __name__ = 'stock.inventory.line'

    omni_inventory_blind = fields.Function(
        fields.Boolean("Blind Count"), 'on_change_with_omni_inventory_blind')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')
    omni_cost_price = fields.Numeric(
        "Cost Price", digits=price_digits, readonly=True,
        help="The unit cost of the goods when the stocktake was confirmed.")
    omni_variance_quantity = fields.Function(fields.Float(
            "Variance", digits='unit',
            help="Counted less expected: a gain (盘盈) when positive, "
            "a loss (盘亏) when negative."),
        'get_omni_variance', searcher='search_omni_variance_quantity')
    omni_variance_value = fields.Function(fields.Numeric(
            "Variance Value", digits='currency',
            help="The variance at cost price."),
        'get_omni_variance')
    omni_variance_percent = fields.Function(fields.Float(
            "Variance Percentage", digits=(16, 4),
            help="The variance as a share of the expected quantity."),
        'get_omni_variance')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        hidden = Eval('omni_inventory_blind', False) & ~_manager
        states = dict(cls.expected_quantity.states)
        states['invisible'] = states.get('invisible', False) | hidden
        cls.expected_quantity.states = states
        for name in ['omni_variance_quantity', 'omni_variance_value',
                'omni_variance_percent']:
            getattr(cls, name).states = {'invisible': hidden}

    @fields.depends('inventory', '_parent_inventory.omni_blind',
        '_parent_inventory.state')
    def on_change_with_omni_inventory_blind(self, name=None):
        # Once done the count is over: nothing more to hide
        return bool(self.inventory and self.inventory.omni_blind
            and self.inventory.state == 'draft')

    def get_currency(self, name):
        if self.inventory and self.inventory.company:
            return self.inventory.company.currency

    def omni_cost(self):
        "Return the unit cost of the line's goods"
        if self.omni_cost_price is not None:
            return self.omni_cost_price
        with Transaction().set_context(company=self.inventory.company.id):
            cost = self.product.get_multivalue(
                'cost_price', company=self.inventory.company.id)
        return cost or Decimal(0)

    def omni_counted(self):
        "Return the quantity the line will leave in stock or None"
        if self.quantity is not None:
            return self.quantity
        if self.inventory.empty_quantity == 'keep':
            return self.expected_quantity
        if self.inventory.empty_quantity == 'empty':
            return 0.0

    @classmethod
    def get_omni_variance(cls, lines, names):
        result = {n: {} for n in names}
        for line in lines:
            counted = line.omni_counted()
            quantity = value = percent = None
            if counted is not None:
                quantity = line.unit.round(
                    counted - (line.expected_quantity or 0))
                value = Decimal(str(quantity)) * line.omni_cost()
                if line.currency:
                    value = line.currency.round(value)
                if line.expected_quantity:
                    percent = round(quantity / line.expected_quantity, 4)
            values = {
                'omni_variance_quantity': quantity,
                'omni_variance_value': value,
                'omni_variance_percent': percent,
                }
            for name in names:
                result[name][line.id] = values[name]
        return result

    @classmethod
    def search_omni_variance_quantity(cls, name, clause):
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        line = cls.__table__()
        inventory = Inventory.__table__()
        _, operator, value = clause
        Operator = fields.SQL_OPERATORS[operator]
        counted = Case(
            (line.quantity != Null, line.quantity),
            (inventory.empty_quantity == 'keep', line.expected_quantity),
            (inventory.empty_quantity == 'empty', Literal(0.0)),
            else_=Null)
        query = line.join(inventory,
            condition=line.inventory == inventory.id).select(
                line.id,
                where=Operator(counted - line.expected_quantity, value))
        return [('id', 'in', query)]

    @classmethod
    def read(cls, ids, fields_names):
        result = super().read(ids, fields_names)
        if BLIND_LINE_FIELDS & set(fields_names):
            _blank_blind(cls, result, BLIND_LINE_FIELDS)
        return result

    @classmethod
    def on_modification(cls, mode, lines, field_names=None):
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        super().on_modification(mode, lines, field_names=field_names)
        if mode != 'write' or (COUNT_FIELDS & set(field_names or [])):
            # A new count needs a new approval
            Inventory.omni_reset_approval(
                list({l.inventory for l in lines}))


def _blank_blind(Model, rows, names):
    """Blank the names of the rows of blind stocktakes still counted when
    read by a user who is no manager"""
    transaction = Transaction()
    if not transaction.check_access or is_manager():
        return
    pool = Pool()
    Inventory = pool.get('stock.inventory')
    ids = [r['id'] for r in rows]
    if Model.__name__ == 'stock.inventory':
        blind = {i.id for i in Inventory.browse(ids)
            if i.omni_blind and i.state == 'draft'}
    else:
        blind = {l.id for l in Model.browse(ids)
            if l.inventory.omni_blind and l.inventory.state == 'draft'}
    for row in rows:
        if row['id'] in blind:
            for name in names & row.keys():
                row[name] = None


class Count(metaclass=PoolMeta):
    __name__ = 'stock.inventory.count'

    def default_quantity(self, fields):
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        if self.search.omni_barcode:
            self.search.search = Inventory.omni_product(
                self.search.omni_barcode)
        return super().default_quantity(fields)

    def transition_add(self):
        line = self.quantity.line
        if line and self.quantity.quantity:
            total = (line.quantity or 0) + self.quantity.quantity
            if total < 0:
                raise StocktakeError(gettext(
                        'omni_retail.msg_stocktake_negative',
                        product=line.product.rec_name,
                        inventory=line.inventory.rec_name,
                        quantity=total))
        self.search.omni_barcode = None
        return super().transition_add()


class CountSearch(metaclass=PoolMeta):
    __name__ = 'stock.inventory.count.search'

    omni_barcode = fields.Char(
        "Barcode", help="Scan or type the barcode or the product code.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.search.required = False
        cls.search.states = {
            **cls.search.states,
            'required': ~Eval('omni_barcode'),
            }

    @fields.depends('omni_barcode')
    def on_change_omni_barcode(self):
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        if self.omni_barcode:
            self.search = Inventory.omni_product(self.omni_barcode)
