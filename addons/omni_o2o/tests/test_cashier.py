# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The cashier page's texts: the modules' messages, translated in their .po
files, served before any login"""
import re
from urllib.parse import quote

from trytond.tests.test_tryton import RouteTestCase

from omni_o2o.cashier import FOLDER


class CashierTextsTestCase(RouteTestCase):
    "Cashier page texts"
    module = 'omni_o2o'

    def texts(self, language):
        response = self.client().get(
            f'/{quote(self.db_name)}/omni/pos/texts?language={language}')
        self.assertEqual(response.status_code, 200)
        return response.get_json()

    def test_every_text_of_the_page(self):
        "Every text the page shows is a message of the server"
        script = (FOLDER / 'cashier.js').read_text()
        used = set(re.findall(r"\bt\('(\w+)'", script))
        texts = self.texts('en')
        self.assertGreater(len(used), 40)
        self.assertEqual(used - set(texts), set())
        self.assertEqual(texts['title'], "Cashier")
        self.assertEqual(texts['sale_done'], "Sale %(number)s paid")

    def test_unknown_language(self):
        "A language the database does not have answers in English"
        self.assertEqual(self.texts('xx')['login'], "Log in")
