# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import PoolMeta


class AuditLog(metaclass=PoolMeta):
    __name__ = 'omni.audit.log'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.action.selection.extend([
                ('member_merge', "Member Merge"),
                ('member_adjust', "Member Balance Adjustment"),
                ('member_erase', "Member Erasure"),
                ])
