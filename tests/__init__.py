# This file is part of omni-retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.

# The product's leaf modules, sorted: every module is reached from them
PRODUCT_MODULES = [
    'omni_after_sales', 'omni_analytics', 'omni_coupon', 'omni_platform',
    'omni_return']
