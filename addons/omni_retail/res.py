# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from weakref import WeakKeyDictionary

from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

# {transaction: {user id: (transaction's write counter, warehouse ids)}}
_omni_warehouses = WeakKeyDictionary()


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
        """Return the tuple of the ids of the warehouses of the current
        user's store.

        A tuple: it is part of the key of the access rules' cache
        (ir.rule._get_cache_key), which must be hashable. It is kept for
        the transaction until the transaction writes anything, as every
        rule check asks for it."""
        transaction = Transaction()
        user_id = transaction.user
        if not user_id:
            return ()
        known = _omni_warehouses.setdefault(transaction, {})
        counter, warehouses = known.get(user_id, (None, None))
        if counter != transaction.counter:
            store = cls(user_id).omni_store
            warehouses = (store.warehouse.id,) if store else ()
            known[user_id] = (transaction.counter, warehouses)
        return warehouses
