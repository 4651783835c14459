# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The demo web client in real headless Chromium (Debian's chromium).

Environment (defaults in brackets):
    OMNI_BROWSER_DB    the demo database [omni_browser]
    OMNI_BROWSER_PORT  the server's port [8010]
    OMNI_BROWSER_DEMO  'small' loads the small demo (demo.py --small) [full]
    OMNI_BROWSER_REUSE '1' keeps the database if it holds the demo, for quick
                       runs while developing (a run changes its orders) [0]
"""
import json
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.request
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from xmlrpc.client import ServerProxy

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'scripts'))

from demo_data import PASSWORDS, PLATFORM_SECRETS  # noqa: E402

from omni_platform.platform import signed_headers  # noqa: E402

# its own demo chain, made anew each run
DATABASE = os.environ.get('OMNI_BROWSER_DB') or 'omni_browser'
PORT = int(os.environ.get('OMNI_BROWSER_PORT') or 8010)
SMALL_DEMO = os.environ.get('OMNI_BROWSER_DEMO') == 'small'
REUSE = os.environ.get('OMNI_BROWSER_REUSE') == '1'
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')


class TextParser(HTMLParser):
    "The text of an HTML page, one string per element, style left out"

    def __init__(self):
        super().__init__()
        self.texts, self.skip = [], False

    def handle_starttag(self, tag, attrs):
        self.skip = tag in {'style', 'script', 'title'}

    def handle_endtag(self, tag):
        self.skip = False

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.texts.append(' '.join(data.split()))


def html_text(html):
    parser = TextParser()
    parser.feed(html)
    return parser.texts


def wait_for_port(port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(('127.0.0.1', port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port}")


@unittest.skipUnless(os.path.exists(CHROMIUM) or os.environ.get('CI'),
    f"{CHROMIUM} is not installed")
class WebClientTestCase(unittest.TestCase):
    "Staff log into the demo web client and find the chain's channels"

    @classmethod
    def setUpClass(cls):
        env = dict(os.environ,
            TRYTOND_DATABASE__PATH=str(ROOT / 'var'))
        env.pop('TRYTOND_DATABASE__URI', None)
        subprocess.run([sys.executable, str(ROOT / 'scripts' / 'demo.py'),
                '--database', DATABASE,
                *([] if REUSE else ['--reset']),
                *(['--small'] if SMALL_DEMO else [])],
            check=True, env=env, cwd=ROOT)
        env['TRYTOND_WEB__LISTEN'] = f'127.0.0.1:{PORT}'
        log = open(ROOT / 'var' / 'browser-trytond.log', 'w')
        cls.server = subprocess.Popen(
            [str(Path(sys.executable).parent / 'trytond'),
                '-c', str(ROOT / 'trytond.conf'), '-d', DATABASE],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        cls.addClassCleanup(log.close)
        cls.addClassCleanup(cls.server.wait, 10)
        cls.addClassCleanup(cls.server.terminate)
        wait_for_port(PORT)

    def sao(self, script, user, password, menu, **env):
        "Run the sao script as user on the menu's list; return its report"
        shot = ROOT / 'var' / f'browser-{user}-{Path(script).stem}.png'
        result = subprocess.run(
            ['node', str(ROOT / 'tests' / 'browser' / script)],
            env=dict(os.environ, SAO_URL=f'http://127.0.0.1:{PORT}/',
                SAO_DB=DATABASE, SAO_USER=user, SAO_PASS=password,
                SAO_MENU=menu, SAO_SHOT=str(shot), CHROMIUM=CHROMIUM, **env),
            cwd=ROOT, capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0,
            msg=f"{result.stdout}\n{result.stderr}\nscreenshot: {shot}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def open_list(self, user, password, menu):
        return self.sao('sao_open_list.js', user, password, menu)

    def test_cashier_sees_channels_in_chinese(self):
        "A store cashier logs in and opens 全渠道零售 / 渠道 (Channels)"
        page = self.open_list('cashier1', PASSWORDS['cashier'], "全渠道零售/渠道")
        self.assertEqual(page['errors'], [])
        kinds = {row["编码"]: row["类型"] for row in page['rows']}
        self.assertEqual(kinds, {
                'S01': "门店", 'S02': "门店", 'S03': "门店",
                'MALL': "线上商城", 'MEITUAN': "外卖平台",
                })

    def test_cashier_sees_stock_of_own_store(self):
        "A cashier's 门店库存 (Stock by Store) lists their store's stock only"
        page = self.open_list(
            'cashier1', PASSWORDS['cashier'], "全渠道零售/门店库存")
        self.assertEqual(page['errors'], [])
        self.assertGreaterEqual(len(page['rows']), 20)  # the first screen
        self.assertEqual({row["仓库"] for row in page['rows']},
            {"[S01] 徐家汇店 Xujiahui"})
        for row in page['rows']:
            on_hand, reserved, available = (
                float(row[c].split()[0]) for c in ["在库", "预占", "可用库存"])
            self.assertEqual(available, on_hand - reserved)

    def test_cashier_sees_members_masked(self):
        "A cashier's 会员 (Members) list shows phones masked, with balances"
        page = self.open_list('cashier1', PASSWORDS['cashier'], "全渠道零售/会员")
        self.assertEqual(page['errors'], [])
        self.assertGreaterEqual(len(page['rows']), 20)
        for row in page['rows']:
            self.assertRegex(row["会员手机"], r'^\+86 1\d\d\*{4}\d{4}$')
            self.assertRegex(row["会员号"], r'^M\d{8}$')
        self.assertTrue(any(row["积分"] not in ('', '0')
                for row in page['rows']))

    def test_store_user_marks_pickup_ready(self):
        "A cashier sees the new orders' alerts and marks a pickup ready"
        page = self.sao('sao_ready_order.js', 'cashier1', PASSWORDS['cashier'],
            "全渠道零售/门店订单", SAO_READY="待取货", SAO_RESERVED="已预占",
            SAO_STATE="订单状态")
        self.assertEqual(page['errors'], [])
        self.assertGreaterEqual(int(page['badge'].rstrip('+')), 2)
        # the To Do tab: the orders waiting for the store
        self.assertEqual({row["订单状态"] for row in page['before']},
            {"已预占"})
        self.assertIn("待取货", {row["订单状态"] for row in page['after']})

    def rpc(self):
        "Return an XML-RPC proxy of the demo server, as its administrator"
        return ServerProxy(f'http://admin:{PASSWORDS["admin"]}@127.0.0.1:'
            f'{PORT}/{DATABASE}/rpc/', allow_none=True)

    def cashier_customer(self, server, context):
        """Return three goods well stocked at Xujiahui and a member with
        stored value holding a fresh 双十一 coupon"""
        levels = server.model.omni.stock.level.search_read([
                ('warehouse.code', '=', 'S01'),
                ('product.type', '=', 'goods'),
                ('on_hand', '>=', 10),
                ], 0, 3, [('on_hand', 'DESC'), ('id', 'ASC')],
            ['product.code', 'on_hand'], context)
        codes = [l['product.']['code'] for l in levels]
        for party in server.model.party.party.search_read([
                    ('member_number', '!=', None),
                    ], 0, 200, None, ['phone_key'], context):
            member = server.model.omni.member.lookup(
                party['phone_key'], context)
            if Decimal(member['balance']) >= 20:
                break
        code = server.model.omni.coupon.issue(
            'D11', member['phone'], context)
        return codes, member, code

    def store_levels(self, server, codes, context):
        return {l['product.']['code']: l['on_hand']
            for l in server.model.omni.stock.level.search_read([
                    ('warehouse.code', '=', 'S01'),
                    ('product.code', 'in', codes),
                    ], 0, None, None, ['product.code', 'on_hand'], context)}

    def test_cashier_rings_up_a_sale(self):
        """A cashier rings up 3 goods for a member with a coupon, paid with
        stored value and cash, and prints the receipt"""
        server = self.rpc()
        context = server.model.res.user.get_preferences(True, {})
        codes, member, coupon = self.cashier_customer(server, context)
        before = self.store_levels(server, codes, context)
        pdf = ROOT / 'var' / 'browser-cashier-receipt.pdf'
        page = self.sao('cashier_sale.js', 'cashier1', PASSWORDS['cashier'],
            '', CASHIER_CODES=','.join(codes), CASHIER_PHONE=member['phone'],
            CASHIER_COUPON=coupon, CASHIER_STORED='10', CASHIER_PDF=str(pdf),
            CASHIER_SHOTS=str(ROOT / 'var'))
        self.assertEqual(page['errors'], [])
        self.assertTrue(page['reload_kept'])
        self.assertIn("网络中断", page['offline'])
        self.assertTrue(page['offline_kept'])
        (ROOT / 'var' / 'browser-cashier-timings.json').write_text(
            json.dumps({k: page[k] for k in ['scan_ms', 'paid_ms', 'timings']}))

        sale, = server.model.sale.point.sale.search_read([
                ('number', '=', page['sale']),
                ], 0, None, None, ['state', 'total', 'member'], context)
        self.assertEqual(sale['state'], 'done')
        self.assertEqual(sale['member'], member['id'])
        self.assertEqual(str(sale['total']), page['total'])
        after = self.store_levels(server, codes, context)
        self.assertEqual({c: before[c] - after[c] for c in codes},
            {codes[0]: 1, codes[1]: 1, codes[2]: 2})
        now = server.model.omni.member.lookup(member['phone'], context)
        self.assertEqual(Decimal(member['balance']) - Decimal(now['balance']),
            Decimal('10.00'))
        self.assertGreater(int(now['points']), int(member['points']))
        check = server.model.omni.coupon.check(
            coupon, 'S01', member['phone'], context)
        self.assertFalse(check['valid'])
        self.assertEqual(Decimal(page['change']),
            Decimal(page['tendered']) - (Decimal(page['total'])
                - Decimal('10')))
        self.assertIn(page['sale'], page['receipt'])
        self.assertGreater(page['barcode'], 10)
        self.assertTrue(pdf.read_bytes().startswith(b'%PDF'))
    def platform(self, path, body=b'', method='POST', code='MEITUAN'):
        "Call the platform webhook as Meituan does, signed; return its JSON"
        request = urllib.request.Request(
            f'http://127.0.0.1:{PORT}/{DATABASE}/omni/platform/{code}/{path}',
            data=body if method == 'POST' else None, method=method,
            headers={
                **signed_headers(PLATFORM_SECRETS[code], body),
                'Content-Type': 'application/json',
                })
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def platform_order(self, reference, lines):
        return self.platform('order', json.dumps({
                    'order_id': reference,
                    'customer': {'phone': '13900139001', 'name': "陈静"},
                    'address': {'street': "漕溪北路 100 号", 'city': "上海"},
                    'lines': [{'sku': sku, 'quantity': quantity}
                        for sku, quantity in lines],
                    }).encode())

    def test_store_hears_new_platform_orders(self):
        """Meituan orders for S01 arrive while its cashier is logged in:
        each is chimed and spoken once, shows in the open list, and its pick
        slip prints"""
        products = self.platform('availability', method='GET')['products']
        skus = sorted(products, key=lambda c: (-products[c], c))[:3]
        self.assertTrue(all(products[c] >= 2 for c in skus), products)
        shot = ROOT / 'var' / 'browser-cashier1-sao_new_order.png'
        node = subprocess.Popen(
            ['node', str(ROOT / 'tests' / 'browser' / 'sao_new_order.js')],
            env=dict(os.environ, SAO_URL=f'http://127.0.0.1:{PORT}/',
                SAO_DB=DATABASE, SAO_USER='cashier1',
                SAO_PASS=PASSWORDS['cashier'], SAO_MENU="全渠道零售/门店订单",
                SAO_SLIP="拣货单", SAO_SHOT=str(shot), CHROMIUM=CHROMIUM),
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.addCleanup(node.kill)
        ready = node.stdout.readline()
        self.assertEqual(ready.strip(), 'READY',
            msg=f"{ready}{node.stderr.read() if node.poll() is not None else ''}"
            f"\nscreenshot: {shot}")
        # Two orders at once, as a busy lunch hour brings them
        stamp = int(time.time() * 1000)
        orders = [
            self.platform_order(f'MT-ALERT-{stamp}-1',
                [(skus[0], 1), (skus[1], 2)]),
            self.platform_order(f'MT-ALERT-{stamp}-2', [(skus[2], 1)]),
            ]
        for order in orders:
            self.assertEqual((order['store'], order['state']),
                ('S01', 'reserved'), order)
        numbers = [o['number'] for o in orders]
        stdout, stderr = node.communicate(json.dumps(numbers) + '\n',
            timeout=150)
        self.assertEqual(node.returncode, 0,
            msg=f"{stdout}\n{stderr}\nscreenshot: {shot}")
        page = json.loads(stdout.strip().splitlines()[-1])
        (ROOT / 'var' / 'browser-pick-slip.html').write_text(page['slip'])
        (ROOT / 'var' / 'browser-new-order.json').write_text(json.dumps(
                {k: v for k, v in page.items() if k != 'slip'},
                ensure_ascii=False, indent=1))
        self.assertEqual(page['errors'], [])

        # Chimed, and each order spoken once, in the cashier's Chinese
        self.assertGreaterEqual(page['tones'], 1)
        # the login's clicks unlocked the sound
        self.assertIn('running', page['audio'])
        for number in numbers:
            spoken = [s for s in page['spoken'] if number in s['text']]
            self.assertEqual(spoken, [{
                        'text': f"新的外卖订单，订单号 {number}。",
                        'lang': 'zh-CN'}], page['spoken'])
            self.assertIn(f"新的外卖订单，订单号 {number}。", page['banners'])
        # In the store's list at once
        listed = {text for row in page['rows'] for text in row.values()}
        self.assertLessEqual(set(numbers), listed)

        # The pick slip of the first order: its number and product lines
        self.assertTrue(page['file'].endswith('.html'), page['file'])
        slip = html_text(page['slip'])
        self.assertIn("拣货单", slip)
        self.assertIn(numbers[0], slip)
        self.assertIn("[S01] 徐家汇店 Xujiahui", slip)
        self.assertTrue(any("美团外卖" in t for t in slip), slip)
        self.assertIn("门店配送", slip)
        self.assertTrue(any("+86 139****9001" in t for t in slip), slip)
        self.assertNotIn("13900139001", page['slip'])
        for line in orders[0]['lines']:
            code = line['product']
            index = slip.index(code)
            self.assertRegex(slip[index + 2], rf"^{line['quantity']:g}\b",
                slip)
