# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "omni_warehouses" as tuple of ids of the warehouses of the '
            "user's store")

    @classmethod
    def _get_cache_key(cls, model_names):
        pool = Pool()
        User = pool.get('res.user')
        key = super()._get_cache_key(model_names)
        return (*key, User.get_omni_warehouses())

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        User = pool.get('res.user')
        context = super()._get_context(model_name)
        context['omni_warehouses'] = User.get_omni_warehouses()
        return context


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('omni.stock.level|reconcile_cron', "Reconcile Stock Levels"),
                ('omni.stock.alert|compute', "Compute Stock Alerts"),
                ('omni.price.violation|refresh',
                    "List Same Price Violations"),
                ('omni.stock.replenishment|replenish',
                    "Replenish Stores from Sales Velocity"),
                ])
