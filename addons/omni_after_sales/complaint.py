# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta

KINDS = [
    ('exchange', "Exchange"),
    ('repair', "Repair"),
    ('complaint', "Complaint"),
    ]


class ComplaintType(metaclass=PoolMeta):
    __name__ = 'sale.complaint.type'

    omni_kind = fields.Selection(
        [(None, "")] + KINDS, "After-Sales Kind",
        help="The after-sales requests of members open complaints of this "
        "type.")
