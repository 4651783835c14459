# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval, If


class AccountType(metaclass=PoolMeta):
    __name__ = 'account.account.type'

    omni_stored_value = fields.Boolean(
        "Stored Value",
        domain=[If(Eval('statement') != 'balance',
                ('omni_stored_value', '=', False), ())],
        states={
            'invisible': Eval('statement') != 'balance',
            },
        help="Accounts of this type hold what the chain owes its members "
        "in stored value.")

    @classmethod
    def default_omni_stored_value(cls):
        return False


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    @classmethod
    def _account_domain(cls, type_):
        # Online sales paid with stored value debit it on their invoice
        domain = super()._account_domain(type_)
        if type_ == 'out':
            domain = domain + [('type.omni_stored_value', '=', True)]
        return domain
