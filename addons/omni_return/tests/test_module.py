# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from omni_retail.tests import TranslationTestMixin
from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase


class OmniReturnTestCase(
        TranslationTestMixin, CompanyTestMixin, ModuleTestCase):
    "Test omni_return module"
    module = 'omni_return'


del ModuleTestCase
