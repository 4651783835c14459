# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    omni_store = fields.Many2One(
        'omni.channel', "Store",
        domain=[
            ('kind', '=', 'store'),
            ('company', 'in', Eval('companies', [])),
            ],
        help="The store this user works in.")

    @classmethod
    def get_omni_warehouses(cls):
        "Return the ids of the warehouses of the current user's store"
        user_id = Transaction().user
        if not user_id:
            return []
        with without_check_access():
            store = cls(user_id).omni_store
            return [store.warehouse.id] if store else []
