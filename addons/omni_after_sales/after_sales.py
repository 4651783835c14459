# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import Model
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import check_access

from .complaint import KINDS
from .exceptions import AfterSalesError


class AfterSales(Model):
    "After-sales requests (售后) of members, on Tryton's sale complaints"
    __name__ = 'omni.after_sales'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'request': RPC(readonly=False, check_access=False),
                'status': RPC(readonly=True),
                })

    @classmethod
    def request(cls, order_number, member_phone, kind, description):
        """Open an after-sales request of kind (exchange, repair or
        complaint) on the member's order; return it"""
        pool = Pool()
        Complaint = pool.get('sale.complaint')
        Date = pool.get('ir.date')
        ModelAccess = pool.get('ir.model.access')
        with check_access():
            ModelAccess.check('sale.complaint', 'create')
        sale = cls.members_order(order_number, member_phone)
        complaint = Complaint(customer=sale.party, company=sale.company,
            type=cls.complaint_type(kind), origin=sale,
            reference=sale.number, date=Date.today(),
            description=description)
        complaint.save()
        Complaint.wait([complaint])
        return cls.describe(complaint)

    @classmethod
    def status(cls, request_number):
        "Return the after-sales request of number, as a customer is told"
        pool = Pool()
        Complaint = pool.get('sale.complaint')
        complaints = Complaint.search(
            [('number', '=', request_number)], limit=1)
        if not complaints:
            raise AfterSalesError(gettext(
                    'omni_after_sales.msg_after_sales_unknown',
                    number=request_number))
        return cls.describe(complaints[0])

    @classmethod
    def members_order(cls, number, member_phone):
        "Return the order of number if it is the member's of member_phone"
        pool = Pool()
        Member = pool.get('omni.member')
        Sale = pool.get('sale.sale')
        sales = Sale.search([('number', '=', number)], limit=1)
        member = Member.lookup(member_phone) if member_phone else None
        if not sales or not member or sales[0].party.id != member['id']:
            raise AfterSalesError(gettext(
                    'omni_after_sales.msg_after_sales_order',
                    order=number, phone=member_phone))
        return sales[0]

    @classmethod
    def complaint_type(cls, kind):
        pool = Pool()
        Type = pool.get('sale.complaint.type')
        types = Type.search([('omni_kind', '=', kind)], limit=1)
        if not types:
            raise AfterSalesError(gettext(
                    'omni_after_sales.msg_after_sales_kind', kind=kind,
                    kinds=', '.join(k for k, _ in KINDS)))
        return types[0]

    @classmethod
    def describe(cls, complaint):
        return {
            'number': complaint.number,
            'order': complaint.reference,
            'kind': complaint.type.omni_kind,
            'state': complaint.state,
            'state_label': gettext(
                f'omni_after_sales.msg_after_sales_state_{complaint.state}'),
            }
