# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields


class Reason(DeactivableMixin, ModelSQL, ModelView):
    "Return Reason"
    __name__ = 'omni.return.reason'

    code = fields.Char("Code", required=True)
    name = fields.Char("Name", required=True, translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Unique(t, t.code),
                'omni_return.msg_return_reason_code_unique'),
            ]
        cls._order.insert(0, ('name', 'ASC'))
