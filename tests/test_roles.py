# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What a store cashier, an area manager and an integrator may see and do,
each through the server's RPC as that user."""
import re
import unittest
from decimal import Decimal
from pathlib import Path

from proteus import Model
from trytond.model import ModelSingleton
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import drop_db
from trytond.tests.tools import activate_modules, set_user

from omni_o2o.exceptions import OrderError, PickupError, TillError
from omni_retail.tests import (
    create_mall, create_till_chain, receive, set_company_country)
from omni_return.exceptions import ReturnError

from . import PRODUCT_MODULES

ROLES_DOC = Path(__file__).parent.parent / 'doc' / 'roles.md'
ROLES = ['store staff', 'manager', 'integrator']


def documented_rights():
    """Return {model: {role: rights}} of the rights matrix of doc/roles.md,
    rights as 'rwcd' with '-' for each verb refused"""
    rights = {}
    for line in ROLES_DOC.read_text().splitlines():
        match = re.match(
            r'\| `([\w.-]+)` \| `([rwcd-]{4})` \| `([rwcd-]{4})` '
            r'\| `([rwcd-]{4})` \|', line)
        if match:
            model, *values = match.groups()
            rights[model] = dict(zip(ROLES, values))
    return rights


class RolesTestCase(unittest.TestCase):
    "A cashier of S01 sees S01 alone; the manager sees the chain"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        cls.config = activate_modules(PRODUCT_MODULES)
        cls.addClassCleanup(drop_db)
        cash, (s01, s02), (tea,) = create_till_chain(['S01', 'S02'], ['TEA'])
        company = set_company_country()
        create_mall()
        Channel = Model.get('omni.channel')
        Group = Model.get('res.group')
        User = Model.get('res.user')
        platform = Channel(code='MEITUAN', name="Meituan", kind='platform',
            warehouse=s01.warehouse, platform_secret='s3cret')
        platform.save()
        for store in [s01, s02]:
            receive(tea, store, 10)
            cls.till_sale(store, tea, cash)
        Threshold = Model.get('omni.stock.threshold')
        Threshold(product=tea, minimum=20).save()
        Model.get('omni.stock.alert').compute(cls.config.context)
        staff, = Group.find([('name', '=', "Omni Retail Store Staff")])
        managers, = Group.find([('name', '=', "Omni Retail Manager")])
        pos, = Group.find([('name', '=', "POS")])
        Company = Model.get('company.company')
        cls.cashier = User(login='cashier', name="Cashier", omni_store=s01)
        cls.cashier.groups.append(Group(staff.id))
        cls.manager = User(login='area', name="Area Manager")
        cls.manager.groups.append(Group(managers.id))
        for user in [cls.cashier, cls.manager]:
            user.groups.append(Group(pos.id))
            user.companies.append(Company(company.id))
            user.company = Company(company.id)
            user.save()
        integrators, = Group.find([('name', '=', "Omni Retail Integrator")])
        cls.integrator = User(login='integrator', name="Mall Integrator")
        cls.integrator.groups.append(Group(integrators.id))
        cls.integrator.companies.append(Company(company.id))
        cls.integrator.company = Company(company.id)
        cls.integrator.save()
        Method = Model.get('sale.point.payment.method')
        Method(name="Online", account=cash.account, omni_online=True).save()
        for number, store in enumerate([s01, s02], 1):
            store.pickup = True
            store.save()
            Model.get('omni.order').place({
                    'channel': 'MALL', 'reference': f'ROLES-{number}',
                    'member_phone': '13800000001', 'fulfilment': 'pickup',
                    'store': store.code,
                    'lines': [{'product': 'TEA', 'quantity': 1}],
                    }, cls.config.context)
        cls.order_id, = [s.id for s in Model.get('sale.sale').find(
                [('omni_reference', '=', 'ROLES-1')])]
        cls.store_of = {s.id: s.code for s in [s01, s02]}
        cls.point_of = {s.code: s.sale_point.id for s in [s01, s02]}
        cls.store_of_warehouse = {s.warehouse.id: s.code for s in [s01, s02]}

    @staticmethod
    def till_sale(store, product, cash):
        Sale = Model.get('sale.point.sale')
        sale = Sale(point=store.sale_point)
        line = sale.lines.new()
        line.product = product
        line.quantity = 1
        sale.save()
        pay = sale.click('pay')
        pay.form.method = cash
        pay.execute('pay')

    def tearDown(self):
        set_user(1, self.config)

    def seen(self, model, field, codes):
        "Return the codes of the field's value of the records of model"
        Record = Model.get(model)
        return {codes[getattr(r, field).id] for r in Record.find([])}

    def test_cashier_sees_their_store(self):
        "Stock, alerts and till sales of S01 only"
        set_user(self.cashier, self.config)
        self.assertEqual(self.seen('omni.stock.alert', 'store', self.store_of), {'S01'})
        self.assertEqual(self.seen('omni.stock.level', 'warehouse',
                self.store_of_warehouse), {'S01'})
        Sale = Model.get('sale.point.sale')
        Channel = Model.get('omni.channel')
        s01, = Channel.find([('code', '=', 'S01')])
        sales = Sale.find([])
        self.assertTrue(sales)
        self.assertTrue(all(s.point == s01.sale_point for s in sales))

    def test_manager_sees_the_chain(self):
        "Stock, alerts and till sales of every store"
        set_user(self.manager, self.config)
        self.assertEqual(self.seen('omni.stock.alert', 'store',
                self.store_of), {'S01', 'S02'})
        self.assertEqual(self.seen('omni.stock.level', 'warehouse',
                self.store_of_warehouse), {'S01', 'S02'})
        Sale = Model.get('sale.point.sale')
        self.assertEqual({self.store_code(s.point.id) for s in Sale.find([])},
            {'S01', 'S02'})

    def test_cashier_cannot_run_the_chain(self):
        """No channel changes, replenishment, price checks, policies or
        member merges"""
        set_user(self.cashier, self.config)
        Channel = Model.get('omni.channel')
        Policy = Model.get('omni.price.policy')
        Replenishment = Model.get('omni.stock.replenishment')
        Violation = Model.get('omni.price.violation')
        s02, = Channel.find([('code', '=', 'S02')])
        s02.name = "Mine now"
        with self.assertRaises(AccessError):
            s02.save()
        with self.assertRaises(AccessError):
            Replenishment.replenish(self.config.context)
        with self.assertRaises(AccessError):
            Violation.refresh(self.config.context)
        with self.assertRaises(AccessError):
            Policy(product=Model.get('product.product').find([])[0]).save()
        # Refused before the numbers are even looked up
        with self.assertRaises(AccessError):
            Model.get('omni.member').merge(
                'NO-1', 'NO-2', None, self.config.context)

    def test_nobody_reads_the_webhook_secret(self):
        "The platform's secret is never shown, not even to the manager"
        for user in [self.cashier, self.manager]:
            set_user(user, self.config)
            Channel = Model.get('omni.channel')
            platform, = Channel.find([('code', '=', 'MEITUAN')])
            self.assertEqual(platform.platform_secret, '********')
            # The secrets' own model answers no call at all
            with self.assertRaises(TypeError):
                Model.get('omni.platform.secret').find([])

    def store_code(self, point):
        return next(c for c, p in self.point_of.items() if p == point)

    def receipt(self, store):
        "Return the till sale rung up at store when the chain was set up"
        Sale = Model.get('sale.point.sale')
        sale, = Sale.find([
                ('point', '=', self.point_of[store]),
                ('omni_return_of', '=', None),
                ])
        return sale

    def test_cashier_takes_returns_at_their_store(self):
        "Any receipt comes back at S01, none at S02"
        number = self.receipt('S02').number
        Order = Model.get('omni.order')
        set_user(self.cashier, self.config)
        line = [{'product': 'TEA', 'quantity': 1, 'reason': 'quality'}]
        with self.assertRaises(ReturnError):
            Order.return_goods(number, 'S02', line, 'original',
                self.config.context)
        back = Order.return_goods(number, 'S01', line, 'original',
            self.config.context)
        self.assertEqual((back['store'], back['order']), ('S01', number))

    def test_till_page_is_the_cashiers_own(self):
        "The cashier page runs the cashier's till only; a manager has none"
        s02_receipt = self.receipt('S02').id
        Till = Model.get('omni.till')
        set_user(self.cashier, self.config)
        self.assertEqual(Till.start(self.config.context)['store']['code'],
            'S01')
        with self.assertRaises(TillError):
            Till.sale(s02_receipt, self.config.context)
        set_user(self.manager, self.config)
        with self.assertRaises(TillError):
            Till.start(self.config.context)

    def test_cashier_moves_money_and_states_through_the_till_only(self):
        """Generic RPC writes no price, quantity, payment, state, member
        level, number or name; the till does the same sale's work"""
        Till = Model.get('omni.till')
        Line = Model.get('sale.point.sale.line')
        Method = Model.get('sale.point.payment.method')
        Payment = Model.get('sale.point.payment')
        TillSale = Model.get('sale.point.sale')
        Sale = Model.get('sale.sale')
        SaleLine = Model.get('sale.line')
        Party = Model.get('party.party')
        online, = Method.find([('name', '=', "Online")])
        cash, = Method.find([('name', '=', "Cash")])
        set_user(self.cashier, self.config)
        context = self.config.context
        sale = Till.add(None, 'TEA', 1, context)
        line_id = sale['lines'][0]['id']
        refused = [
            lambda: Line.write([line_id],
                {'unit_gross_price': Decimal('0.01')}, context),
            lambda: Line.write([line_id], {'quantity': 1000000}, context),
            lambda: Line.create([{'sale': sale['id'], 'product':
                        Line(line_id).product.id, 'quantity': 1}], context),
            lambda: Payment.create([{'sale': sale['id'], 'method': online.id,
                        'amount': Decimal(sale['to_pay'])}], context),
            lambda: TillSale.write([sale['id']], {'state': 'done'}, context),
            lambda: Sale.write([self.order_id],
                {'o2o_state': 'picked_up'}, context),
            lambda: Sale.write([self.order_id],
                {'pay_at_pickup': True}, context),
            lambda: SaleLine.write([l.id for l in Sale(
                            self.order_id).lines], {'unit_price': 0},
                context),
            ]
        member, = Party.find([('member_number', '!=', None)], limit=1)
        for values in [{'name': "Someone"}, {'member_number': 'M0'},
                {'member_level': None}]:
            refused.append(lambda values=values: Party.write(
                    [member.id], values, context))
        for attempt in refused:
            with self.assertRaises(AccessError):
                attempt()
        # The till offers no online payment, and takes the cash
        with self.assertRaises(TillError):
            Till.pay(sale['id'], online.id, sale['to_pay'], context)
        done = Till.pay(sale['id'], cash.id, sale['to_pay'], context)
        self.assertEqual(done['state'], 'done')
        set_user(1, self.config)
        line = Line(line_id)
        self.assertEqual((line.quantity, line.unit_gross_price),
            (1, Decimal(sale['lines'][0]['unit_price'])))
        self.assertEqual([p.method.name for p in TillSale(
                    sale['id']).payments], ["Cash"])
        order = Sale(self.order_id)
        self.assertEqual((order.o2o_state, order.pay_at_pickup),
            ('reserved', False))
        self.assertNotEqual(Party(member.id).name, "Someone")

    def test_cashier_by_generic_rpc(self):
        """A cashier of S01 searching every list the web client shows reads
        their store's orders, till sales and stock, no ledger lines and no
        audit log; they write no price, level, ledger or other store's
        sale"""
        Level = Model.get('omni.stock.level')
        POSSale = Model.get('sale.point.sale')
        Template = Model.get('product.template')
        context = self.config.context
        other_sale, = POSSale.find(
            [('point', '=', self.point_of['S02'])], limit=1)
        other_date = other_sale.date
        level, = Level.find([], limit=1)
        template, = Template.find([], limit=1)
        set_user(self.cashier, self.config)

        def read(model, field):
            return {r[field] for r in Model.get(model).search_read(
                    [], 0, None, None, [field], context)}
        self.assertEqual({self.store_of[s] for s in read(
                    'sale.sale', 'omni_store')}, {'S01'})
        self.assertEqual(read('sale.point.sale', 'point'),
            {self.point_of['S01']})
        self.assertEqual({self.store_of_warehouse[w] for w in read(
                    'omni.stock.level', 'warehouse')}, {'S01'})
        for model in ['omni.member.points', 'omni.member.stored_value',
                'omni.audit.log']:
            with self.assertRaises(AccessError, msg=model):
                read(model, 'id')
        for model, ids, values in [
                ('product.template', [template.id],
                    {'list_price': Decimal('0.01')}),
                ('omni.stock.level', [level.id], {'on_hand': 1000}),
                ('sale.point.sale', [other_sale.id],
                    {'date': other_date}),
                ]:
            with self.assertRaises(AccessError, msg=model):
                Model.get(model).write(ids, values, context)
        member, = Model.get('party.party').find(
            [('member_number', '!=', None)], limit=1)
        with self.assertRaises(AccessError):
            Model.get('omni.member.points').create([{
                        'member': member.id, 'points': 1000,
                        'kind': 'adjust'}], context)

    def test_no_group_no_order_status(self):
        "A user of no group of ours is told nothing of any order"
        Company = Model.get('company.company')
        User = Model.get('res.user')
        company, = Company.find([])
        nobody = User(login='nobody', name="Nobody")
        nobody.companies.append(company)
        nobody.company = company
        nobody.save()
        number = Model.get('sale.sale')(self.order_id).number
        set_user(nobody, self.config)
        with self.assertRaises(AccessError):
            Model.get('omni.order').status(number, self.config.context)

    def test_pickup_at_their_store_only(self):
        """A cashier hands over their store's orders, not another store's:
        refused before any code is tried"""
        Order = Model.get('omni.order')
        set_user(self.cashier, self.config)
        with self.assertRaises(AccessError):
            Order.pickup('S02', '000000', None, self.config.context)
        with self.assertRaises(PickupError):
            Order.pickup('S01', '000000', None, self.config.context)

    def test_staff_and_integrators_see_phones_masked(self):
        "No whole number by the party's phone fields or contact names"
        Party = Model.get('party.party')
        Mechanism = Model.get('party.contact_mechanism')
        context = self.config.context
        for user in [self.cashier, self.integrator]:
            set_user(user, self.config)
            for fields in [['phone'], ['mobile'], ['phone_key']]:
                with self.assertRaises(AccessError):
                    Party.search_read([], 0, None, None, fields, context)
            with self.assertRaises(AccessError):
                Mechanism.search_read([], 0, None, None, ['value'], context)
            names = [m['rec_name'] for m in Mechanism.search_read(
                    [('type', 'in', ['phone', 'mobile'])], 0, None, None,
                    ['rec_name'], context)]
            self.assertTrue(names)
            self.assertFalse([n for n in names if '13800000001' in n])
            self.assertTrue(all('****' in n for n in names), names)
            member, = Party.find([('member_number', '!=', None)], limit=1)
            self.assertIn('****', member.member_phone)

    def rights(self, model):
        """Return the rights the current user has on model as 'rwcd', as the
        web client is told; each refusal proven by trying the verb by
        generic RPC, with nothing to read or write"""
        proxy = Model.get(model)._proxy
        context = self.config.context
        access, = Model.get('ir.model.access')._proxy.get_access(
            [model], context).values()
        attempts = {
            'read': lambda: proxy.search_read([], 0, 1, None, ['id'], context),
            'write': lambda: proxy.write([], {}, context),
            'create': lambda: proxy.create([{}], context),
            'delete': lambda: proxy.delete([], context),
            }
        try:
            attempts.pop('read')()
        except AccessError:
            rights = '-'
        except Exception:
            rights = 'r'  # past the access checks, wanting a context
        else:
            rights = 'r'
        for verb, attempt in attempts.items():
            if access[verb]:
                rights += verb[0]
                continue
            rights += '-'
            try:
                created = attempt()
            except Exception:
                continue
            if verb == 'create':
                self.created.append((model, created))
            self.fail(f"{model} allows {verb} against its access")
        return rights

    def test_rights_matrix(self):
        """Every model of the generic RPC answers each role as the matrix of
        doc/roles.md says; a model not in it is read at most"""
        pool = Pool(self.config.database_name)
        models = sorted(name for name, Model_ in pool.iterobject()
            if {'search_read', 'create'} <= Model_.__rpc__.keys())
        documented = documented_rights()
        self.assertLessEqual(documented.keys(), set(models))
        # Settings exist, as a refused delete of none would delete nothing
        for model in models:
            if issubclass(pool.get(model), ModelSingleton):
                Model.get(model)._proxy.write([], {}, self.config.context)
        users = dict(zip(ROLES, [self.cashier, self.manager, self.integrator]))
        observed = {model: {} for model in models}
        self.created = []
        try:
            for role, user in users.items():
                set_user(user, self.config)
                for model in models:
                    observed[model][role] = self.rights(model)
        finally:
            set_user(1, self.config)
            for model, ids in self.created:
                Model.get(model)._proxy.delete(ids, self.config.context)
        changes = {model for model, rights in observed.items()
            if any(r[1:] != '---' for r in rights.values())
            or model.startswith('omni.') or model == 'res.user'}
        shown = sorted(changes | documented.keys())
        self.assertEqual(
            {model: observed[model] for model in shown},
            {model: documented.get(model) for model in shown},
            '\n'.join(f"| `{model}` | "
                + ' | '.join(f"`{observed[model][r]}`" for r in ROLES)
                + ' |' for model in shown))

    def test_store_staff_see_their_store_of_the_chain(self):
        """Orders, order status, ledgers, coupon codes and users of other
        stores follow doc/roles.md; every store's availability answers"""
        Center = Model.get('omni.order.center')
        Order = Model.get('omni.order')
        Points = Model.get('omni.member.points')
        Number = Model.get('sale.promotion.coupon.number')
        User = Model.get('res.user')
        Stock = Model.get('omni.stock')
        context = self.config.context
        Sale = Model.get('sale.sale')
        number = Sale(self.order_id).number
        other, = [s.number for s in Sale.find(
                [('omni_reference', '=', 'ROLES-2')])]
        Message = Model.get('omni.order.message')
        Sale.click(Sale.find([('omni_reference', 'like', 'ROLES-%')]),
            'o2o_ready')
        self.assertEqual(len(Message.find([])), 2)
        every = {o.store.code for o in Center.find([])}
        self.assertEqual(every, {'S01', 'S02'})
        set_user(self.cashier, self.config)
        self.assertEqual({o.store.code for o in Center.find([])}, {'S01'})
        self.assertEqual(
            Order.status(number, context)['number'], number)
        with self.assertRaises(OrderError):
            Order.status(other, context)
        with self.assertRaises(AccessError):
            Points.find([])
        messages = Message.search_read([], 0, None, None,
            ['sale', 'masked_recipient'], context)
        self.assertEqual({m['sale'] for m in messages}, {self.order_id})
        self.assertEqual({m['masked_recipient'] for m in messages},
            {'+86 138****0001'})
        with self.assertRaises(AccessError):
            Message.search_read([], 0, None, None, ['recipient'], context)
        self.assertEqual(Number.find([]), [])
        for field in ['login', 'groups', 'omni_store']:
            with self.assertRaises(AccessError):
                User.search_read([], 0, None, None, [field], context)
        self.assertEqual(
            Stock.availability(['TEA'], ['S01', 'S02'], context)['TEA'],
            {'S01': 8, 'S02': 8})
