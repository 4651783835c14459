# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta


class TemplateCategory(metaclass=PoolMeta):
    __name__ = 'product.template-product.category'

    @classmethod
    def on_modification(cls, mode, relations, field_names=None):
        pool = Pool()
        Summary = pool.get('omni.analytics.summary')
        super().on_modification(mode, relations, field_names=field_names)
        # The summary counts the orders of each product's first category
        Summary.invalidate_products(
            p for r in relations for p in r.template.products)
