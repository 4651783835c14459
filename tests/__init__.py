# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.

# The product's leaf modules (sorted): activating them activates them all
PRODUCT_MODULES = ['omni_analytics', 'omni_o2o']
