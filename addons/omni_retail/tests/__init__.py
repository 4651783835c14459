# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from .tools import (
    RaceTestCase, TranslationTestMixin, at_once, create_goods, create_mall,
    create_store, create_till_chain, receive, run_committed, run_dispatched,
    run_scenario, scenarios, set_company_country, warnings_confirmed)

__all__ = [
    'RaceTestCase', 'TranslationTestMixin', 'at_once', 'create_goods',
    'create_mall', 'create_store', 'create_till_chain', 'receive',
    'run_committed', 'run_dispatched', 'run_scenario', 'scenarios',
    'set_company_country', 'warnings_confirmed']
