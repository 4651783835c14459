# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""No balance below zero: tills, the online mall and a delivery platform spend
one member's stored value or points at the same moment, each on its own
connection (PostgreSQL only: SQLite writes one at a time)."""
from collections import Counter
from decimal import Decimal

from trytond.modules.company.tests.tools import create_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from omni_members.exceptions import InsufficientBalanceError
from omni_retail.tests import (
    RaceTestCase, at_once, create_store, run_committed, set_company_country)

STORED_VALUE = Decimal('1000')
PAYMENT = Decimal('30')
PAYERS = 60
POINTS = 500
REDEMPTION = 40
REDEEMERS = 55


class LedgerRaceTestCase(RaceTestCase):
    "Sixty payers and fifty-five redeemers on one member's balances"
    modules = 'omni_members'

    @classmethod
    def setUpChain(cls):
        create_company()
        company = set_company_country()
        create_store('S01')
        cls.context = {'company': company.id}

        def register():
            Member = Pool().get('omni.member')
            return Member.register('138 0013 8000', "Racer", 'S01')
        member, _ = run_committed(register, cls.context)
        cls.member = member['id']

    def race(self, Ledger, callers, **values):
        """Let callers add at once, each in its own committed transaction, a
        line of values to the member's ledger; return how many succeeded and
        how many were refused"""
        def work():
            pool = Pool()
            Line = pool.get(Ledger)
            Party = pool.get('party.party')
            try:
                Line.add([Line(member=Party(self.member), **values)])
            except InsufficientBalanceError:
                return False
            return True

        def caller(i):
            try:
                return run_committed(work, self.context)[0]
            except Exception as e:
                return e

        results = at_once(caller, callers)

        outcomes = Counter(results)
        self.assertEqual(
            set(outcomes) - {True, False}, set(), msg=results)
        return outcomes[True], outcomes[False]

    def give(self, Ledger, **values):
        "Add an adjustment of values to the member's ledger, committed"
        def work():
            pool = Pool()
            Line = pool.get(Ledger)
            Party = pool.get('party.party')
            Line.add([Line(member=Party(self.member), kind='adjust',
                        reason="race", **values)])
        run_committed(work, self.context)

    def ledger(self, Ledger, kind):
        "Return the member's balance and number of lines of kind"
        with Transaction().start(DB_NAME, 1, context=self.context):
            pool = Pool()
            Line = pool.get(Ledger)
            balance = Line.balances([self.member])[self.member]
            lines = Line.search([
                    ('member', '=', self.member),
                    ('kind', '=', kind),
                    ], count=True)
            return balance, lines

    def test_stored_value(self):
        "Exactly the payments the stored value covers are accepted"
        self.give('omni.member.stored_value', amount=STORED_VALUE)
        paid = int(STORED_VALUE // PAYMENT)

        accepted, refused = self.race('omni.member.stored_value', PAYERS,
            kind='pay', amount=-PAYMENT)

        self.assertEqual((accepted, refused), (paid, PAYERS - paid))
        balance, payments = self.ledger('omni.member.stored_value', 'pay')
        self.assertEqual(balance, Decimal('10.00'))
        self.assertEqual(balance, STORED_VALUE - paid * PAYMENT)
        self.assertEqual(payments, paid)

    def test_points(self):
        "Exactly the redemptions the points cover are accepted"
        self.give('omni.member.points', points=POINTS)
        redeemed = POINTS // REDEMPTION

        accepted, refused = self.race('omni.member.points', REDEEMERS,
            kind='redeem', points=-REDEMPTION)

        self.assertEqual((accepted, refused), (redeemed, REDEEMERS - redeemed))
        balance, redemptions = self.ledger('omni.member.points', 'redeem')
        self.assertEqual(balance, 20)
        self.assertEqual(balance, POINTS - redeemed * REDEMPTION)
        self.assertEqual(redemptions, redeemed)
