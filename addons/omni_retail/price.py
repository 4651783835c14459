# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from contextlib import contextmanager
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Model, ModelSQL, ModelView, fields
from trytond.modules.product import round_price
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction

from .exceptions import PriceError, PricePolicyError
from .product import ProductOrCategoryMixin
from .stock import _ids_by_code
from .tools import check_manager, price_integrity

CENT = Decimal('0.01')


class Channel(metaclass=PoolMeta):
    __name__ = 'omni.channel'

    price_list = fields.Many2One(
        'product.price_list', "Price List", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        help="The prices of this channel. Empty: the product's own price.")
    listing = fields.Selection([
            ('all', "Every Salable Product"),
            ('selected', "Selected Products"),
            ], "Listing", required=True,
        help="The products this channel sells.")
    products = fields.Many2Many(
        'omni.channel-product.product', 'channel', 'product', "Products",
        domain=[('salable', '=', True)],
        context={
            'company': Eval('company', -1),
            },
        states={
            'invisible': Eval('listing') != 'selected',
            },
        depends={'company'})

    @classmethod
    def default_listing(cls):
        return 'all'

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Policy = pool.get('omni.price.policy')
        with Policy.keeping():
            channels = super().create(vlist)
        cls.share_price_list(channels)
        return channels

    @classmethod
    def write(cls, *args):
        pool = Pool()
        Policy = pool.get('omni.price.policy')
        changed = {f for values in args[1::2] for f in values}
        if changed & {'price_list', 'listing', 'products', 'active'}:
            with Policy.keeping():
                super().write(*args)
        else:
            super().write(*args)
        cls.share_price_list(sum(args[::2], []))

    @classmethod
    def on_modification(cls, mode, channels, field_names=None):
        pool = Pool()
        Audit = pool.get('omni.audit.log')
        super().on_modification(mode, channels, field_names=field_names)
        if mode == 'write' and 'price_list' in field_names:
            Audit.log_many([('channel_price_list', c, {
                            'price_list': c.price_list.rec_name
                            if c.price_list else None,
                            }) for c in channels])

    @classmethod
    def share_price_list(cls, channels):
        "Give the web shop of an online channel the channel's prices"
        pool = Pool()
        WebShop = pool.get('web.shop')
        shops = [c.web_shop for c in channels if c.web_shop
            and c.web_shop.sale_price_list != c.price_list]
        for shop in shops:
            channel, = [c for c in channels if c.web_shop == shop]
            shop.sale_price_list = channel.price_list
        WebShop.save(shops)

    def is_listed(self, product):
        return self.listing == 'all' or product in self.products

    def check_listed(self, products):
        unlisted = [p for p in products if not self.is_listed(p)]
        if unlisted:
            raise PriceError(gettext('omni_retail.msg_product_not_listed',
                    products=', '.join(p.rec_name for p in unlisted),
                    channel=self.rec_name))

    def unit_price(self, product, quantity=1):
        """Return the untaxed price of product on this channel:
        its price list's, else the product's list price"""
        pool = Pool()
        Tax = pool.get('account.tax')
        Date = pool.get('ir.date')
        if not self.price_list:
            if self.tax_included_price(product) is not None:
                return round_price(Tax.reverse_compute(
                        self.gross_price(product),
                        product.customer_taxes_used, Date.today()))
            return product.list_price_used
        price = self.price_list.compute(product, quantity, product.sale_uom)
        if price is not None and self.price_list.tax_included:
            price = round_price(Tax.reverse_compute(
                    price, product.customer_taxes_used, Date.today()))
        return price

    def gross_price(self, product, quantity=1):
        "Return the price the customer pays for product on this channel"
        gross = self.tax_included_price(product, quantity)
        if gross is None:
            return with_taxes(product, self.unit_price(product, quantity))
        return gross.quantize(CENT)

    def tax_included_price(self, product, quantity=1):
        """Return the price of product set with taxes included on this
        channel, None if its price is set untaxed"""
        if self.price_list:
            if self.price_list.tax_included:
                return self.price_list.compute(
                    product, quantity, product.sale_uom)
        elif (self.sale_point and self.sale_point.tax_included
                and product.gross_price_used is not None):
            return product.gross_price_used


def price_string(price):
    "Return the price as a string, None for no price"
    return str(price) if price is not None else None


def with_taxes(product, unit_price):
    "Return unit_price of product with its customer taxes, to the cent"
    pool = Pool()
    Tax = pool.get('account.tax')
    Date = pool.get('ir.date')
    if unit_price is None:
        return None
    taxes = Tax.compute(product.customer_taxes_used, unit_price, 1,
        date=Date.today())
    return (unit_price + sum(t['amount'] for t in taxes)).quantize(CENT)


class ChannelProduct(ModelSQL):
    "Channel Listing"
    __name__ = 'omni.channel-product.product'

    channel = fields.Many2One(
        'omni.channel', "Channel", required=True, ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('channel')


class SamePricePolicy(ProductOrCategoryMixin, ModelSQL, ModelView):
    "Same Price Policy"
    __name__ = 'omni.price.policy'
    _product_or_category_error = (
        PricePolicyError, 'omni_retail.msg_price_policy_product_or_category')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.category.help = (
            "Every product of the category and its sub-categories.")

    def get_rec_name(self, name):
        return (self.product or self.category).rec_name

    @classmethod
    def on_modification(cls, mode, policies, field_names=None):
        super().on_modification(mode, policies, field_names=field_names)
        if mode != 'delete':
            Pool().get('omni.price.violation').list_violations()

    @classmethod
    def on_delete(cls, policies):
        Violation = Pool().get('omni.price.violation')
        return super().on_delete(policies) + [Violation.list_violations]

    @classmethod
    def covered(cls, products=None):
        "Return the products (of products, default all) under a policy"
        pool = Pool()
        Product = pool.get('product.product')
        policies = cls.search([])
        if not policies:
            return []
        domain = ['OR',
            ('id', 'in', [p.product.id for p in policies if p.product]),
            ]
        categories = [p.category.id for p in policies if p.category]
        if categories:
            domain.append(
                ('categories_all', 'child_of', categories, 'parent'))
        if products is not None:
            domain = [domain, ('id', 'in', [p.id for p in products])]
        return Product.search(domain)

    @classmethod
    def violations(cls, products=None):
        """Yield (product, channel, price, reference) for each channel that
        sells a covered product at another price than its own retail price
        (list price with taxes)"""
        pool = Pool()
        Channel = pool.get('omni.channel')
        channels = Channel.search([])
        for product in cls.covered(products):
            reference = with_taxes(product, product.list_price_used)
            for channel in channels:
                if not channel.is_listed(product):
                    continue
                price = channel.gross_price(product)
                if price != reference:
                    yield product, channel, price, reference

    @classmethod
    @contextmanager
    def keeping(cls, products=None):
        """Refuse the prices changed within that break a same-price policy
        where it was kept: a policy adopted over different prices lists
        them as violations to align, and blocks no other change"""
        with price_integrity():
            before = set(cls.violations(products))
        yield
        with price_integrity():
            after = list(cls.violations(products))
        for violation in after:
            if violation not in before:
                product, channel, price, reference = violation
                raise PricePolicyError(gettext(
                        'omni_retail.msg_price_breaks_policy',
                        product=product.rec_name, channel=channel.rec_name,
                        price=price, reference=reference))


class PriceViolation(ModelSQL, ModelView):
    "Same Price Violation"
    __name__ = 'omni.price.violation'

    product = fields.Many2One('product.product', "Product", readonly=True,
        ondelete='CASCADE')
    channel = fields.Many2One('omni.channel', "Channel", readonly=True,
        ondelete='CASCADE')
    price = fields.Numeric("Channel Price", digits=(16, 2), readonly=True)
    reference = fields.Numeric(
        "Retail Price", digits=(16, 2), readonly=True,
        help="The list price with taxes.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('product', 'ASC'), ('channel', 'ASC'), ('id', 'ASC')]
        cls.__rpc__.update({
                # A manager's door (check_manager): the list is replaced
                'refresh': RPC(readonly=False, check_access=False),
                })

    @classmethod
    def refresh(cls):
        "Replace the list by the current violations, for a manager"
        check_manager()
        cls.list_violations()

    @classmethod
    def list_violations(cls):
        "Replace the list by the current violations"
        pool = Pool()
        Policy = pool.get('omni.price.policy')
        cls.delete(cls.search([]))
        cls.save([cls(product=product, channel=channel, price=price,
                    reference=reference)
                for product, channel, price, reference in
                Policy.violations()])


class PriceListLine(metaclass=PoolMeta):
    __name__ = 'product.price_list.line'

    @classmethod
    def on_modification(cls, mode, lines, field_names=None):
        pool = Pool()
        Audit = pool.get('omni.audit.log')
        super().on_modification(mode, lines, field_names=field_names)
        Audit.log_many([('price_change', l, {
                        'mode': mode,
                        'price_list': l.price_list.rec_name,
                        'product': l.product.rec_name if l.product else None,
                        'formula': l.formula,
                        }) for l in lines])

    @classmethod
    def create(cls, vlist):
        price_lists = {v.get('price_list') for v in vlist}
        with keeping_channel_prices(price_lists):
            return super().create(vlist)

    @classmethod
    def write(cls, *args):
        price_lists = {l.price_list.id for l in sum(args[::2], [])} | {
            v['price_list'] for v in args[1::2] if v.get('price_list')}
        with keeping_channel_prices(price_lists):
            super().write(*args)

    @classmethod
    def delete(cls, lines):
        with keeping_channel_prices({l.price_list.id for l in lines}):
            super().delete(lines)


@contextmanager
def keeping_channel_prices(price_lists):
    "Keep the same-price policies while changing the price lists' lines"
    pool = Pool()
    Channel = pool.get('omni.channel')
    Policy = pool.get('omni.price.policy')
    with price_integrity():
        used = Channel.search(
            [('price_list', 'in', list(price_lists - {None}))])
    if used:
        with Policy.keeping():
            yield
    else:
        yield


PRICE_FIELDS = {'list_price', 'list_prices', 'gross_price', 'gross_prices',
    'customer_taxes', 'account_category', 'categories'}


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    @classmethod
    def on_modification(cls, mode, templates, field_names=None):
        super().on_modification(mode, templates, field_names=field_names)
        log_price_changes(mode, templates, field_names)

    @classmethod
    def write(cls, *args):
        with keeping_product_prices(
                [p for t in sum(args[::2], []) for p in t.products], args):
            super().write(*args)


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    @classmethod
    def on_modification(cls, mode, products, field_names=None):
        super().on_modification(mode, products, field_names=field_names)
        log_price_changes(mode, products, field_names)

    @classmethod
    def write(cls, *args):
        with keeping_product_prices(sum(args[::2], []), args):
            super().write(*args)


LIST_PRICE_FIELDS = {'list_price', 'list_prices', 'gross_price', 'gross_prices'}


def log_price_changes(mode, records, field_names):
    "Audit the new list prices of records"
    Audit = Pool().get('omni.audit.log')
    if mode == 'write' and LIST_PRICE_FIELDS & set(field_names or []):
        Audit.log_many([('price_change', r, {
                        'list_price': getattr(r, 'list_price', None),
                        'gross_price': getattr(r, 'gross_price', None),
                        }) for r in records])


@contextmanager
def keeping_product_prices(products, write_args):
    "Keep the same-price policies while writing the prices of products"
    Policy = Pool().get('omni.price.policy')
    if PRICE_FIELDS & {f for values in write_args[1::2] for f in values}:
        with Policy.keeping(products):
            yield
    else:
        yield


class Catalog(Model):
    "Catalog of the chain, for external systems"
    __name__ = 'omni.catalog'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'prices': RPC(readonly=True),
                })

    @classmethod
    def prices(cls, product_codes, channel_code):
        """Return {product code: price} of the products on the channel,
        taxes included, as strings"""
        pool = Pool()
        Channel = pool.get('omni.channel')
        Product = pool.get('product.product')
        channels = Channel.search([('code', '=', channel_code)])
        if not channels:
            raise PriceError(gettext('omni_retail.msg_unknown_channel',
                    channel=channel_code))
        channel, = channels
        with Transaction().set_context(company=channel.company.id):
            products = Product.browse(_ids_by_code(Product, product_codes,
                    'omni_retail.msg_unknown_product_codes').values())
            channel.check_listed(products)
            return {p.code: price_string(channel.gross_price(p))
                for p in products}
