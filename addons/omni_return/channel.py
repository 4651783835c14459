# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta


class Channel(metaclass=PoolMeta):
    __name__ = 'omni.channel'

    return_days = fields.Integer(
        "Return Days", required=True,
        domain=[('return_days', '>=', 0)],
        help="The days after the purchase its goods may be returned.")

    @classmethod
    def default_return_days(cls):
        return 7
