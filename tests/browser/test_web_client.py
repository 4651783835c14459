# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The demo web client in real headless Chromium (Debian's chromium)."""
import json
import os
import socket
import subprocess
import sys
import time
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'scripts'))

from demo_data import PASSWORDS  # noqa: E402

DATABASE = 'omni_browser'  # its own demo chain, made anew each run
PORT = 8010
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')


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
                '--database', DATABASE, '--reset'], check=True, env=env,
            cwd=ROOT)
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
        self.assertEqual({row["订单状态"] for row in page['before']},
            {"已预占"})
        self.assertIn("待取货", {row["订单状态"] for row in page['after']})
