# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The audit log: who did which sensitive action on what, and when"""
import json

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

# The calls nobody makes on the log from outside the server
FROZEN = {'create', 'write', 'delete', 'copy', 'import_data'}


class AuditLog(ModelSQL, ModelView):
    "Audit Log"
    __name__ = 'omni.audit.log'

    user = fields.Many2One('res.user', "User", readonly=True)
    action = fields.Selection([
            ('price_change', "Price Change"),
            ('channel_price_list', "Channel Price List Change"),
            ('api_key_create', "API Key Created"),
            ('api_key_revoke', "API Key Revoked"),
            ('api_call', "API Call"),
            ], "Action", readonly=True, sort=False)
    action_string = action.translated('action')
    record = fields.Reference(
        "Record", selection='get_models', readonly=True)
    details = fields.Text("Details", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        for name in FROZEN:
            cls.__rpc__.pop(name, None)

    @staticmethod
    def get_models():
        pool = Pool()
        Model = pool.get('ir.model')
        return [(None, '')] + Model.get_name_items()

    @classmethod
    def log(cls, action, record=None, details=None):
        "Write a line of action on record by the current user"
        cls.log_many([(action, record, details)])

    @classmethod
    def log_many(cls, entries):
        """Write a line per (action, record, details): records as instances
        or "model,id" strings, details as text or JSON-able values"""
        user = Transaction().user or None
        lines = []
        for action, record, details in entries:
            if record is not None and not isinstance(record, str):
                record = str(record)
            if details is not None and not isinstance(details, str):
                details = json.dumps(
                    details, ensure_ascii=False, sort_keys=True, default=str)
            lines.append(cls(
                    user=user, action=action, record=record, details=details))
        # Saved as Tryton writes its own ir.model.log: no role creates lines
        cls.save(lines)
