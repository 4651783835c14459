# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Load a realistic demo chain into an activated omni-retail database.

The set-up goes through proteus, as the web client would; the bulk (the
catalog, customers, opening stock and the days of sales) through the same
models in server transactions, by batches, calling the forms' on_change
where they compute a value: every record passes the same checks and
workflows, without a call per field.  The random generator is seeded: the
same counts give the same chain on every machine.
"""
import datetime as dt
import random
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from itertools import zip_longest

from proteus import Model, Wizard
from proteus.config import get_config
from trytond.modules.account.tests.tools import (
    create_chart, create_fiscalyear, create_tax, get_accounts)
from trytond.modules.account_invoice.tests.tools import (
    set_fiscalyear_invoice_sequences)
from trytond.modules.company.tests.tools import create_company
from trytond.pool import Pool
from trytond.transaction import Transaction, TransactionError

COMPANY_NAME = "上海优品连锁有限公司"
PASSWORDS = {
    'admin': 'omni-admin',
    'manager': 'omni-manager',
    'cashier': 'omni-cashier',
    }
# The delivery platforms' webhook secrets of the demo (HMAC-SHA256 keys the
# platform signs its calls with); a real deployment sets its own on the
# channel form and never shows it
PLATFORM_SECRETS = {
    'MEITUAN': 'omni-demo-meituan-webhook',
    }
# load() arguments of the small demo (`demo.py --small`): the same chain,
# fewer products, customers and days of history, loaded in a few minutes
SMALL = {'products': 40, 'customers': 60, 'duplicates': 6, 'days': 5}
# The online mall's integrator key (a real chain lets a manager create keys
# in the web client: they are shown once)
DEMO_API_KEY = 'omni-demo-mall-key-0000000000000000'
MALL_API_METHODS = [
    ('omni.member', 'register'), ('omni.member', 'lookup'),
    ('omni.stock', 'availability'), ('omni.catalog', 'prices'),
    ('omni.order', 'place'), ('omni.order', 'status'),
    ('omni.order', 'search_center'), ('omni.coupon', 'check'),
    ('omni.after_sales', 'request'), ('omni.after_sales', 'status'),
    ]


@dataclass(frozen=True)
class StoreSpec:
    code: str
    name: str
    street: str
    latitude: str
    longitude: str
    delivery: bool
    cashier: str
    replenished: bool = False


STORES = [
    StoreSpec('S01', "徐家汇店 Xujiahui", "漕溪北路 88 号",
        '31.195600', '121.437000', True, "李娜"),
    StoreSpec('S02', "陆家嘴店 Lujiazui", "世纪大道 100 号",
        '31.238600', '121.501000', True, "张伟"),
    StoreSpec('S03', "静安寺店 Jing'an Temple", "南京西路 1618 号",
        '31.224000', '121.446000', False, "王芳", replenished=True),
    ]

# (category, code prefix, [(brand, item, [specs], price range in CNY)])
CATALOG = [
    ("饮料 Beverages", 'BEV', [
        ("农夫山泉", "天然水", ["550ml", "1.5L", "4L"], (2, 12)),
        ("可口可乐", "可乐", ["330ml", "500ml", "2L"], (3, 9)),
        ("康师傅", "冰红茶", ["500ml", "1L"], (3, 6)),
        ("元气森林", "苏打气泡水", ["480ml"], (5, 7)),
        ("东方树叶", "茉莉花茶", ["500ml"], (5, 7)),
        ("王老吉", "凉茶", ["310ml", "500ml"], (4, 7)),
        ("雀巢", "咖啡饮料", ["268ml"], (6, 9)),
        ("椰树", "椰汁", ["245ml", "1L"], (4, 15)),
        ]),
    ("零食 Snacks", 'SNK', [
        ("乐事", "薯片 原味", ["40g", "75g", "135g"], (5, 14)),
        ("旺旺", "雪饼", ["84g", "520g"], (6, 30)),
        ("三只松鼠", "每日坚果", ["25g", "750g"], (5, 129)),
        ("良品铺子", "猪肉脯", ["100g"], (18, 28)),
        ("奥利奥", "夹心饼干", ["97g", "388g"], (7, 25)),
        ("德芙", "丝滑牛奶巧克力", ["43g", "252g"], (9, 55)),
        ("卫龙", "辣条", ["106g", "260g"], (5, 15)),
        ("百草味", "芒果干", ["120g"], (12, 20)),
        ]),
    ("乳制品 Dairy", 'DAI', [
        ("伊利", "纯牛奶", ["250ml", "1L"], (3, 15)),
        ("蒙牛", "特仑苏", ["250ml"], (5, 8)),
        ("光明", "鲜牛奶", ["950ml"], (12, 20)),
        ("安慕希", "希腊风味酸奶", ["205g"], (5, 8)),
        ("养乐多", "活菌型乳酸菌饮品", ["100ml×5"], (10, 14)),
        ("君乐宝", "简醇酸奶", ["150g"], (4, 7)),
        ("妙可蓝多", "奶酪棒", ["100g", "500g"], (12, 60)),
        ]),
    ("粮油调味 Grain & Condiments", 'GRO', [
        ("金龙鱼", "调和油", ["1.8L", "5L"], (25, 90)),
        ("福临门", "东北大米", ["5kg", "10kg"], (35, 80)),
        ("海天", "生抽", ["500ml", "1.28L"], (8, 20)),
        ("李锦记", "蚝油", ["510g"], (12, 18)),
        ("太太乐", "鸡精", ["200g"], (9, 14)),
        ("老干妈", "风味豆豉", ["280g"], (10, 14)),
        ("中粮", "高筋面粉", ["2.5kg"], (18, 28)),
        ("恒顺", "镇江香醋", ["500ml"], (8, 12)),
        ]),
    ("个人护理 Personal Care", 'PER', [
        ("佳洁士", "美白牙膏", ["120g", "180g"], (12, 25)),
        ("海飞丝", "去屑洗发水", ["400ml", "750ml"], (35, 80)),
        ("舒肤佳", "香皂", ["100g"], (5, 8)),
        ("大宝", "SOD蜜", ["200ml"], (12, 18)),
        ("六神", "花露水", ["195ml"], (12, 18)),
        ("维达", "抽纸", ["3层×100抽", "3层×130抽×6"], (4, 30)),
        ("高露洁", "牙刷", ["1支", "3支"], (8, 30)),
        ]),
    ("家居清洁 Household", 'HOU', [
        ("蓝月亮", "洗衣液", ["1kg", "3kg"], (20, 60)),
        ("立白", "洗洁精", ["1kg"], (9, 15)),
        ("威猛先生", "厨房重油污净", ["500g"], (20, 28)),
        ("超能", "洗衣粉", ["1.5kg"], (15, 25)),
        ("妙洁", "保鲜袋", ["中号100只"], (10, 16)),
        ("滴露", "消毒液", ["750ml"], (30, 45)),
        ]),
    ]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN_NAMES = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
    "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华",
    "晓东", "子涵", "浩然", "欣怡", "梓轩", "雨桐", "一诺", "思远", "佳琪",
    ]
STREETS = [
    "淮海中路", "南京东路", "肇嘉浜路", "天目西路", "长寿路", "延安西路",
    "四川北路", "张杨路", "虹桥路", "中山公园路", "武宁路", "浦东大道",
    ]
DISTRICTS = ["徐汇区", "黄浦区", "静安区", "浦东新区", "长宁区", "普陀区"]
MOBILE_PREFIXES = [
    "135", "136", "137", "138", "139", "150", "151", "152", "158", "159",
    "186", "187", "188", "177", "199"]
# How customers type the same mobile number at different tills and sites
PHONE_FORMATS = [
    lambda n: f"{n[:3]} {n[3:7]} {n[7:]}",
    lambda n: f"+86 {n[:3]}-{n[3:7]}-{n[7:]}",
    lambda n: f"86{n}",
    lambda n: n,
    lambda n: f"+86{n}",
    lambda n: f"(+86) {n[:3]} {n[3:7]} {n[7:]}",
    lambda n: f"0086-{n}",
    lambda n: f"{n[:3]}-{n[3:7]}-{n[7:]}",
    ]


class Progress:
    """Print how far a long step has come: on one line rewritten in place on
    a terminal; else (a log, a pipe) a line every tenth of the way, and at
    least every `every` seconds"""

    def __init__(self, label, total, out=sys.stdout, every=30):
        self.label, self.total, self.out = label, total, out
        self.done = 0
        self.every = every
        self._tty = out.isatty()
        self._step = max(1, -(-total // 10))
        self._next = self._step
        self._start = self._last = time.monotonic()

    def advance(self, count=1):
        self.done += count
        if self._tty:
            self.out.write(f"\r  {self.label}: {self.done}/{self.total}")
            if self.done >= self.total:
                self.out.write("\n")
            self.out.flush()
            return
        now = time.monotonic()
        if (self.done >= self.total or self.done >= self._next
                or now - self._last >= self.every):
            self.out.write(f"  {self.label}: {self.done}/{self.total}"
                f" ({now - self._start:.0f} s)\n")
            self.out.flush()
            self._last = now
            while self._next <= self.done:
                self._next += self._step


def save_in_batches(records, label, out, size=50):
    "Save records by batches, showing progress"
    progress = Progress(label, len(records), out)
    for i in range(0, len(records), size):
        batch = records[i:i + size]
        batch[0].__class__.save(batch)
        progress.advance(len(batch))


def log(message, out=sys.stdout):
    out.write(message + "\n")
    out.flush()


def ean13(body12):
    "Return the EAN-13 for 12 digits, check digit included"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def mobile_numbers(rng, count):
    "Return count distinct Chinese mobile numbers"
    numbers = set()
    while len(numbers) < count:
        numbers.add(rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}")
    return sorted(numbers)


def loading_state():
    "Return 'empty', 'partial' or 'loaded'"
    Company = Model.get('company.company')
    User = Model.get('res.user')
    if User.find([('login', '=', 'manager')], limit=1):
        return 'loaded'
    elif Company.find([], limit=1):
        return 'partial'
    return 'empty'



def load(products=240, customers=520, duplicates=24, days=90, seed=2026,
        out=sys.stdout):
    "Load the whole demo chain; return a summary dict"
    rng = random.Random(seed)
    config = get_config()
    steps = [
        "company, currency and country",
        "accounts, fiscal year and tax",
        "stores, warehouses and tills",
        "online mall and delivery platform",
        "catalog",
        "opening stock",
        "channel prices",
        "customers",
        "members",
        "member levels, points and stored value",
        f"sales of the last {days} days",
        "stock thresholds, alerts and replenishment",
        "staff and logins",
        "coupon campaigns",
        "online orders",
        "returns at the stores",
        ]
    step = iter(range(1, len(steps) + 1))
    start = time.monotonic()

    def announce(name):
        log(f"[{next(step)}/{len(steps)}] {name} "
            f"({time.monotonic() - start:.0f} s)", out)

    announce(steps[0])
    company = _create_company(config)
    announce(steps[1])
    accounts, tax = _create_accounting(company)
    announce(steps[2])
    warehouses, stores = _create_stores(company, accounts)
    announce(steps[3])
    mall, platform = _create_online_channels(company, warehouses, stores)
    announce(steps[4])
    catalog = _create_catalog(company, accounts, tax, products, rng, out)
    announce(steps[5])
    _stock_warehouses(company, catalog, warehouses, days, rng, out)
    announce(steps[6])
    _set_channel_prices(platform, catalog)
    announce(steps[7])
    phones = _create_customers(customers, duplicates, rng, out)
    announce(steps[8])
    members = _enrol_members(phones, out)
    announce(steps[9])
    _set_up_member_ledgers(company, accounts, tax, out)
    announce(steps[10])
    history = _sell_history(stores, [mall, platform], catalog, days, rng, out)
    announce(steps[11])
    alerts = _set_stock_thresholds(catalog)
    announce(steps[12])
    users = _create_users(company, stores)
    users.append(_create_integrator(company, mall))
    announce(steps[13])
    coupons = _create_campaigns(company, stores, phones)
    announce(steps[14])
    orders = _place_online_orders(catalog, phones, coupons)
    announce(steps[15])
    returns = _take_returns()
    _close_configuration_wizard()
    return {
        'company': company.rec_name,
        'stores': [s.rec_name for s in stores],
        'online': mall.rec_name,
        'platform': platform.rec_name,
        'products': len(catalog),
        'customers': len(phones),
        'members': members,
        'users': users,
        'orders': orders,
        'returns': returns,
        'alerts': alerts,
        'till_sales': history['till'],
        'online_sales': history['online'],
        }


def _create_company(config):
    Country = Model.get('country.country')
    Currency = Model.get('currency.currency')
    Party = Model.get('party.party')

    china, = Country.find([('code', '=', 'CN')]) or [
        Country(name="China", code='CN', code3='CHN', code_numeric='156')]
    china.save()
    cny, = Currency.find([('code', '=', 'CNY')]) or [
        Currency(name="Chinese Yuan Renminbi", code='CNY', symbol='¥',
            numeric_code='156', rounding=Decimal('0.01'), digits=2)]
    cny.save()
    Rate = Model.get('currency.currency.rate')
    if not cny.rates:
        Rate(currency=cny, date=dt.date(2020, 1, 1), rate=Decimal(1)).save()

    party = Party(name=COMPANY_NAME)
    address, = party.addresses
    address.street = "肇嘉浜路 1065 号"
    address.city = "上海"
    address.postal_code = '200030'
    address.country = china
    party.save()
    create_company(party, cny, config=config)
    Company = Model.get('company.company')
    company, = Company.find()
    return company


def _create_accounting(company):
    create_chart(company)
    fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(company))
    fiscalyear.click('create_period')
    accounts = get_accounts(company)
    tax = create_tax(Decimal('0.13'), company)
    tax.name = tax.description = "增值税 VAT 13%"
    tax.save()
    return accounts, tax


def _create_warehouse(code, name, street=None):
    Location = Model.get('stock.location')
    children = {
        kind: Location(name=f"{name} {label}", code=f"{code}-{suffix}",
            type='storage')
        for kind, label, suffix in [
            ('input_location', "收货区 Input", 'IN'),
            ('output_location', "出货区 Output", 'OUT'),
            ('storage_location', "货架 Shelves", 'STO'),
            ]}
    Location.save(list(children.values()))
    lost_found, = Location.find([('type', '=', 'lost_found')], limit=1)
    warehouse = Location(name=name, code=code, type='warehouse',
        lost_found_location=lost_found, **children)
    warehouse.save()
    return warehouse


def _create_stores(company, accounts):
    Channel = Model.get('omni.channel')
    Journal = Model.get('account.journal')
    Location = Model.get('stock.location')
    PaymentMethod = Model.get('sale.point.payment.method')
    POS = Model.get('sale.point')
    SequenceStrict = Model.get('ir.sequence.strict')
    SequenceType = Model.get('ir.sequence.type')
    Account = Model.get('account.account')

    central, = Location.find([('code', '=', 'WH')])
    central.name = "中心仓 Central Warehouse"
    central.save()
    journal, = Journal.find([('type', '=', 'revenue')], limit=1)
    customer_location, = Location.find([('code', '=', 'CUS')])
    pos_sequence_type, = SequenceType.find([('name', '=', "POS")], limit=1)
    company_address, = company.party.addresses

    warehouses = {'WH': central}
    stores = []
    for spec in STORES:
        warehouse = _create_warehouse(spec.code, spec.name)
        warehouses[spec.code] = warehouse
        pos = POS(name=f"{spec.name} 1号收银台", journal=journal)
        pos.sequence = SequenceStrict(
            name=f"POS {spec.code}", company=company,
            sequence_type=pos_sequence_type, prefix=f'{spec.code}-')
        pos.sequence.save()
        pos.storage_location = warehouse.storage_location
        pos.customer_location = customer_location
        pos.save()
        address = company.party.addresses.new()
        address.building_name = spec.name
        address.street = spec.street
        address.city = "上海"
        address.country = company_address.country
        company.party.save()
        stores.append(Channel(
                code=spec.code, name=spec.name, kind='store',
                warehouse=warehouse, sale_point=pos,
                address=company.party.addresses[-1],
                latitude=Decimal(spec.latitude),
                longitude=Decimal(spec.longitude),
                pickup=True, delivery=spec.delivery,
                replenish_from=central if spec.replenished else None))
    Channel.save(stores)

    methods = [PaymentMethod(name="现金 Cash", account=accounts['cash'],
            cash=True)]
    for name in ["银行卡 Bank Card", "微信支付 WeChat Pay", "支付宝 Alipay",
            "线上支付 Online Payment"]:
        account, = accounts['cash'].duplicate(default={'name': name})
        methods.append(PaymentMethod(name=name, account=Account(account.id),
                omni_refund=True, omni_online=name.endswith("Online Payment")))
    PaymentMethod.save(methods)
    return warehouses, stores


def _create_online_channels(company, warehouses, stores):
    Channel = Model.get('omni.channel')
    Shop = Model.get('web.shop')

    shop = Shop(name="优品线上商城 Youpin Mall", currency=company.currency)
    shop.warehouses.append(warehouses['WH'])
    shop.countries.append(company.party.addresses[0].country)
    shop.save()
    mall = Channel(code='MALL', name="优品线上商城 Youpin Mall",
        kind='online', warehouse=warehouses['WH'], web_shop=shop,
        priority=20)
    platform = Channel(code='MEITUAN', name="美团外卖 Meituan Delivery",
        kind='platform', warehouse=stores[0].warehouse, priority=30,
        platform_secret=PLATFORM_SECRETS['MEITUAN'])
    Channel.save([mall, platform])
    return mall, platform


def _catalog_rows(count, rng):
    "Return (category, code, name, price) for count products"
    by_category = [[
            (category, prefix, f"{brand} {item} {spec}", low, high)
            for brand, item, specs, (low, high) in items for spec in specs]
        for category, prefix, items in CATALOG]
    # Take the categories in turn so that a small catalog has them all
    rows = [row for rows in zip_longest(*by_category) for row in rows if row]
    # Repeat the catalog in flavours and pack sizes until it is big enough
    variants = ["", "（新包装）", "（家庭装）", "（促销装）", "（礼盒装）"]
    result = []
    for round_ in range((count + len(rows) - 1) // len(rows)):
        for category, prefix, name, low, high in rows:
            if len(result) == count:
                return result
            price = Decimal(rng.randint(low * 10, high * 10)) / 10
            if round_:
                price = (price * Decimal('1.1') * round_).quantize(
                    Decimal('0.1'))
            name = name + variants[round_ % len(variants)]
            code = f"{prefix}{len(result) + 1:04d}"
            result.append((category, code, name, price))
    return result


def _create_catalog(company, accounts, tax, count, rng, out):
    Category = Model.get('product.category')

    goods = Category(name="商品 Goods", accounting=True)
    goods.account_revenue = accounts['revenue']
    goods.account_expense = accounts['expense']
    goods.customer_taxes.append(tax)
    goods.save()
    categories = {}
    for category, _, _ in CATALOG:
        categories[category] = Category(name=category)
    Category.save(list(categories.values()))

    # The products in the server, by batches: through proteus each field
    # set is a call (its on_change), a quarter of a second a product
    with server_transaction() as pool:
        Category = pool.get('product.category')
        Identifier = pool.get('product.identifier')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        unit, = Uom.search([('name', '=', "Unit")])
        goods = Category(goods.id)
        templates = []
        for category, code, name, price in _catalog_rows(count, rng):
            template = Template(name=name, code=code, type='goods',
                default_uom=unit, salable=True, purchasable=True,
                purchase_uom=unit, account_category=goods,
                categories=[Category(categories[category].id)],
                gross_price=price)
            template.on_change_default_uom()
            # The list price from the gross price, as the form computes it
            template.on_change_gross_price()
            template.products = [Product(identifiers=[Identifier(
                            type='ean',
                            code=ean13(f"69{rng.randrange(10**10):010d}"))])]
            templates.append(template)
        save_in_batches(templates, "products", out)
        product_ids = [p.id for t in templates for p in t.products]
    Product = Model.get('product.product')
    Shop = Model.get('web.shop')
    shop, = Shop.find([])
    Shop.write([shop.id], {
            'categories': [('add', [c.id for c in categories.values()])],
            'products': [('add', product_ids)],
            }, get_config().context)
    return Product.find([('id', 'in', product_ids)], order=[('id', 'ASC')])


@contextmanager
def server_transaction():
    "A transaction on the server as the proteus user, for bulk work"
    config = get_config()
    with Transaction().start(
            config.database_name, config.user, context=config.context):
        yield Pool()


def in_server_transaction(work, rng, extras=None):
    """Return work(pool) run in a server transaction, restarted with the
    locks it asks for as Tryton's dispatcher does.

    The loader is alone on its database: a lock asked for on some rows is
    taken on their whole table, and extras, kept by the caller from one
    transaction to the next, start the following ones with the tables
    locked, so that only the first work restarts (each restart redoes it
    all)."""
    config = get_config()
    extras = {} if extras is None else extras
    state = rng.getstate()
    while True:
        try:
            with Transaction().start(config.database_name, config.user,
                    context=config.context, **extras):
                return work(Pool())
        except TransactionError as error:
            error.fix(extras)
            tables = extras.setdefault('_lock_tables', [])
            for table in extras.pop('_lock_records', {}):
                if table not in tables:
                    tables.append(table)
            rng.setstate(state)


def _stock_warehouses(company, products, warehouses, days, rng, out):
    """Receive every product in every warehouse before the days of sales, a
    few of them short; dairy at Xujiahui partly in lots near expiry"""
    with server_transaction() as pool:
        Location = pool.get('stock.location')
        Move = pool.get('stock.move')
        Product = pool.get('product.product')
        supplier, = Location.search([('code', '=', 'SUP')])
        products = Product.browse([p.id for p in products])
        warehouses = {code: Location(w.id) for code, w in warehouses.items()}
        currency = company.currency.id
        opening = dt.date.today() - dt.timedelta(days=days + 1)
        moves = []
        for code, warehouse in warehouses.items():
            for product in products:
                if rng.random() < 0.05:
                    quantity = rng.choice([1, 2, 3])
                elif code == 'WH':
                    quantity = rng.randint(40, 400)
                else:
                    quantity = rng.randint(8, 80) + days
                moves.append({
                        'product': product.id,
                        'quantity': quantity,
                        'unit': product.default_uom.id,
                        'from_location': supplier.id,
                        'to_location': warehouse.storage_location.id,
                        'unit_price': product.cost_price,
                        'currency': currency,
                        'effective_date': opening,
                        })
        moves += _lots_near_expiry(products, warehouses['S01'], supplier,
            currency, opening)
        moves = Move.create(moves)
        Progress("opening stock moves", len(moves), out).advance(len(moves))
        # The opening stock comes without purchases: a warning to confirm
        with Transaction().set_context(_skip_warnings=True):
            Move.do(moves)


def _lots_near_expiry(products, warehouse, supplier, currency, date):
    "Return the receipts of three dairy lots expiring within days"
    pool = Pool()
    Lot = pool.get('stock.lot')
    dairy = [p for p in products if p.code.startswith('DAI')][:3]
    lots = Lot.create([{
                'number': f'{p.code}-L{i + 1}', 'product': p.id,
                'expiration_date': dt.date.today() + dt.timedelta(days=i + 2),
                } for i, p in enumerate(dairy)])
    return [{
            'product': lot.product.id, 'lot': lot.id, 'quantity': 6,
            'unit': lot.product.default_uom.id,
            'from_location': supplier.id,
            'to_location': warehouse.storage_location.id,
            'unit_price': lot.product.cost_price, 'currency': currency,
            'effective_date': date,
            } for lot in lots]


def _set_channel_prices(platform, products):
    """Meituan sells 8 % above the stores, except beverages, which keep one
    price on every channel (线上线下同价)"""
    Category = Model.get('product.category')
    Channel = Model.get('omni.channel')
    Policy = Model.get('omni.price.policy')
    PriceList = Model.get('product.price_list')
    beverages, = Category.find([('name', '=', "饮料 Beverages")])
    Policy(category=beverages).save()
    prices = PriceList(name="美团加价 Meituan +8%", price='list_price')
    prices.lines.new(category=beverages, formula='unit_price')
    prices.lines.new(formula='unit_price * 1.08')
    prices.save()
    platform = Channel(platform.id)
    platform.price_list = prices
    platform.save()


# Days of sales rung up in one transaction: Tryton's checks and workflows
# cost mostly per call, so a batch of days costs little more than one day
HISTORY_BATCH = 10
# The tables the history's workflows lock (the cash sessions, the stock
# levels, the tills' strict sequences, the members earning points): locked
# from the start, no batch restarts to take them
HISTORY_LOCKS = [
    'sale_point_cash_session', 'omni_stock_level', 'ir_sequence_strict',
    'party_party']


def _sell_history(stores, online, products, days, rng, out):
    """Sell over the past days at every till and online, best sellers more
    often; return the number of till and online sales"""
    # A few products sell most (Zipf), some sit unsold: slow movers
    weights = [1 / (rank + 1) for rank in range(len(products))]
    unsold = set(rng.sample(range(len(products)), len(products) // 10))
    weights = [0 if i in unsold else w for i, w in enumerate(weights)]
    counts = {'till': 0, 'online': 0}
    progress = Progress("days of sales", days, out)
    locks = {'_lock_tables': list(HISTORY_LOCKS)}
    today = dt.date.today()
    dates = [today - dt.timedelta(days=d) for d in range(days, 0, -1)]
    for i in range(0, days, HISTORY_BATCH):
        batch = dates[i:i + HISTORY_BATCH]
        batch_rng = random.Random(rng.random())
        till, online_sales = in_server_transaction(
            lambda pool: _sell_days(
                pool, stores, online, products, weights, batch, batch_rng),
            batch_rng, locks)
        counts['till'] += till
        counts['online'] += online_sales
        progress.advance(len(batch))
    return counts


def _sell_days(pool, stores, online, products, weights, dates, rng):
    """Return the numbers of till and online sales made over dates, each
    day's sales taking what the days before left on the shelves"""
    Channel = pool.get('omni.channel')
    catalog = _singles(pool.get('product.product'), products)
    stores = Channel.browse([s.id for s in stores])
    online = Channel.browse([c.id for c in online])
    available = _available(pool, {c.warehouse for c in stores + online})
    members = _members(pool)
    till_sales, online_sales = [], []
    for date in dates:
        till_sales += _ring_up_tills(pool, stores, catalog, weights,
            available, members, date, rng)
        online_sales += _order_online(pool, online, catalog, weights,
            available, members, date, rng)
    _pay_at_tills(pool, till_sales, rng)
    _deliver_online(pool, online_sales)
    return len(till_sales), len(online_sales)


def _singles(Model, records):
    """Return an instance of Model for each record, read on its own: the
    records of one browse() read every field for the whole list at once,
    again after each write of the transaction, so a line's product would
    compute its prices and taxes for the whole catalog"""
    return [Model(int(r)) for r in records]


def _members(pool):
    Party = pool.get('party.party')
    return _singles(Party, Party.search(
            [('member_number', '!=', None)], limit=200))


def _pick_lines(products, weights, available, rng, count):
    "Return [(product, quantity)] of count lines the stock can serve"
    lines = {}
    for product in rng.choices(products, weights, k=count):
        quantity = rng.choice([1, 1, 1, 2, 3])
        if available.get(product.id, 0) >= quantity and product not in lines:
            available[product.id] -= quantity
            lines[product] = quantity
    return list(lines.items())


def _available(pool, warehouses):
    """Return {warehouse id: {product id: available}} of the stock levels,
    read at once: what the sales of the batch take is kept here"""
    Level = pool.get('omni.stock.level')
    table = Level.__table__()
    cursor = Transaction().connection.cursor()
    warehouse_ids = sorted(w.id for w in warehouses)
    cursor.execute(*table.select(table.warehouse, table.product,
            Level._available_column(table),
            where=table.warehouse.in_(warehouse_ids)))
    available = {w: {} for w in warehouse_ids}
    for warehouse, product, quantity in cursor:
        available[warehouse][product] = quantity
    return available


def _ring_up_tills(pool, stores, products, weights, available, members,
        date, rng):
    "Return a day of sales rung up at each store's till, some for members"
    Sale = pool.get('sale.point.sale')
    Line = pool.get('sale.point.sale.line')
    sales = []
    for store in stores:
        for _ in range(rng.randint(3, 6)):
            sale = Sale(point=store.sale_point, date=date,
                company=store.company,
                member=rng.choice(members) if rng.random() < 0.4 else None)
            sale.lines = []
            for product, quantity in _pick_lines(
                    products, weights, available[store.warehouse.id], rng,
                    rng.randint(1, 4)):
                line = Line(sale=sale, product=product, quantity=quantity)
                line.on_change_product()
                sale.lines += (line,)
            if sale.lines:
                sales.append(sale)
    return sales


def _pay_at_tills(pool, sales, rng):
    "Pay the till sales in cash, card, WeChat Pay or Alipay"
    Method = pool.get('sale.point.payment.method')
    Payment = pool.get('sale.point.payment')
    Sale = pool.get('sale.point.sale')
    methods = Method.search([
            ('omni_ledger', '=', None),
            ('omni_online', '=', False),
            ])
    Sale.save(sales)
    Payment.save([Payment(sale=s, method=rng.choice(methods),
                amount=s.amount_to_pay) for s in sales])
    Sale.process(sales)


def _order_online(pool, channels, products, weights, available, members,
        date, rng):
    "Return a day of mall and Meituan orders"
    Channel = pool.get('omni.channel')
    Sale = pool.get('sale.sale')
    Line = pool.get('sale.line')
    sales = []
    for channel in channels:
        store = Channel.search([
                ('kind', '=', 'store'),
                ('warehouse', '=', channel.warehouse.id),
                ], limit=1)
        for _ in range(rng.randint(1, 2)):
            sale = Sale(party=rng.choice(members), omni_channel=channel,
                sale_date=date, company=channel.company,
                warehouse=channel.warehouse,
                fulfilment='store_delivery' if store else 'express',
                omni_store=store[0] if store else None)
            sale.on_change_party()
            sale.on_change_omni_channel()
            # Customers order what is in stock: once the best sellers run
            # short, pick again rather than leave a channel a day unsold
            for _ in range(10):
                lines = _pick_lines(products, weights,
                    available[channel.warehouse.id], rng, rng.randint(1, 3))
                if lines:
                    break
            sale.lines = [Line(sale=sale, type='line', product=p, quantity=q)
                for p, q in lines]
            for line in sale.lines:
                line.on_change_product()
            if sale.lines:
                sales.append(sale)
    return sales


def _deliver_online(pool, sales):
    """Ship and deliver the online orders from the store or warehouse of
    their channel, each on its day"""
    Sale = pool.get('sale.sale')
    Shipment = pool.get('stock.shipment.out')
    Sale.save(sales)
    Sale.quote(sales)
    Sale.confirm(sales)
    Sale.process(sales)
    sales = Sale.browse(sales)
    shipments = [s for sale in sales for s in sale.shipments]
    Shipment.wait(shipments)
    Shipment.assign_force(shipments)
    Shipment.pick(shipments)
    Shipment.pack(shipments)
    by_date = {}
    for sale in sales:
        by_date.setdefault(sale.sale_date, []).extend(sale.shipments)
    for date, day_shipments in by_date.items():
        Shipment.write(day_shipments, {'effective_date': date})
    Shipment.do(shipments)
    Sale.set_o2o_state(sales, 'delivered')


def _set_stock_thresholds(products):
    """Keep every category between 5 and 75 units a store; return the
    number of stock alerts this opens; supply the stores from their sales"""
    Threshold = Model.get('omni.stock.threshold')
    categories = {c for p in products for c in p.template.categories}
    Threshold.save([Threshold(category=c, minimum=5, maximum=75)
            for c in categories])
    with server_transaction() as pool:
        alerts = pool.get('omni.stock.alert').compute()
        pool.get('omni.stock.replenishment').replenish()
        return alerts


def _create_customers(count, duplicates, rng, out):
    "Create customers whose mobiles are typed as people type them"
    numbers = mobile_numbers(rng, count - duplicates)
    # Some customers signed up twice, in another format, at another channel
    numbers += [rng.choice(numbers[:count // 2]) for _ in range(duplicates)]
    with server_transaction() as pool:
        Country = pool.get('country.country')
        Party = pool.get('party.party')
        china, = Country.search([('code', '=', 'CN')])
        parties = []
        for i, number in enumerate(numbers):
            parties.append({
                    'name': rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
                    'addresses': [('create', [{
                                    'street': (
                                        f"{rng.choice(DISTRICTS)}"
                                        f"{rng.choice(STREETS)} "
                                        f"{rng.randint(1, 2000)} 号"),
                                    'city': "上海",
                                    'postal_code': (
                                        f"200{rng.randint(0, 99):03d}"),
                                    'country': china.id,
                                    }])],
                    'contact_mechanisms': [('create', [{
                                    'type': 'mobile',
                                    'value': PHONE_FORMATS[
                                        i % len(PHONE_FORMATS)](number),
                                    }])],
                    })
        progress = Progress("customers", len(parties), out)
        for i in range(0, len(parties), 100):
            progress.advance(len(Party.create(parties[i:i + 100])))
    return numbers


def _enrol_members(phones, out):
    "Enrol three customers in five as members, at the stores and the mall"
    channels = ['S01', 'S02', 'S03', 'MALL', 'S01']
    numbers = sorted(set(phones))
    enrolled = numbers[:len(numbers) * 3 // 5]
    with server_transaction() as pool:
        Member = pool.get('omni.member')
        progress = Progress("members", len(enrolled), out)
        for i, number in enumerate(enrolled):
            Member.register(number, None, channels[i % len(channels)])
            progress.advance()
    return len(enrolled)


LEVELS = [
    # name, 12-month spend, discount, points multiplier
    ("普通会员 Regular", 0, '0', '1'),
    ("银卡 Silver", 2000, '0.05', '1.2'),
    ("金卡 Gold", 5000, '0.10', '1.5'),
    ("钻石 Diamond", 20000, '0.15', '2'),
    ]
TOP_UP_BONUSES = [(500, 30), (1000, 100), (2000, 250)]


def _set_up_member_ledgers(company, accounts, tax, out):
    """Levels, points and stored value as a chain runs them, with the
    balances members brought from the previous system"""
    Account = Model.get('account.account')
    AccountType = Model.get('account.account.type')
    Bonus = Model.get('omni.member.top_up.bonus')
    Category = Model.get('product.category')
    Configuration = Model.get('omni.member.configuration')
    Level = Model.get('omni.member.level')
    PaymentMethod = Model.get('sale.point.payment.method')
    Template = Model.get('product.template')
    Uom = Model.get('product.uom')

    Level.save([Level(name=name, threshold=Decimal(threshold),
                discount_rate=Decimal(discount),
                points_multiplier=Decimal(multiplier))
            for name, threshold, discount, multiplier in LEVELS])
    Bonus.save([Bonus(minimum=Decimal(minimum), bonus=Decimal(bonus))
            for minimum, bonus in TOP_UP_BONUSES])

    liability_type = AccountType(name="会员储值 Member Stored Value",
        statement='balance', company=company, omni_stored_value=True,
        parent=accounts['payable'].type.parent)
    liability_type.save()
    liability = Account(name="会员储值 Member Stored Value", code='2203',
        type=liability_type)
    liability.save()
    services = Category(name="会员服务 Member Services", accounting=True,
        account_revenue=accounts['revenue'],
        account_expense=accounts['expense'])
    services.save()
    unit, = Uom.find([('name', '=', "Unit")])
    products = {}
    for code, name in [('TOPUP', "储值充值 Stored Value Top-Up"),
            ('POINTS', "积分抵扣 Points Redemption")]:
        template = Template(name=name, code=code, type='service',
            default_uom=unit, salable=True, account_category=services)
        template.gross_price = Decimal(1)
        template.save()
        products[code], = template.products

    config = Configuration(1)
    config.points_product = products['POINTS']
    config.top_up_product = products['TOPUP']
    config.stored_value_account = liability
    config.top_up_bonus_account = accounts['expense']
    config.save()
    PaymentMethod.save([
            PaymentMethod(name="储值 Stored Value", account=liability,
                omni_ledger='stored_value'),
            PaymentMethod(name="积分 Points", account=accounts['expense'],
                omni_ledger='points'),
            ])
    _open_member_balances(out)


def _open_member_balances(out):
    """Import, as a migration would, the points of one member in three and
    the stored value of half of them"""
    with server_transaction() as pool:
        Party = pool.get('party.party')
        Points = pool.get('omni.member.points')
        StoredValue = pool.get('omni.member.stored_value')
        members = Party.search([('member_number', '!=', None)],
            order=[('member_number', 'ASC')])[::3]
        reason = "期初余额 Opening balance"
        Points.save([Points(member=m, kind='adjust', reason=reason,
                    points=100 * (i % 25 + 1))
                for i, m in enumerate(members)])
        StoredValue.save([StoredValue(member=m, kind='adjust', reason=reason,
                    amount=Decimal(50 * (i % 20 + 1)))
                for i, m in enumerate(members) if i % 2])
        Progress("opening balances", len(members), out).advance(len(members))


def _create_campaigns(company, stores, phones):
    """双十一 10 % off everywhere, its codes given to members; 满 100 减 20 in
    the Xujiahui store; return the codes of the first members"""
    config = get_config()
    Channel = Model.get('omni.channel')
    Coupon = Model.get('omni.coupon')
    Promotion = Model.get('sale.promotion')
    today = dt.date.today()
    double11 = Promotion(name="双十一 Double 11", omni_code='D11',
        omni_discount_kind='percent', omni_discount=Decimal(10),
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=60))
    double11.save()
    store_deal = Promotion(name="满100减20 Spend 100 save 20",
        omni_code='S01-100-20', omni_scope='stores',
        omni_discount_kind='amount', omni_discount=Decimal(20),
        amount=Decimal(100), currency=company.currency, omni_per_member=0,
        omni_budget=500)
    store_deal.omni_stores.append(Channel(stores[0].id))
    store_deal.save()
    for campaign, count in [(double11, 200), (store_deal, 100)]:
        generate = Wizard('omni.coupon.generate', [campaign])
        generate.form.count = count
        generate.execute('generate')
    return [Coupon.issue('D11', phone, config.context) for phone in phones[:20]]


def _best_stocked(products):
    """Return the codes of the products, the best stocked at once at Xujiahui
    and the central warehouse first: after 90 days of sales the best
    sellers are gone"""
    Level = Model.get('omni.stock.level')
    available = {}
    for level in Level.find([('warehouse.code', 'in', ['S01', 'WH'])]):
        code = level.product.code
        available[code] = min(available.get(code, level.available),
            level.available)
    return sorted((p.code for p in products),
        key=lambda c: (-available.get(c, 0), c))


def _place_online_orders(products, phones, coupons):
    """Orders from the mall and Meituan, as their systems send them: pickups
    waiting at Xujiahui (the first with a 双十一 coupon), deliveries from the
    nearest store, an express"""
    config = get_config()
    Order = Model.get('omni.order')
    codes = _best_stocked(products)
    payloads = [
        ('MALL', 'pickup', {'store': 'S01'}),
        ('MALL', 'pickup', {'store': 'S01'}),
        ('MALL', 'store_delivery', {'address': {
                    'street': "天钥桥路 30 号", 'city': "上海",
                    'latitude': '31.1880', 'longitude': '121.4360'}}),
        ('MEITUAN', 'store_delivery', {'address': {
                    'street': "浦东南路 360 号", 'city': "上海",
                    'latitude': '31.2350', 'longitude': '121.5120'}}),
        ('MALL', 'express', {}),
        ]
    numbers = []
    for i, (channel, fulfilment, extra) in enumerate(payloads):
        order = Order.place({
                'channel': channel, 'reference': f'{channel}-2026{i:04d}',
                'member_phone': phones[i], 'fulfilment': fulfilment,
                'lines': [{'product': codes[(7 * i + j) % len(codes)],
                        'quantity': 1 + j} for j in range(2)],
                'coupons': coupons[:1] if i == 0 else [],
                **extra}, config.context)
        numbers.append(order['number'])
    return numbers


def _take_returns():
    """Customers bring goods back: a Meituan delivery of the last days at
    Lujiazui, refunded to stored value; a Xujiahui till receipt at its till,
    refunded the way it was paid"""
    config = get_config()
    Channel = Model.get('omni.channel')
    Order = Model.get('omni.order')
    Sale = Model.get('sale.sale')
    TillSale = Model.get('sale.point.sale')
    latest = [('id', 'DESC')]
    xujiahui, = Channel.find([('code', '=', 'S01')])
    delivered, = Sale.find([
            ('omni_channel.code', '=', 'MEITUAN'),
            ('o2o_state', '=', 'delivered'),
            ], order=latest, limit=1)
    receipt, = TillSale.find([
            ('point', '=', xujiahui.sale_point.id),
            ('state', '=', 'done'),
            ('omni_return_of', '=', None),
            ('lines.product.type', '=', 'goods'),
            ], order=latest, limit=1)
    returns = []
    for order, store, reason, refund_to in [
            (delivered, 'S02', 'quality', 'stored_value'),
            (receipt, 'S01', 'not_wanted', 'original')]:
        line = next(l for l in order.lines
            if l.product and l.product.type == 'goods')
        returns.append(Order.return_goods(order.number, store,
                [{'product': line.product.code, 'quantity': 1,
                        'reason': reason}],
                refund_to, config.context)['number'])
    return returns


def _group_ids(*xml_ids):
    config = get_config()
    ModelData = Model.get('ir.model.data')
    return [ModelData.get_id(x, config.context) for x in xml_ids]


def _create_users(company, stores):
    Company = Model.get('company.company')
    Employee = Model.get('company.employee')
    Group = Model.get('res.group')
    Lang = Model.get('ir.lang')
    Party = Model.get('party.party')
    User = Model.get('res.user')

    chinese, = Lang.find([('code', '=', 'zh_CN')])
    if not chinese.translatable:
        chinese.click('load_translations')
    manager_groups = _group_ids(
        'omni_retail.group_omni_manager', 'omni_retail.group_omni_store',
        'sale.group_sale_admin', 'sale.group_sale',
        'stock.group_stock_admin', 'stock.group_stock',
        'sale_point.group_sale_point', 'sale_point.group_sale_point_posting',
        'product.group_product_admin', 'party.group_party_admin',
        'account.group_account')
    cashier_groups = _group_ids(
        'omni_retail.group_omni_store', 'sale_point.group_sale_point')

    def staff(login, name, groups, password, store=None, language=None):
        employee = Employee(party=Party(name=name), company=company)
        employee.party.save()
        employee.save()
        user = User(login=login, name=name, password=password,
            language=language, omni_store=store)
        user.groups.extend(Group(g) for g in groups)
        user.companies.append(Company(company.id))
        user.company = company
        user.employees.append(employee)
        user.employee = employee
        return user

    users = [staff('manager', "王建国 (区域经理 Area Manager)",
            manager_groups, PASSWORDS['manager'])]
    for i, (spec, store) in enumerate(zip(STORES, stores), 1):
        users.append(staff(f'cashier{i}',
                f"{spec.cashier} (收银员 Cashier, {store.code})",
                cashier_groups, PASSWORDS['cashier'], store=store,
                language=chinese))
    User.save(users)
    admin, = User.find([('login', '=', 'admin')])
    admin.companies.append(Company(company.id))
    admin.company = company
    admin.save()
    return [(u.login, PASSWORDS['admin' if u.login == 'admin' else
                u.login.rstrip('0123456789')], u.name)
        for u in [admin] + users]


def _create_integrator(company, mall):
    """The mall's integrator user and its API key; return its login row"""
    Key = Model.get('res.user.application')
    Method = Model.get('omni.api.method')
    User = Model.get('res.user')
    Group = Model.get('res.group')
    user = User(login='mall_api', name="优品线上商城接口 Mall API")
    user.groups.extend(
        Group(g) for g in _group_ids('omni_retail.group_omni_integrator'))
    user.companies.append(company)
    user.company = company
    user.save()
    key = Key(application='omni_api', user=user, omni_channel=mall,
        key=DEMO_API_KEY)
    for model, method in MALL_API_METHODS:
        record, = Method.find([('model', '=', model), ('method', '=', method)])
        key.omni_methods.append(Method(record.id))
    key.save()
    return (user.login, f"API key {DEMO_API_KEY}", user.name)


def _close_configuration_wizard():
    "Mark the first-login configuration steps done: the demo is set up"
    Item = Model.get('ir.module.config_wizard.item')
    items = Item.find([('state', '=', 'open')])
    for item in items:
        item.state = 'done'
    Item.save(items)
