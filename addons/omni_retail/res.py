# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    omni_store = fields.Many2One(
        'omni.channel', "Store",
        domain=[
            ('kind', '=', 'store'),
            ('company', 'in', Eval('companies', [])),
            ],
        help="The store this user works in.")
