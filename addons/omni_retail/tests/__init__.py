# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from .tools import (
    TranslationTestMixin, at_once, create_goods, create_mall, create_store,
    create_till_chain,
    receive, run_committed, run_dispatched, set_company_country,
    run_scenario, scenarios, warnings_confirmed)

__all__ = [
    'TranslationTestMixin', 'at_once', 'create_goods', 'create_mall', 'create_store',
    'create_till_chain', 'receive',
    'run_committed', 'run_dispatched', 'run_scenario', 'scenarios', 'set_company_country',
    'warnings_confirmed']
