# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta


class Level(metaclass=PoolMeta):
    __name__ = 'omni.stock.level'

    @classmethod
    def held(cls):
        "The stock held by accepted orders whose workflow is still queued"
        pool = Pool()
        Line = pool.get('sale.line')
        held = super().held()
        # Stock integrity, not a read by the user
        lines = Line.search([('intake_reserved', '>', 0)])
        for key, quantity in Line.held_needs(lines).items():
            held[key] = held.get(key, 0) + quantity
        return held
