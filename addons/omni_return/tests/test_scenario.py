# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import pytest

from omni_retail.tests import run_scenario, scenarios


@pytest.mark.parametrize('scenario', scenarios(__file__))
def test_scenario(scenario):
    run_scenario(__name__, __file__, scenario)
