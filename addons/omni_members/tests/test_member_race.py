# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""One member per mobile, even when a till and the mall register the same
customer at the same moment (PostgreSQL only: SQLite writes one at a time)."""

from proteus import Model
from trytond.modules.company.tests.tools import create_company
from trytond.pool import Pool

from omni_retail.tests import (
    RaceTestCase, at_once, create_store, run_committed, set_company_country)

FORMATS = ['138 0013 8000', '+86 138-0013-8000', '8613800138000',
    '0086 138 0013 8000', '13800138000']
CALLERS = 30


class MemberRaceTestCase(RaceTestCase):
    "Thirty channels register one mobile at once"
    modules = 'omni_members'

    @classmethod
    def setUpChain(cls):
        create_company()
        company = set_company_country()
        create_store('S01')
        cls.context = {'company': company.id}

    def test_one_member(self):
        "Every caller gets the same member, made once"
        def register(i):
            def work():
                Member = Pool().get('omni.member')
                return Member.register(
                    FORMATS[i % len(FORMATS)], f"Caller {i}", 'S01')
            return run_committed(work, self.context)[0]

        results = at_once(register, CALLERS)

        self.assertEqual(len({r['id'] for r in results}), 1, msg=results)
        self.assertEqual(sum(r['created'] for r in results), 1)
        Party = Model.get('party.party')
        self.assertEqual(
            len(Party.find([('phone_key', '=', '+8613800138000')])), 1)
