# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt

from omni_retail.tests import TranslationTestMixin
from trytond.modules.company.tests import CompanyTestMixin, create_company
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction


class OmniMembersTestCase(
        TranslationTestMixin, CompanyTestMixin, ModuleTestCase):
    "Test omni_members module"
    module = 'omni_members'

    @with_transaction()
    def test_points_expire_oldest_first(self):
        "Points expire when due, less what was spent, never twice"
        pool = Pool()
        Party = pool.get('party.party')
        Points = pool.get('omni.member.points')
        create_company()
        member = Party(name="Member", member_number='M1')
        member.save()
        today = dt.date.today()
        month = dt.timedelta(days=30)

        def line(kind, points, expires=None):
            return Points(member=member, kind=kind, points=points,
                expires=expires)
        Points.add([
                line('earn', 100, today - month),
                line('earn', 50, today + month),
                line('redeem', -30),
                ])

        Points.expire(today)
        self.assertEqual(Points.balances([member])[member.id], 50)
        Points.expire(today)
        self.assertEqual(Points.balances([member])[member.id], 50)
        Points.expire(today + 2 * month)
        self.assertEqual(Points.balances([member])[member.id], 0)
        self.assertEqual(
            [l.points for l in Points.search([('kind', '=', 'expire')])],
            [-50, -70])


del ModuleTestCase
