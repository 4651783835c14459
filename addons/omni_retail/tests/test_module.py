# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase

from .tools import TranslationTestMixin


class OmniRetailTestCase(
        TranslationTestMixin, CompanyTestMixin, ModuleTestCase):
    "Test Omni Retail module"
    module = 'omni_retail'


del ModuleTestCase
