# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Every sensitive action leaves its line in the audit log, which managers
read and nobody changes, each through the server's RPC as that user."""
import unittest
from decimal import Decimal

from proteus import Model, Wizard
from trytond.model.exceptions import AccessError
from trytond.tests.test_tryton import drop_db
from trytond.tests.tools import activate_modules, set_user

from omni_retail.tests import (
    create_mall, create_till_chain, set_company_country)

from . import PRODUCT_MODULES


class AuditTestCase(unittest.TestCase):
    "Prices, merges, adjustments and erasures are audited"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        cls.config = activate_modules(PRODUCT_MODULES)
        cls.addClassCleanup(drop_db)
        _, (s01,), (tea,) = create_till_chain(['S01'], ['TEA'])
        company = set_company_country()
        cls.mall = create_mall()
        cls.tea = tea
        Group = Model.get('res.group')
        User = Model.get('res.user')
        Company = Model.get('company.company')
        users = {}
        for login, group in [
                ('cashier', "Omni Retail Store Staff"),
                ('area', "Omni Retail Manager")]:
            group, = Group.find([('name', '=', group)])
            user = User(login=login, name=login, omni_store=s01)
            user.groups.append(Group(group.id))
            user.companies.append(Company(company.id))
            user.company = Company(company.id)
            user.save()
            users[login] = user
        cls.cashier, cls.manager = users['cashier'], users['area']

    def tearDown(self):
        set_user(1, self.config)

    def logged(self, action, record):
        Audit = Model.get('omni.audit.log')
        return Audit.find([
                ('action', '=', action),
                ('record', '=', f'{record.__class__.__name__},{record.id}'),
                ])

    def member(self, phone):
        Member = Model.get('omni.member')
        Party = Model.get('party.party')
        found = Member.register(phone, "会员", 'S01', self.config.context)
        return Party(found['id'])

    def test_price_changes(self):
        "A list price, a price list line, a channel's price list"
        template = self.tea.template
        template.list_price = Decimal('6')
        template.save()
        line = self.logged('price_change', template)[0]
        self.assertEqual(line.user.id, 1)
        self.assertIn('"list_price": "6', line.details)
        PriceList = Model.get('product.price_list')
        price_list = PriceList(name="Mall prices")
        price_line = price_list.lines.new()
        price_line.product = self.tea
        price_line.formula = 'unit_price * 0.9'
        price_list.save()
        price_line, = price_list.lines
        self.assertEqual(len(self.logged('price_change', price_line)), 1)
        price_line.formula = 'unit_price * 0.8'
        price_list.save()
        self.assertEqual(len(self.logged('price_change', price_line)), 2)
        self.mall.price_list = price_list
        self.mall.save()
        line, = self.logged('channel_price_list', self.mall)
        self.assertIn("Mall prices", line.details)

    def test_member_actions(self):
        "A merge, a manual adjustment and an erasure"
        Member = Model.get('omni.member')
        source = self.member('13900000001')
        target = self.member('13900000002')
        Member.merge(source.member_number, target.member_number,
            "same person", self.config.context)
        Merge = Model.get('omni.member.merge')
        merge, = Merge.find([('source', '=', source.id)])
        line, = self.logged('member_merge', merge)
        self.assertIn("same person", line.details)

        adjust = Wizard('omni.member.adjust', [target])
        adjust.form.member = target
        adjust.form.points = 50
        adjust.form.reason = "goodwill"
        adjust.execute('adjust')
        line, = self.logged('member_adjust', target)
        self.assertIn('goodwill', line.details)

        erased = self.member('13900000003')
        number = erased.member_number
        erased.active = False
        erased.save()
        erase = Wizard('party.erase', models=[erased])
        erase.execute('erase')
        line, = self.logged('member_erase', erased)
        self.assertIn(number, line.details)

    def test_log_is_read_only(self):
        "A cashier cannot read the log; a manager reads it, nobody changes it"
        Audit = Model.get('omni.audit.log')
        template = self.tea.template
        template.list_price = Decimal('7')
        template.save()
        set_user(self.cashier, self.config)
        Audit = Model.get('omni.audit.log')
        with self.assertRaises(AccessError):
            Audit.find([])
        set_user(self.manager, self.config)
        Audit = Model.get('omni.audit.log')
        lines = Audit.find([])
        self.assertTrue(lines)
        line = lines[0]
        for call, args in [
                ('write', [[line.id], {'details': "forged"}]),
                ('delete', [[line.id]]),
                ('create', [[{'action': 'api_call'}]]),
                ]:
            with self.subTest(call=call), self.assertRaises(Exception):
                getattr(Audit._proxy, call)(*args, self.config.context)
        set_user(1, self.config)
        Audit = Model.get('omni.audit.log')
        line = Audit(line.id)
        self.assertNotEqual(line.details, "forged")
