# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Bool, Eval


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    @classmethod
    def omni_by_code(cls, code):
        """Return the goods or services (at most 2) whose code or barcode is
        code, as scanned or typed"""
        code = (code or '').strip()
        if not code:
            return []
        return cls.search([
                ['OR',
                    ('code', '=', code),
                    ('identifiers.code', '=', code),
                    ],
                ], limit=2)


class ProductOrCategoryMixin:
    """A rule set on a product, or on a category for its products.

    _product_or_category_error is the (exception, message id) raised when a
    rule has both or neither."""
    __slots__ = ()
    _product_or_category_error = None

    product = fields.Many2One(
        'product.product', "Product", ondelete='CASCADE',
        states={
            'required': ~Eval('category'),
            'readonly': Bool(Eval('category')),
            })
    category = fields.Many2One(
        'product.category', "Category", ondelete='CASCADE',
        states={
            'required': ~Eval('product'),
            'readonly': Bool(Eval('product')),
            })

    @classmethod
    def validate(cls, records):
        super().validate(records)
        error, message = cls._product_or_category_error
        for record in records:
            if bool(record.product) == bool(record.category):
                raise error(gettext(message))
