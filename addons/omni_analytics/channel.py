# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta


class Channel(metaclass=PoolMeta):
    __name__ = 'omni.channel'

    @classmethod
    def on_modification(cls, mode, channels, field_names=None):
        pool = Pool()
        SummaryDay = pool.get('omni.analytics.day')
        super().on_modification(mode, channels, field_names=field_names)
        # Sales count for the store channel of their till or channel
        if mode == 'write':
            moved = bool({'kind', 'sale_point'} & set(field_names))
        else:
            moved = any(c.kind == 'store' or c.sale_point for c in channels)
        if moved:
            SummaryDay.invalidate(SummaryDay.summarized_dates(None, None))
